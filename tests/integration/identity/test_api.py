"""The identity API over HTTP: enrolment, sign-in cookies, four eyes, tokens, console."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from webauthn.helpers import base64url_to_bytes

from kinko.context import Context
from kinko.identity.service import IdentityService
from kinko.identity.softauthn import SoftAuthenticator
from kinko.server import create_app
from tests.support.identity import bearer, make_user, sign_in
from tests.support.votes import vote_json


def _cookie_headers(cookie: str, csrf: str) -> dict[str, str]:
    return {"Cookie": f"__Host-kinko_session={cookie}", "X-CSRF-Token": csrf}


def _session_from(response: Any) -> tuple[str, str]:
    header = response.headers["set-cookie"]
    assert "HttpOnly" in header and "Secure" in header and "SameSite=strict" in header
    cookie = header.split(";", 1)[0].split("=", 1)[1]
    return cookie, response.json()["csrf_token"]


def test_enrol_sign_in_and_propose_over_http(ctx: Context) -> None:
    with ctx.db.transaction() as session:
        secret = IdentityService(ctx).bootstrap_admin(session, "root")
    origin = ctx.settings.webauthn_origin
    auth = SoftAuthenticator.generate(ctx.settings.webauthn_rp_id)
    with TestClient(create_app(ctx)) as client:
        body = {"username": "root", "enrolment_secret": secret}
        begun = client.post("/v1/auth/enrol/webauthn/begin", json=body).json()
        challenge = base64url_to_bytes(begun["options"]["challenge"])
        finished = client.post(
            "/v1/auth/enrol/webauthn/finish",
            json={
                **body,
                "challenge_id": begun["challenge_id"],
                "credential": auth.register(challenge=challenge, origin=origin),
            },
        )
        assert finished.status_code == 200, finished.text
        again = client.post("/v1/auth/enrol/webauthn/begin", json=body)
        assert again.status_code == 401  # the enrolment secret is single use

        begun = client.post("/v1/auth/login/webauthn/begin", json={"username": "root"}).json()
        assertion = auth.assert_(
            challenge=base64url_to_bytes(begun["options"]["challenge"]), origin=origin
        )
        signed = client.post(
            "/v1/auth/login/webauthn/finish",
            json={"challenge_id": begun["challenge_id"], "credential": assertion},
        )
        assert signed.status_code == 200, signed.text
        cookie, csrf = _session_from(signed)
        headers = _cookie_headers(cookie, csrf)

        me = client.get("/v1/auth/me", headers=headers).json()
        assert me["username"] == "root" and "roles:approve" in me["permissions"]
        new = client.post("/v1/users", json={"username": "ann"}, headers=headers)
        assert new.status_code == 201 and new.json()["enrolment_secret"].startswith("enr_")
        user_id = new.json()["id"]
        proposal = client.post(
            "/v1/roles/proposals",
            json={"kind": "grant_role", "user_id": user_id, "role": "approver", "reason": "r"},
            headers=headers,
        )
        assert proposal.status_code == 201 and proposal.json()["state"] == "pending"
        self_approve = client.post(
            f"/v1/roles/proposals/{proposal.json()['id']}/approve", headers=headers, json={}
        )
        assert self_approve.status_code == 403
        assert self_approve.json()["error"] == "self_approval"
        bad = client.post("/v1/users", json={"username": "Bad!"}, headers=headers)
        assert bad.status_code == 422 and bad.json()["field"] == "username"

        page = client.get("/console/", headers=headers)
        assert page.status_code == 200 and "root" in page.text and csrf in page.text
        assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
        out = client.post(
            "/console/logout",
            data={"csrf_token": csrf},
            headers={"Cookie": f"__Host-kinko_session={cookie}"},
            follow_redirects=False,
        )
        assert out.status_code == 303
        assert client.get("/v1/auth/me", headers=headers).status_code == 401


def test_login_failure_is_generic_and_login_page_is_public(ctx: Context) -> None:
    make_user(ctx, "ann", ["requester"])
    with TestClient(create_app(ctx)) as client:
        for name in ("ann", "nobody"):
            response = client.post("/v1/auth/login/totp", json={"username": name, "code": "123456"})
            assert response.status_code == 401
            assert response.json() == {
                "error": "unauthenticated",
                "message": "invalid credentials",
            }
        page = client.get("/console/login")
        assert page.status_code == 200 and "security key" in page.text


def test_token_created_over_api_works_and_is_scoped(ctx: Context) -> None:
    owner, _ = make_user(ctx, "svc", ["requester"], with_authenticator=False)
    _, auth = make_user(ctx, "root", ["security_admin"])
    _, auth2 = make_user(ctx, "sec2", ["security_admin"])
    assert auth is not None and auth2 is not None
    cookie, csrf = sign_in(ctx, "root", auth)
    with TestClient(create_app(ctx)) as client:
        created = client.post(
            "/v1/tokens",
            json={"name": "backend", "owner_id": owner, "permissions": ["withdrawals:read"]},
            headers=_cookie_headers(cookie, csrf),
        )
        # A service account's token is four eyes: it works once another admin approves.
        assert created.status_code == 202, created.text
        token = created.json()["token"]
        pid = created.json()["proposal"]["id"]
        sec2 = _cookie_headers(*sign_in(ctx, "sec2", auth2))
        approved = client.post(
            f"/v1/roles/proposals/{pid}/approve",
            json=vote_json(ctx, client, sec2, "proposal", pid),
            headers=sec2,
        )
        assert approved.status_code == 200, approved.text
        me = client.get("/v1/auth/me", headers=bearer(token)).json()
        assert me["kind"] == "token" and me["permissions"] == ["withdrawals:read"]
        assert client.get("/v1/users", headers=bearer(token)).status_code == 403
        escalate = client.post(
            "/v1/tokens",
            json={"name": "x", "owner_id": owner, "permissions": ["users:write"]},
            headers=_cookie_headers(cookie, csrf),
        )
        assert escalate.status_code == 403
        assert escalate.json()["error"] == "token_escalation"
        assert client.get("/v1/auth/me", headers={"Authorization": "Basic abc"}).status_code == 401


def test_signing_in_again_rotates_the_session(ctx: Context) -> None:
    _, auth = make_user(ctx, "ann", ["requester"])
    assert auth is not None
    origin = ctx.settings.webauthn_origin
    with TestClient(create_app(ctx)) as client:
        cookies = []
        for _ in range(2):
            begun = client.post("/v1/auth/login/webauthn/begin", json={"username": "ann"}).json()
            assertion = auth.assert_(
                challenge=base64url_to_bytes(begun["options"]["challenge"]), origin=origin
            )
            headers = {"Cookie": f"__Host-kinko_session={cookies[-1]}"} if cookies else {}
            signed = client.post(
                "/v1/auth/login/webauthn/finish",
                json={"challenge_id": begun["challenge_id"], "credential": assertion},
                headers=headers,
            )
            assert signed.status_code == 200, signed.text
            cookies.append(_session_from(signed)[0])
        old, new = cookies
        assert old != new
        assert (
            client.get("/v1/auth/me", headers={"Cookie": f"__Host-kinko_session={old}"}).status_code
            == 401
        )
        assert (
            client.get("/v1/auth/me", headers={"Cookie": f"__Host-kinko_session={new}"}).status_code
            == 200
        )
