"""Device login for `kinko login` (RFC 8628, adapted), over the real API on both databases:
every endpoint and every error, the session it issues (a person's own, hashed, revocable,
short-lived) and the console page that approves it."""

from __future__ import annotations

import hashlib
import re
from datetime import timedelta
from functools import partial
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from webauthn.helpers import base64url_to_bytes

from kinko.context import Context
from kinko.core.clock import FixedClock
from kinko.core.events import SecurityEvent
from kinko.identity.device import BEGIN_LIMIT
from kinko.identity.model import UserId, UserState
from kinko.identity.service import IdentityService
from kinko.server import create_app
from kinko.store.tables.audit import AuditEntryRow
from kinko.store.tables.device import DeviceAuthorizationRow
from kinko.store.tables.identity import ConsoleSessionRow
from tests.support.confirmations import DEVICE, answer_in_browser
from tests.support.identity import bearer, make_token, make_user, person_headers, sign_in

CLIENT = "kinko-cli 0.1.0 on build-01"
USER_CODE = re.compile(r"^[BCDFGHJKLMNPQRSTVWXZ]{4}-[BCDFGHJKLMNPQRSTVWXZ]{4}$")


@pytest.fixture
def api(ctx: Context) -> TestClient:
    return TestClient(create_app(ctx), base_url="https://testserver")


def _begin(api: TestClient) -> dict[str, Any]:
    answer = api.post("/v1/auth/device/begin", json={"client": CLIENT})
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body


def _poll(api: TestClient, device_code: str) -> Any:
    return api.post("/v1/auth/device/token", json={"device_code": device_code})


_approve = partial(answer_in_browser, prefix=DEVICE, client=CLIENT)


def _actions(ctx: Context) -> list[str]:
    with ctx.db.transaction() as session:
        return list(
            session.execute(select(AuditEntryRow.action).order_by(AuditEntryRow.seq)).scalars()
        )


def test_begin_answers_the_contract(ctx: Context, api: TestClient) -> None:
    begun = _begin(api)
    assert set(begun) == {
        "device_code",
        "user_code",
        "verification_uri",
        "verification_uri_complete",
        "expires_in",
        "interval",
    }
    assert re.fullmatch(r"[A-Za-z0-9_-]{43,}", begun["device_code"])  # >= 32 random bytes
    assert USER_CODE.match(begun["user_code"])
    origin = ctx.settings.webauthn_origin
    assert begun["verification_uri"] == f"{origin}/console/device"
    assert begun["verification_uri_complete"] == (
        f"{origin}/console/device?code={begun['user_code']}"
    )
    assert (begun["expires_in"], begun["interval"]) == (600, 2)
    with ctx.db.transaction() as session:  # only the code's hash is kept
        row = session.execute(select(DeviceAuthorizationRow)).scalar_one()
    assert row.id == hashlib.sha256(begun["device_code"].encode()).hexdigest()
    assert (row.client, row.source_ip, row.status) == (CLIENT, "testclient", "pending")
    assert "identity.device_begin" in _actions(ctx)
    bad = api.post("/v1/auth/device/begin", json={"client": "x\x00y"})
    assert bad.status_code == 422 and bad.json()["field"] == "client"


