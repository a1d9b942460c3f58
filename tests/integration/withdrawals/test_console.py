"""The approval page: decoded intent and digest, an external script (strict CSP), and what
the script does (ask for the approval challenge, sign it, post it with the CSRF token)
really approves."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from webauthn.helpers import base64url_to_bytes

from kinko.identity.sessions import COOKIE_NAME
from kinko.server import create_app
from kinko.signer.bundle import b64url
from tests.integration.withdrawals.exchange import RECIPIENT, Exchange
from tests.support.identity import make_token, sign_in

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


@pytest.fixture
def api(exchange: Exchange) -> TestClient:
    app = create_app(exchange.ctx, services=exchange.services)
    return TestClient(app, base_url="https://testserver")


def attribute(html: str, name: str) -> str:
    found = re.search(rf'{name}="([^"]*)"', html)
    assert found is not None, name
    return found.group(1)


def test_approval_page_script_approves_over_the_challenge(
    exchange: Exchange, api: TestClient
) -> None:
    ex = exchange
    creator = make_token(ex.ctx, roles_or_permissions=["withdrawals:create"])
    wd = api.post(
        "/v1/withdrawals",
        json={"asset": "ETH", "amount": "2", "destination": RECIPIENT},
        headers={"Authorization": f"Bearer {creator}", "Idempotency-Key": "k-page-js"},
    ).json()
    bob = ex.users["bob"][1]
    assert bob is not None
    cookie, csrf = sign_in(ex.ctx, "bob", bob)
    api.cookies.set(COOKIE_NAME, cookie)
    page = api.get(f"/console/withdrawals/{wd['id']}")
    assert page.status_code == 200
    html = page.text
    assert "script-src 'nonce-" in page.headers["content-security-policy"]
    assert wd["digest"] in html and RECIPIENT in html and str(2 * 10**18) in html
    scripts = [  # the page's scripts (the layout's words are data: kinko.web.script_words)
        (attrs, body)
        for attrs, body in re.findall(r"<script([^>]*)>(.*?)</script>", html, flags=re.S)
        if 'type="application/json"' not in attrs
    ]
    assert scripts and all('src="' in attrs and not body.strip() for attrs, body in scripts)
    assert any("/console/static/approve.js" in attrs for attrs, _ in scripts)
    assert attribute(html, "data-digest") == wd["digest"]
    assert attribute(html, "data-csrf") == csrf
    assert attribute(html, "data-rp-id") == ex.ctx.settings.webauthn_rp_id
    assert attribute(html, "data-credentials") == b64url(bob.credential_id)

    script = api.get("/console/static/approve.js")
    assert script.status_code == 200
    assert script.headers["content-type"].startswith("text/javascript")
    for needle in (
        "navigator.credentials.get",
        "X-CSRF-Token",
        "/approval-challenge",
        "/approve",
        "data.digest",
    ):
        assert needle in script.text

    # What the script does, with the page's own data: the assertion is accepted.
    issued = api.post(
        f"/v1/withdrawals/{attribute(html, 'data-approve')}/approval-challenge",
        json={},
        headers={"X-CSRF-Token": attribute(html, "data-csrf")},
    )
    assert issued.status_code == 200, issued.text
    options = issued.json()["options"]
    assert issued.json()["digest"] == attribute(html, "data-digest")
    assert options["rpId"] == ex.ctx.settings.webauthn_rp_id
    assert options["allowCredentials"] == [{"type": "public-key", "id": b64url(bob.credential_id)}]
    assert options["userVerification"] == "required"
    assertion = bob.assert_(
        challenge=base64url_to_bytes(options["challenge"]),
        origin=ex.ctx.settings.webauthn_origin,
    )
    answer = api.post(
        f"/v1/withdrawals/{attribute(html, 'data-approve')}/approve",
        json={"assertion": assertion},
        headers={"X-CSRF-Token": attribute(html, "data-csrf")},
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["approvals"][0]["verdict"] == "approve"
    # Without the CSRF token the same post is refused.
    refused = api.post(
        f"/v1/withdrawals/{wd['id']}/approve", json={"assertion": assertion}, headers={}
    )
    assert refused.status_code == 403
    # Once answered, the page offers bob no button (and no script) any more.
    again = api.get(f"/console/withdrawals/{wd['id']}").text
    assert "data-approve" not in again and "approve.js" not in again
    assert "approve by" in again
