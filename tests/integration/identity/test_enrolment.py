"""Enrolment with the one-time secret over the real API (both databases): each refusal says
what went wrong and what to do, and the enrolment page carries the ceremony."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from webauthn.helpers import base64url_to_bytes

from kinko.context import Context
from kinko.core.clock import FixedClock
from kinko.identity.model import RoleGrant, UserId
from kinko.identity.permissions import Role
from kinko.identity.service import IdentityService
from kinko.identity.softauthn import SoftAuthenticator
from kinko.server import create_app


@pytest.fixture
def api(ctx: Context) -> TestClient:
    return TestClient(create_app(ctx), base_url="https://testserver")


def _invite(ctx: Context, name: str, role: Role | None = None) -> tuple[UserId, str]:
    ids = IdentityService(ctx)
    with ctx.db.transaction() as session:
        user, secret = ids.users.add_user(session, name, actor="system:test")
        if role is not None:
            ids.roles.unsafe_direct_grant(session, user, RoleGrant(role), reason="test")
    return user, secret


def _enrol(
    api: TestClient,
    ctx: Context,
    name: str,
    secret: str,
    auth: SoftAuthenticator,
    **register: Any,
) -> Any:
    body = {"username": name, "enrolment_secret": secret}
    begun = api.post("/v1/auth/enrol/webauthn/begin", json=body)
    if begun.status_code != 200:
        return begun
    options = begun.json()["options"]
    credential = auth.register(
        challenge=base64url_to_bytes(options["challenge"]),
        origin=register.pop("origin", ctx.settings.webauthn_origin),
        **register,
    )
    return api.post(
        "/v1/auth/enrol/webauthn/finish",
        json={**body, "challenge_id": begun.json()["challenge_id"], "credential": credential},
    )


def test_wrong_used_and_expired_secrets_say_which(
    ctx: Context, api: TestClient, clock: FixedClock
) -> None:
    _, secret = _invite(ctx, "nina")
    auth = SoftAuthenticator.generate(ctx.settings.webauthn_rp_id)
    for name, tried in (("nina", "enr_wrong"), ("nobody", secret)):
        wrong = _enrol(api, ctx, name, tried, auth)
        assert wrong.status_code == 401 and wrong.json()["error"] == "enrolment_invalid"
        assert "unknown username or wrong enrolment secret" in wrong.json()["message"]

    done = _enrol(api, ctx, "nina", f"  {secret}\n", auth)  # pasted with blanks: fine
    assert done.status_code == 200, done.text
    assert (
        done.json()["username"] == "nina"
        and "__Host-kinko_session=kks_" in done.headers["set-cookie"]
    )
    used = _enrol(api, ctx, "nina", secret, SoftAuthenticator.generate("localhost"))
    assert used.status_code == 401 and used.json()["error"] == "enrolment_used"
    assert "already used" in used.json()["message"]

    _, late = _invite(ctx, "otto")
    clock.advance(timedelta(hours=72))
    expired = _enrol(api, ctx, "otto", late, auth)
    assert expired.status_code == 401 and expired.json()["error"] == "enrolment_expired"
    assert "expired at" in expired.json()["message"] and "72 hours" in expired.json()["message"]


def test_an_authenticator_the_policy_does_not_allow_is_refused_and_the_secret_kept(
    ctx: Context, api: TestClient
) -> None:
    """Approvers must enrol an authenticator that verifies the user (PIN or biometric)."""
    _, secret = _invite(ctx, "alan", Role.APPROVER)
    key = SoftAuthenticator.generate(ctx.settings.webauthn_rp_id)
    refused = _enrol(api, ctx, "alan", secret, key, user_verified=False)
    assert refused.status_code == 401 and refused.json()["error"] == "webauthn_uv_required"
    assert "set a PIN on the security key, or use a passkey" in refused.json()["message"]
    elsewhere = _enrol(api, ctx, "alan", secret, key, origin="https://phish.example")
    assert elsewhere.status_code == 401 and elsewhere.json()["error"] == "webauthn_refused"
    assert _enrol(api, ctx, "alan", secret, key).status_code == 200  # the secret still works


def test_a_suspended_person_cannot_enrol(ctx: Context, api: TestClient) -> None:
    user, secret = _invite(ctx, "sid")
    with ctx.db.transaction() as session:
        IdentityService(ctx).users.lock_user(session, user, actor="system:test", reason="t")
    key = SoftAuthenticator.generate(ctx.settings.webauthn_rp_id)
    refused = _enrol(api, ctx, "sid", secret, key)
    assert refused.status_code == 401 and "suspended" in refused.json()["message"]


def test_the_enrolment_page_runs_the_ceremony(ctx: Context, api: TestClient) -> None:
    page = api.get("/console/enrol?username=nina", headers={"Accept": "text/html"})
    assert page.status_code == 200
    assert page.headers["content-security-policy"].startswith("default-src 'self'")
    for shown in ('value="nina"', 'name="enrolment_secret"', "enr_", ctx.settings.webauthn_rp_id):
        assert shown in page.text
    assert f'data-origin="{ctx.settings.webauthn_origin}"' in page.text
    script = api.get("/console/static/enrol.js")
    assert script.headers["content-type"].startswith("text/javascript")
    assert "navigator.credentials.create" in script.text
    assert "/v1/auth/enrol/webauthn/finish" in script.text
    assert "creationOptions" in api.get("/console/static/webauthn.js").text
    login = api.get("/console/login", headers={"Accept": "text/html"})
    assert 'href="/console/enrol"' in login.text
