"""The withdrawals API: authorisation, mandatory Idempotency-Key, stable error codes."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest
from fastapi.testclient import TestClient

from kinko.identity.sessions import COOKIE_NAME, CSRF_HEADER
from kinko.server import create_app
from tests.integration.withdrawals.exchange import RECIPIENT, Exchange
from tests.support.identity import make_token, sign_in

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


@pytest.fixture
def api(exchange: Exchange) -> TestClient:
    app = create_app(exchange.ctx, services=exchange.services)
    return TestClient(app, base_url="https://testserver")


def bearer(token: str, key: str | None = None) -> dict[str, str]:
    headers = {"Authorization": f"Bearer {token}"}
    if key is not None:
        headers["Idempotency-Key"] = key
    return headers


BODY: dict[str, Any] = {"asset": "ETH", "amount": "2", "destination": RECIPIENT}


def test_create_show_list_and_errors(exchange: Exchange, api: TestClient) -> None:
    creator = make_token(exchange.ctx, roles_or_permissions=["withdrawals:create"])
    reader = make_token(exchange.ctx, roles_or_permissions=["withdrawals:read"])
    assert api.post("/v1/withdrawals", json=BODY).status_code == 401
    forbidden = api.post("/v1/withdrawals", json=BODY, headers=bearer(reader, "k1"))
    assert forbidden.status_code == 403
    missing = api.post("/v1/withdrawals", json=BODY, headers=bearer(creator))
    assert missing.status_code == 422
    assert missing.json()["field"] == "Idempotency-Key"
    created = api.post("/v1/withdrawals", json=BODY, headers=bearer(creator, "k1"))
    assert created.status_code == 201, created.text
    wd = created.json()
    assert wd["state"] == "pending_approval"
    assert wd["intent"]["destination"] == RECIPIENT and len(wd["digest"]) == 64
    again = api.post("/v1/withdrawals", json=BODY, headers=bearer(creator, "k1"))
    assert again.json()["id"] == wd["id"]
    conflict = api.post(
        "/v1/withdrawals", json={**BODY, "amount": "3"}, headers=bearer(creator, "k1")
    )
    assert (conflict.status_code, conflict.json()["error"]) == (409, "idempotency_conflict")
    bad = api.post("/v1/withdrawals", json={**BODY, "amount": 2.5}, headers=bearer(creator, "k2"))
    assert bad.status_code == 422 and bad.json()["field"] == "amount"
    shown = api.get(f"/v1/withdrawals/{wd['id']}", headers=bearer(reader))
    assert shown.json()["digest"] == wd["digest"]
    listed = api.get("/v1/withdrawals?state=pending_approval", headers=bearer(reader))
    assert [w["id"] for w in listed.json()["withdrawals"]] == [wd["id"]]
    assert api.get("/v1/withdrawals/wd_nope", headers=bearer(reader)).status_code == 404
    bad_state = api.get("/v1/withdrawals?state=frozenish", headers=bearer(reader))
    assert (bad_state.status_code, bad_state.json()["field"]) == (422, "state")


def test_approve_through_the_api_and_export_the_bundle(exchange: Exchange, api: TestClient) -> None:
    creator = make_token(exchange.ctx, roles_or_permissions=["withdrawals:create"])
    reader = make_token(exchange.ctx, roles_or_permissions=["withdrawals:read"])
    wd = api.post("/v1/withdrawals", json=BODY, headers=bearer(creator, "k-a")).json()
    for name in ("bob", "carol"):
        authenticator = exchange.users[name][1]
        assert authenticator is not None
        cookie, csrf = sign_in(exchange.ctx, name, authenticator)
        api.cookies.set(COOKIE_NAME, cookie)
        issued = api.post(
            f"/v1/withdrawals/{wd['id']}/approval-challenge", headers={CSRF_HEADER: csrf}
        ).json()
        assert (issued["withdrawal"], issued["digest"]) == (wd["id"], wd["digest"])
        assert issued["expires_at"] == wd["expires_at"]
        assert hashlib.sha256(issued["document"].encode()).hexdigest() == issued["challenge_hex"]
        signed = authenticator.assert_(
            challenge=bytes.fromhex(issued["challenge_hex"]),
            origin=exchange.ctx.settings.webauthn_origin,
        )
        response = api.post(
            f"/v1/withdrawals/{wd['id']}/approve",
            json={"assertion": signed},
            headers={CSRF_HEADER: csrf},
        )
        api.cookies.clear()
        assert response.status_code == 200, response.text
    # At quorum a hot-wallet withdrawal is signed and broadcast at once.
    assert response.json()["state"] == "broadcast"
    bundle = api.get(f"/v1/withdrawals/{wd['id']}/bundle", headers=bearer(reader)).json()
    assert (bundle["format"], bundle["version"], bundle["digest"]) == (
        "kinko.approval-bundle",
        3,
        wd["digest"],
    )
    assert len(bundle["approvals"]) == 2
    assert bundle["withdrawal"]["expires_at"] == wd["expires_at"]
    assert all(len(a["nonce"]) == 43 for a in bundle["approvals"])


def test_console_page_shows_the_decoded_intent_and_digest(
    exchange: Exchange, api: TestClient
) -> None:
    creator = make_token(exchange.ctx, roles_or_permissions=["withdrawals:create"])
    wd = api.post(
        "/v1/withdrawals",
        json={**BODY, "destination": RECIPIENT.lower()},
        headers=bearer(creator, "k-page"),
    ).json()
    authenticator = exchange.users["bob"][1]
    assert authenticator is not None
    cookie, _ = sign_in(exchange.ctx, "bob", authenticator)
    assert api.get(f"/console/withdrawals/{wd['id']}").status_code == 401
    api.cookies.set(COOKIE_NAME, cookie)
    page = api.get(f"/console/withdrawals/{wd['id']}")
    assert page.status_code == 200
    assert wd["digest"] in page.text
    # The checksummed address comes from decoding the transaction, not from the request.
    assert RECIPIENT in page.text and RECIPIENT.lower() not in page.text
    assert "Approve with my security key" in page.text
