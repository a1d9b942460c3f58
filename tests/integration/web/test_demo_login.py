"""The demo's sign-in page: a demo person signs in to the console with the software
authenticator the demo saved, through the real WebAuthn ceremony; offered only on a
loopback address of a data directory holding the demo's authenticators."""

from __future__ import annotations

import json
import re

from fastapi.testclient import TestClient

from kinko.context import Context
from kinko.demo.exchange import AUTH_DIR, save_authenticator
from kinko.server import create_app
from kinko.web import demo_login
from tests.integration.test_authz_matrix import rules_of
from tests.support.identity import make_user

BROWSER = {"Accept": "text/html"}


def _token(page: str) -> str:
    found = re.search(r'name="token" value="([^"]+)"', page)
    assert found is not None
    return found.group(1)


def test_a_demo_person_signs_in_with_the_saved_authenticator(ctx: Context) -> None:
    _, auth = make_user(ctx, "bob", ["approver"])
    assert auth is not None
    folder = ctx.settings.data_dir / AUTH_DIR
    folder.mkdir()
    save_authenticator(folder, "bob", auth)
    assert demo_login.demo_people(ctx.settings.data_dir) == [("bob", "approver")]
    app = create_app(ctx)
    demo_login.install(app)
    _, problems = rules_of(app)
    assert problems == []
    with TestClient(app, base_url="https://localhost") as client:
        login = client.get("/console/login?next=/console/withdrawals/wd_1", headers=BROWSER)
        assert "/console/demo-login?next=/console/withdrawals/wd_1" in login.text
        page = client.get("/console/demo-login", headers=BROWSER)
        assert page.status_code == 200 and "Sign in as bob" in page.text
        token = _token(page.text)

        refused = client.post("/console/demo-login", data={"token": "stale", "username": "bob"})
        assert (refused.status_code, refused.json()["error"]) == (403, "csrf_failed")
        stranger = client.post("/console/demo-login", data={"token": token, "username": "mallory"})
        assert stranger.status_code == 422 and "bob" in stranger.json()["message"]
        assert "__Host-kinko_session" not in client.cookies

        for _ in range(2):  # each sign-in presents a higher counter
            done = client.post(
                "/console/demo-login",
                data={"token": token, "username": "bob", "next": "/console/"},
                follow_redirects=False,
            )
            assert (done.status_code, done.headers["location"]) == (303, "/console/")
            home = client.get("/console/", headers=BROWSER)
            assert home.status_code == 200 and "Signed in as <strong>bob</strong>" in home.text
        saved = json.loads((folder / "bob.json").read_text(encoding="utf-8"))
        assert saved["sign_count"] == auth.sign_count + 2


def test_the_page_is_offered_only_on_loopback_with_demo_people(ctx: Context) -> None:
    data_dir = ctx.settings.data_dir
    assert not demo_login.enabled(data_dir, "127.0.0.1")  # no demo people yet
    _, auth = make_user(ctx, "alice", ["requester"])
    assert auth is not None
    (data_dir / AUTH_DIR).mkdir()
    save_authenticator(data_dir / AUTH_DIR, "alice", auth)
    assert demo_login.enabled(data_dir, "127.0.0.1")
    assert demo_login.enabled(data_dir, "localhost")
    assert demo_login.enabled(data_dir, "::1")
    assert not demo_login.enabled(data_dir, "0.0.0.0")
    assert not demo_login.enabled(data_dir, "192.0.2.10")
    with TestClient(create_app(ctx)) as client:  # not installed: no such page
        assert client.get("/console/demo-login", headers=BROWSER).status_code != 200
        assert "demo-login" not in client.get("/console/login", headers=BROWSER).text
