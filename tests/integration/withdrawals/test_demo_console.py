"""The demo in a browser: a demo person signed in on the demo's page sees the
withdrawals awaiting approval on the console's home and approves one with the software
authenticator the demo saved (the same approval checks as a security key's)."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from kinko.demo.exchange import AUTH_DIR, save_authenticator
from kinko.server import create_app
from kinko.web import demo_login
from tests.integration.withdrawals.exchange import RECIPIENT, Exchange
from tests.support.identity import make_token

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")
BROWSER = {"Accept": "text/html"}


def _field(html: str, name: str) -> str:
    found = re.search(rf'name="{name}" value="([^"]*)"', html)
    assert found is not None, name
    return found.group(1)


def test_demo_people_approve_in_the_console(exchange: Exchange) -> None:
    ex = exchange
    folder = ex.ctx.settings.data_dir / AUTH_DIR
    folder.mkdir()
    for name in ("alice", "bob", "carol"):
        auth = ex.users[name][1]
        assert auth is not None
        save_authenticator(folder, name, auth)
    app = create_app(ex.ctx, services=ex.services)
    demo_login.install(app)
    creator = make_token(ex.ctx, roles_or_permissions=["withdrawals:create"])
    with TestClient(app, base_url="https://localhost") as client:
        wd = client.post(
            "/v1/withdrawals",
            json={"asset": "ETH", "amount": "2", "destination": RECIPIENT},
            headers={"Authorization": f"Bearer {creator}", "Idempotency-Key": "demo-console"},
        ).json()
        assert wd["state"] == "pending_approval"
        for name, after in (("bob", "pending_approval"), ("carol", "confirmed")):
            client.cookies.clear()
            token = _field(client.get("/console/demo-login", headers=BROWSER).text, "token")
            signed = client.post("/console/demo-login", data={"token": token, "username": name})
            assert signed.status_code == 200 and f"<strong>{name}</strong>" in signed.text
            assert f'href="/console/withdrawals/{wd["id"]}"' in signed.text  # awaiting
            page = client.get(f"/console/withdrawals/{wd['id']}", headers=BROWSER)
            assert f"Approve with {name}'s demo authenticator" in page.text
            forged = client.post(f"/console/demo-approve/{wd['id']}", data={"csrf_token": "x"})
            assert forged.json()["error"] == "csrf_failed"
            done = client.post(
                f"/console/demo-approve/{wd['id']}",
                data={"csrf_token": _field(page.text, "csrf_token")},
                headers=BROWSER,
            )
            assert done.status_code == 200 and str(done.url).endswith(wd["id"])
            assert ex.withdrawals.get(wd["id"]).state.value in {after, "broadcast"}
        approvers = {a["approver"] for a in ex.withdrawals.get(wd["id"]).approvals}
        assert approvers == {ex.user("bob"), ex.user("carol")}

        # a requester may not approve, demo person or not
        client.cookies.clear()
        token = _field(client.get("/console/demo-login", headers=BROWSER).text, "token")
        home = client.post("/console/demo-login", data={"token": token, "username": "alice"})
        refused = client.post(
            f"/console/demo-approve/{wd['id']}",
            data={"csrf_token": _field(home.text, "csrf_token")},
        )
        assert (refused.status_code, refused.json()["error"]) == (403, "missing_permission")