def test_approved_login_issues_a_personal_session_exactly_once(
    ctx: Context, api: TestClient, clock: FixedClock
) -> None:
    user, auth = make_user(ctx, "rita", ["requester"])
    assert auth is not None
    events: list[SecurityEvent] = []
    ctx.bus.subscribe(events.append)
    begun = _begin(api)
    pending = _poll(api, begun["device_code"])
    assert pending.status_code == 400 and pending.json()["error"] == "authorization_pending"
    assert _poll(api, begun["device_code"]).json()["error"] == "slow_down"  # too soon
    clock.advance(timedelta(seconds=2))
    assert _poll(api, begun["device_code"]).json()["error"] == "authorization_pending"

    approved = _approve(api, ctx, begun["user_code"], person_headers(ctx, "rita", auth), auth)
    assert approved.status_code == 200, approved.text
    assert approved.json()["approved_by"] == "rita" and approved.json()["status"] == "approved"
    clock.advance(timedelta(seconds=2))
    issued = _poll(api, begun["device_code"])
    assert issued.status_code == 200, issued.text
    body = issued.json()
    assert body["token_type"] == "Bearer"
    assert (body["username"], body["user_id"]) == ("rita", user)
    assert body["expires_at"].endswith("Z")
    token = body["session_token"]
    clock.advance(timedelta(seconds=2))
    again = _poll(api, begun["device_code"])
    assert again.status_code == 400 and again.json()["error"] == "expired_token"  # only once

    me = api.get("/v1/auth/me", headers=bearer(token)).json()
    assert (me["kind"], me["username"], me["token_id"]) == ("user", "rita", None)
    assert "withdrawals:create" in me["permissions"]
    assert "users:write" not in me["permissions"]  # her own permissions, never more
    # a person's session: person-only routes accept it without a CSRF token (a Bearer)
    assert api.get("/v1/users", headers=bearer(token)).status_code == 403  # not hers to read
    with ctx.db.transaction() as session:  # stored only as a hash
        row = session.get(ConsoleSessionRow, hashlib.sha256(token.encode()).hexdigest())
        assert row is not None and row.kind == "cli" and row.user_id == user
        assert token not in str(session.execute(select(DeviceAuthorizationRow)).all())
    actions = _actions(ctx)
    assert "identity.device_approve" in actions and actions[-1] == "identity.login"
    approvals = [e for e in events if e.type == "auth.device"]
    assert [(e.outcome, e.fields["user_code"], e.fields["client"]) for e in approvals] == [
        ("approved", begun["user_code"], CLIENT)
    ]
    assert approvals[0].fields["device_ip"] == "testclient"
    logins = [e for e in events if e.type == "auth.login" and e.fields.get("factor") == "device"]
    assert len(logins) == 1


def test_the_session_is_short_lived_revocable_and_follows_the_person(
    ctx: Context, api: TestClient, clock: FixedClock
) -> None:
    user, auth = make_user(ctx, "rita", ["requester"])
    assert auth is not None
    headers = person_headers(ctx, "rita", auth)

    def login() -> str:
        begun = _begin(api)
        assert _approve(api, ctx, begun["user_code"], headers, auth).status_code == 200
        answer = _poll(api, begun["device_code"])
        assert answer.status_code == 200, answer.text
        token: str = answer.json()["session_token"]
        return token

    first = login()
    clock.advance(timedelta(hours=1))  # no 15-minute idle timeout for a CLI session
    assert api.get("/v1/auth/me", headers=bearer(first)).status_code == 200
    clock.advance(timedelta(hours=11, seconds=1))  # 12 h (cli_session_ttl_s) in all
    assert api.get("/v1/auth/me", headers=bearer(first)).status_code == 401

    headers = person_headers(ctx, "rita", auth)
    second = login()
    out = api.post("/v1/auth/logout", headers=bearer(second), json={})
    assert out.status_code == 200 and out.json()["signed_out"] == "rita"
    assert api.get("/v1/auth/me", headers=bearer(second)).status_code == 401

    third = login()
    with ctx.db.transaction() as session:
        IdentityService(ctx).users.lock_user(
            session, UserId(user), actor="system:test", reason="test"
        )
    assert api.get("/v1/auth/me", headers=bearer(third)).status_code == 401


def test_denied_expired_and_unknown_codes(ctx: Context, api: TestClient, clock: FixedClock) -> None:
    _, auth = make_user(ctx, "rita", ["requester"])
    assert auth is not None
    headers = person_headers(ctx, "rita", auth)
    denied = _begin(api)
    answer = api.post(
        "/v1/auth/device/deny", json={"user_code": denied["user_code"]}, headers=headers
    )
    assert answer.status_code == 200 and answer.json()["denied_by"] == "rita"
    refused = _poll(api, denied["device_code"])
    assert refused.status_code == 400 and refused.json()["error"] == "access_denied"
    assert "identity.device_deny" in _actions(ctx)
    # answered already: neither approvable nor deniable again
    again = api.post(
        "/v1/auth/device/challenge", json={"user_code": denied["user_code"]}, headers=headers
    )
    assert again.status_code == 404 and again.json()["error"] == "device_code_unknown"

    late = _begin(api)
    clock.advance(timedelta(minutes=10))
    assert _poll(api, late["device_code"]).json()["error"] == "expired_token"
    gone = api.post(
        "/v1/auth/device/challenge", json={"user_code": late["user_code"]}, headers=headers
    )
    assert gone.status_code == 404 and "expired" in gone.json()["message"]
    unknown = _poll(api, "not-a-device-code")
    assert unknown.status_code == 400 and unknown.json()["error"] == "expired_token"
    typo = api.post("/v1/auth/device/deny", json={"user_code": "AEIO-0000"}, headers=headers)
    assert typo.status_code == 422 and typo.json()["field"] == "code"


