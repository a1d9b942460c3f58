"""WebAuthn sign-in with a software authenticator: the good path and each refusal."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import select
from webauthn.helpers import base64url_to_bytes

from kinko.context import Context
from kinko.core.errors import AuthenticationError
from kinko.core.events import SecurityEvent
from kinko.identity.model import RoleGrant
from kinko.identity.permissions import Role
from kinko.identity.service import IdentityService
from kinko.identity.softauthn import SoftAuthenticator
from kinko.store.tables.audit import AuditEntryRow
from tests.support.identity import make_user, sign_in

IP = "203.0.113.7"


def _begin(ctx: Context, username: str) -> tuple[str, bytes]:
    challenge_id, options = IdentityService(ctx).login.begin_webauthn(username, source_ip=IP)
    return challenge_id, base64url_to_bytes(options["challenge"])


def _finish(ctx: Context, challenge_id: str, response: dict[str, Any]) -> str:
    return IdentityService(ctx).login.finish_webauthn(challenge_id, response, source_ip=IP).username


def _last_failure_reason(ctx: Context) -> str:
    with ctx.db.transaction() as session:
        row = (
            session.execute(
                select(AuditEntryRow)
                .where(AuditEntryRow.action == "identity.login_failed")
                .order_by(AuditEntryRow.seq.desc())
            )
            .scalars()
            .first()
        )
        assert row is not None
        return str(json.loads(row.entry)["details"]["reason"])


def test_enrol_then_sign_in_starts_a_session_and_emits_events(ctx: Context) -> None:
    events: list[SecurityEvent] = []
    ctx.bus.subscribe(events.append)
    _, auth = make_user(ctx, "alice", ["approver"])
    assert auth is not None
    cookie, csrf = sign_in(ctx, "alice", auth)
    assert cookie and csrf
    assert [e.outcome for e in events if e.type == "auth.login"] == ["success"]
    with ctx.db.transaction() as session:
        user = IdentityService(ctx).sessions.resolve(session, cookie)
        assert user.username == "alice"
        creds = IdentityService(ctx).credentials_for(session, user.id)
    assert [c.credential_id for c in creds] == [auth.credential_id]
    assert creds[0].sign_count == auth.sign_count == 1


def _enrolled(ctx: Context) -> SoftAuthenticator:
    _, auth = make_user(ctx, "alice", ["approver"])
    assert auth is not None
    return auth


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"origin": "https://evil.example"}, "webauthn_refused"),
        ({"rp_id": "evil.example"}, "webauthn_refused"),
        ({"user_verified": False}, "webauthn_refused"),
        ({"user_present": False}, "webauthn_refused"),
    ],
)
def test_assertion_with_wrong_parameter_is_refused(
    ctx: Context, change: dict[str, Any], reason: str
) -> None:
    auth = _enrolled(ctx)
    challenge_id, challenge = _begin(ctx, "alice")
    kwargs: dict[str, Any] = {"challenge": challenge, "origin": ctx.settings.webauthn_origin}
    kwargs.update(change)
    with pytest.raises(AuthenticationError, match="invalid credentials"):
        _finish(ctx, challenge_id, auth.assert_(**kwargs))
    assert _last_failure_reason(ctx) == reason


def test_wrong_challenge_is_refused(ctx: Context) -> None:
    auth = _enrolled(ctx)
    challenge_id, _ = _begin(ctx, "alice")
    response = auth.assert_(challenge=b"x" * 32, origin=ctx.settings.webauthn_origin)
    with pytest.raises(AuthenticationError):
        _finish(ctx, challenge_id, response)
    assert _last_failure_reason(ctx) == "webauthn_refused"


def test_replayed_assertion_is_refused(ctx: Context) -> None:
    auth = _enrolled(ctx)
    challenge_id, challenge = _begin(ctx, "alice")
    response = auth.assert_(challenge=challenge, origin=ctx.settings.webauthn_origin)
    assert _finish(ctx, challenge_id, response) == "alice"
    with pytest.raises(AuthenticationError):
        _finish(ctx, challenge_id, response)
    assert _last_failure_reason(ctx) == "webauthn_challenge_invalid"


def test_sign_count_going_backwards_flags_a_clone(ctx: Context) -> None:
    auth = _enrolled(ctx)
    clone = auth.clone()
    sign_in(ctx, "alice", auth)
    sign_in(ctx, "alice", auth)  # the original is now at 2; the clone is still at 1
    events: list[SecurityEvent] = []
    ctx.bus.subscribe(events.append)
    challenge_id, challenge = _begin(ctx, "alice")
    with pytest.raises(AuthenticationError):
        _finish(
            ctx,
            challenge_id,
            clone.assert_(challenge=challenge, origin=ctx.settings.webauthn_origin),
        )
    assert _last_failure_reason(ctx) == "webauthn_clone_suspected"
    assert any(e.outcome == "clone_suspected" and e.severity == "high" for e in events)
    # The flagged credential stops working, even for the genuine authenticator.
    with pytest.raises(AuthenticationError):
        sign_in(ctx, "alice", auth)


def test_assertion_for_another_users_challenge_is_refused(ctx: Context) -> None:
    auth = _enrolled(ctx)
    make_user(ctx, "bob", ["requester"])
    challenge_id, challenge = _begin(ctx, "bob")
    with pytest.raises(AuthenticationError):
        _finish(
            ctx,
            challenge_id,
            auth.assert_(challenge=challenge, origin=ctx.settings.webauthn_origin),
        )


def test_unknown_user_gets_options_that_look_like_a_real_users(ctx: Context) -> None:
    _enrolled(ctx)  # alice: an approver, so the server will demand UV from her
    login = IdentityService(ctx).login
    _, known = login.begin_webauthn("alice", source_ip=IP)
    _, unknown = login.begin_webauthn("mallory", source_ip=IP)
    _, again = login.begin_webauthn("mallory", source_ip=IP)

    def shape(options: dict[str, Any]) -> tuple[object, ...]:
        allowed = options["allowCredentials"]
        return (sorted(options), len(allowed), len(allowed[0]["id"]), options["userVerification"])

    assert shape(known) == shape(unknown)
    assert unknown["allowCredentials"] == again["allowCredentials"]  # a stable decoy
    assert unknown["allowCredentials"] != known["allowCredentials"]


def test_registration_with_wrong_origin_or_without_uv_is_refused(ctx: Context) -> None:
    ids = IdentityService(ctx)
    with ctx.db.transaction() as session:
        user_id, secret = ids.users.add_user(session, "carol", actor="system:test")
        ids.roles.unsafe_direct_grant(session, user_id, RoleGrant(Role.APPROVER), reason="t")
    auth = SoftAuthenticator.generate(ctx.settings.webauthn_rp_id)
    for kwargs in ({"origin": "https://evil.example"}, {"user_verified": False}):
        with ctx.db.transaction() as session:
            challenge_id, options = ids.enrol_webauthn_begin(session, "carol", secret)
        response = auth.register(
            challenge=base64url_to_bytes(options["challenge"]),
            **{"origin": ctx.settings.webauthn_origin, **kwargs},
        )
        with pytest.raises(AuthenticationError), ctx.db.transaction() as session:
            ids.enrol_webauthn_finish(
                session, "carol", secret, challenge_id, response, source_ip=IP
            )
    with ctx.db.transaction() as session:
        assert ids.credentials_for(session, user_id) == []


def test_user_verification_is_optional_only_for_non_privileged_roles(ctx: Context) -> None:
    _, auth = make_user(ctx, "rita", ["requester"])
    assert auth is not None
    challenge_id, challenge = _begin(ctx, "rita")
    response = auth.assert_(
        challenge=challenge, origin=ctx.settings.webauthn_origin, user_verified=False
    )
    assert _finish(ctx, challenge_id, response) == "rita"


def test_suspended_user_cannot_sign_in(ctx: Context) -> None:
    from kinko.identity.model import UserState

    user_id, auth = make_user(ctx, "sam", ["requester"])
    assert auth is not None
    with ctx.db.transaction() as session:
        IdentityService(ctx).users.set_state(
            session, user_id, UserState.SUSPENDED, actor="user:x", reason="leave"
        )
    with pytest.raises(AuthenticationError):
        sign_in(ctx, "sam", auth)