def test_a_person_suspended_before_collecting_gets_no_session(
    ctx: Context, api: TestClient
) -> None:
    user, auth = make_user(ctx, "rita", ["requester"])
    assert auth is not None
    begun = _begin(api)
    headers = person_headers(ctx, "rita", auth)
    assert _approve(api, ctx, begun["user_code"], headers, auth).status_code == 200
    with ctx.db.transaction() as session:
        IdentityService(ctx).users.lock_user(
            session, UserId(user), actor="system:test", reason="test"
        )
        assert IdentityService(ctx).users.get(session, UserId(user)).state == UserState.SUSPENDED
    refused = _poll(api, begun["device_code"])
    assert refused.status_code == 400 and refused.json()["error"] == "access_denied"


def test_approval_needs_the_persons_own_fresh_assertion_over_this_request(
    ctx: Context, api: TestClient
) -> None:
    _, rita = make_user(ctx, "rita", ["requester"])
    _, sam = make_user(ctx, "sam", ["requester"])
    assert rita is not None and sam is not None
    headers = person_headers(ctx, "rita", rita)
    one, two = _begin(api), _begin(api)

    # an API token never approves: a person does, with their own session
    token = make_token(ctx, roles_or_permissions=["requester"])
    by_token = api.post(
        "/v1/auth/device/challenge", json={"user_code": one["user_code"]}, headers=bearer(token)
    )
    assert by_token.status_code == 403 and by_token.json()["error"] == "person_required"
    anonymous = api.post("/v1/auth/device/challenge", json={"user_code": one["user_code"]})
    assert anonymous.status_code == 401

    # someone else's key over rita's challenge
    assert _approve(api, ctx, one["user_code"], headers, sam).status_code == 401
    # a challenge issued for one request does not approve another
    issued = api.post(
        "/v1/auth/device/challenge", json={"user_code": one["user_code"]}, headers=headers
    ).json()
    credential = rita.assert_(
        challenge=base64url_to_bytes(issued["options"]["challenge"]),
        origin=ctx.settings.webauthn_origin,
    )
    crossed = api.post(
        "/v1/auth/device/approve",
        json={
            "user_code": two["user_code"],
            "challenge_id": issued["challenge_id"],
            "credential": credential,
        },
        headers=headers,
    )
    assert crossed.status_code == 401 and crossed.json()["error"] == "device_challenge_mismatch"
    # an assertion without user verification is not enough
    issued = api.post(
        "/v1/auth/device/challenge", json={"user_code": one["user_code"]}, headers=headers
    ).json()
    unverified = rita.assert_(
        challenge=base64url_to_bytes(issued["options"]["challenge"]),
        origin=ctx.settings.webauthn_origin,
        user_verified=False,
    )
    refused = api.post(
        "/v1/auth/device/approve",
        json={
            "user_code": one["user_code"],
            "challenge_id": issued["challenge_id"],
            "credential": unverified,
        },
        headers=headers,
    )
    assert refused.status_code == 401
    assert _actions(ctx).count("identity.device_approve_failed") == 3
    # her own verified assertion over this request's latest challenge: approved, that one only
    good = _approve(api, ctx, one["user_code"], headers, rita)
    assert good.status_code == 200, good.text
    assert _poll(api, one["device_code"]).status_code == 200
    assert _poll(api, two["device_code"]).json()["error"] == "authorization_pending"


def test_begin_is_rate_limited_per_source(ctx: Context, api: TestClient, clock: FixedClock) -> None:
    for _ in range(BEGIN_LIMIT):
        _begin(api)
    refused = api.post("/v1/auth/device/begin", json={"client": CLIENT})
    assert refused.status_code == 429 and refused.json()["error"] == "rate_limited"
    assert 1 <= int(refused.headers["Retry-After"]) <= 600
    other = TestClient(create_app(ctx), base_url="https://testserver", client=("192.0.2.9", 5))
    assert other.post("/v1/auth/device/begin", json={"client": CLIENT}).status_code == 200
    clock.advance(timedelta(minutes=10))
    assert api.post("/v1/auth/device/begin", json={"client": CLIENT}).status_code == 200


def test_the_console_page_shows_the_request_and_denies_it(ctx: Context, api: TestClient) -> None:
    _, auth = make_user(ctx, "rita", ["requester"])
    assert auth is not None
    begun = _begin(api)
    code = begun["user_code"]
    html = {"Accept": "text/html"}
    anonymous = api.get(f"/console/device?code={code}", headers=html, follow_redirects=False)
    assert anonymous.status_code == 303
    assert (
        anonymous.headers["location"] == f"/console/login?next=%2Fconsole%2Fdevice%3Fcode%3D{code}"
    )

    headers = {**person_headers(ctx, "rita", auth), **html}
    page = api.get(f"/console/device?code={code.lower().replace('-', ' ')}", headers=headers)
    assert page.status_code == 200
    for shown in (code, CLIENT, "testclient", "rita", "Approve with my security key"):
        assert shown in page.text
    assert 'id="other-address"' not in page.text  # asked from this browser's address
    elsewhere = TestClient(api.app, base_url="https://testserver", client=("192.0.2.9", 5))
    warned = elsewhere.get(f"/console/device?code={code}", headers=headers)
    assert 'id="other-address"' in warned.text and "192.0.2.9" in warned.text
    assert 'src="/console/static/device.js"' in page.text
    assert "navigator.credentials.get" in api.get("/console/static/device.js").text
    unknown = api.get("/console/device?code=BBBB-BBBB", headers=headers)
    assert unknown.status_code == 404 and "no device login waits for code BBBB-BBBB" in unknown.text

    csrf = headers["X-CSRF-Token"]
    no_csrf = api.post(
        "/console/device/deny",
        data={"user_code": code},
        headers={"Cookie": headers["Cookie"], **html},
    )
    assert no_csrf.status_code == 403
    denied = api.post(
        "/console/device/deny",
        data={"user_code": code, "csrf_token": csrf},
        headers={"Cookie": headers["Cookie"], **html},
    )
    assert denied.status_code == 200 and "Denied" in denied.text
    assert _poll(api, begun["device_code"]).json()["error"] == "access_denied"


def test_any_session_of_a_person_works_as_a_bearer(ctx: Context, api: TestClient) -> None:
    """`kinko login` with TOTP keeps the console session it gets and sends it as a Bearer:
    a person's session (no CSRF token for a Bearer), revoked by logging out with it."""
    _, auth = make_user(ctx, "rita", ["requester"])
    assert auth is not None
    cookie, _csrf = sign_in(ctx, "rita", auth)
    assert cookie.startswith("kks_")
    me = api.get("/v1/auth/me", headers=bearer(cookie))
    assert me.status_code == 200 and me.json()["kind"] == "user"
    assert api.post("/v1/auth/logout", headers=bearer(cookie), json={}).status_code == 200
    assert api.get("/v1/auth/me", headers=bearer(cookie)).status_code == 401
    # a cookie, unlike a Bearer, still needs its CSRF token for an unsafe method
    cookie, _csrf = sign_in(ctx, "rita", auth)
    begun = _begin(api)
    no_csrf = api.post(
        "/v1/auth/device/deny",
        json={"user_code": begun["user_code"]},
        headers={"Cookie": f"__Host-kinko_session={cookie}"},
    )
    assert no_csrf.status_code == 403 and no_csrf.json()["error"] == "csrf_failed"
    by_bearer = api.post(
        "/v1/auth/device/deny", json={"user_code": begun["user_code"]}, headers=bearer(cookie)
    )
    assert by_bearer.status_code == 200
