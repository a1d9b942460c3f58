"""User lifecycle, locking, API tokens and the audit trail they leave."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import select

from kinko.context import Context
from kinko.core.clock import FixedClock
from kinko.core.errors import AuthenticationError, Conflict, InputError, PermissionDenied
from kinko.core.events import SecurityEvent
from kinko.identity.model import UserState
from kinko.identity.service import IdentityService
from kinko.store.tables.audit import AuditEntryRow
from tests.support.identity import make_token, make_user, sign_in


def _actions(ctx: Context) -> list[str]:
    with ctx.db.transaction() as session:
        return list(
            session.execute(select(AuditEntryRow.action).order_by(AuditEntryRow.seq)).scalars()
        )


def test_lifecycle_never_deletes_and_removal_is_final(ctx: Context) -> None:
    ids = IdentityService(ctx)
    user, _ = make_user(ctx, "ann", ["requester"])
    with ctx.db.transaction() as session:
        assert (
            ids.users.set_state(
                session, user, UserState.SUSPENDED, actor="user:x", reason="leave"
            ).state
            == UserState.SUSPENDED
        )
        ids.users.set_state(session, user, UserState.ACTIVE, actor="user:x", reason="back")
        ids.users.set_state(session, user, UserState.REMOVED, actor="user:x", reason="left")
    with pytest.raises(Conflict, match="final"), ctx.db.transaction() as session:
        ids.users.set_state(session, user, UserState.ACTIVE, actor="user:x", reason="oops")
    with ctx.db.transaction() as session:
        assert [u.username for u in ids.users.list_users(session)] == ["ann"]
    with pytest.raises(Conflict), ctx.db.transaction() as session:
        ids.users.add_user(session, "ann", actor="user:x")
    assert "identity.user_removed" in _actions(ctx)


def test_bad_username_names_the_field(ctx: Context) -> None:
    with pytest.raises(InputError) as info, ctx.db.transaction() as session:
        IdentityService(ctx).users.add_user(session, "Bad Name!", actor="user:x")
    assert info.value.field == "username"


def test_lock_user_revokes_sessions_and_tokens(ctx: Context) -> None:
    ids = IdentityService(ctx)
    user, auth = make_user(ctx, "ann", ["requester"])
    assert auth is not None
    cookie, _ = sign_in(ctx, "ann", auth)
    with ctx.db.transaction() as session:
        terms = ids.tokens.terms(
            session, owner_id=user, name="backend", permissions=["withdrawals:create"]
        )
        _, token = ids.tokens.create(session, terms, actor="user:x")
        ids.lock_user(session, user, actor="monitor:rule-17", reason="impossible travel")
    with pytest.raises(AuthenticationError), ctx.db.transaction() as session:
        ids.sessions.resolve(session, cookie)
    with pytest.raises(AuthenticationError), ctx.db.transaction() as session:
        ids.tokens.resolve(session, token, source_ip="10.0.0.1")
    with pytest.raises(AuthenticationError):
        sign_in(ctx, "ann", auth)


def test_token_scope_expiry_allowlist_and_new_address_event(
    ctx: Context, clock: FixedClock
) -> None:
    events: list[SecurityEvent] = []
    ctx.bus.subscribe(events.append)
    token = make_token(
        ctx,
        roles_or_permissions=["withdrawals:create"],
        assets=["BTC"],
        ip_allowlist=["10.0.0.0/8"],
        ttl=timedelta(hours=1),
    )
    ids = IdentityService(ctx)
    with ctx.db.transaction() as session:
        principal = ids.tokens.resolve(session, token, source_ip="10.1.2.3")
    assert principal.permissions == {"withdrawals:create"}
    assert principal.allows("withdrawals:create", asset="BTC")
    assert not principal.allows("withdrawals:create", asset="ETH")
    assert not principal.allows("withdrawals:read")
    with pytest.raises(AuthenticationError), ctx.db.transaction() as session:
        ids.tokens.resolve(session, token, source_ip="192.168.1.1")
    with ctx.db.transaction() as session:
        ids.tokens.resolve(session, token, source_ip="10.9.9.9")
    assert [e.source_ip for e in events if e.type == "token.use"] == ["10.1.2.3", "10.9.9.9"]
    clock.advance(timedelta(hours=1, seconds=1))
    with pytest.raises(AuthenticationError) as info, ctx.db.transaction() as session:
        ids.tokens.resolve(session, token, source_ip="10.1.2.3")
    assert info.value.code == "token_expired"


def test_token_cannot_carry_more_than_its_owner(ctx: Context) -> None:
    user, _ = make_user(ctx, "ann", ["requester"])
    with pytest.raises(PermissionDenied) as info, ctx.db.transaction() as session:
        IdentityService(ctx).tokens.terms(
            session, owner_id=user, name="x", permissions=["users:write"]
        )
    assert info.value.code == "token_escalation"


def test_token_secret_is_stored_hashed_and_revocation_works(ctx: Context) -> None:
    ids = IdentityService(ctx)
    token = make_token(ctx, roles_or_permissions=["requester"])
    with ctx.db.transaction() as session:
        info = ids.tokens.list_tokens(session)[0]
        entries = [r.entry for r in session.execute(select(AuditEntryRow)).scalars()]
        ids.tokens.revoke(session, info.id, actor="user:x", reason="rotated")
    secret = token.rsplit("_", 1)[1]
    assert all(secret.encode() not in e for e in entries)
    with pytest.raises(AuthenticationError), ctx.db.transaction() as session:
        ids.tokens.resolve(session, token, source_ip=None)
    tampered = token[:-1] + ("0" if token[-1] != "0" else "1")
    with pytest.raises(AuthenticationError), ctx.db.transaction() as session:
        ids.tokens.resolve(session, tampered, source_ip=None)


def test_session_idle_and_absolute_timeouts(ctx: Context, clock: FixedClock) -> None:
    ids = IdentityService(ctx)
    _, auth = make_user(ctx, "ann", ["requester"])
    assert auth is not None
    cookie, _ = sign_in(ctx, "ann", auth)
    started = clock.now()
    for _ in range(60):  # active use keeps it alive, but only until the absolute limit
        clock.advance(timedelta(minutes=10))
        try:
            with ctx.db.transaction() as session:
                ids.sessions.resolve(session, cookie)
        except AuthenticationError:
            break
    assert clock.now() - started == timedelta(hours=8)
    cookie2, _ = sign_in(ctx, "ann", auth)
    clock.advance(timedelta(minutes=16))
    with pytest.raises(AuthenticationError), ctx.db.transaction() as session:
        ids.sessions.resolve(session, cookie2)


def test_failed_login_is_audited_without_the_secret(ctx: Context) -> None:
    with pytest.raises(AuthenticationError):
        IdentityService(ctx).login.login_totp("ghost", "123456", source_ip="192.0.2.1")
    with ctx.db.transaction() as session:
        row = session.execute(
            select(AuditEntryRow).where(AuditEntryRow.action == "identity.login_failed")
        ).scalar_one()
    details = json.loads(row.entry)["details"]
    assert details["factor"] == "totp" and "123456" not in row.entry.decode()


def test_step_up_ends_sessions_but_keeps_tokens(ctx: Context) -> None:
    ids = IdentityService(ctx)
    user, auth = make_user(ctx, "ann", ["requester"])
    assert auth is not None
    cookie, _ = sign_in(ctx, "ann", auth)
    with ctx.db.transaction() as session:
        terms = ids.tokens.terms(session, owner_id=user, name="b", permissions=["withdrawals:read"])
        _, token = ids.tokens.create(session, terms, actor="user:x")
        ids.require_step_up(session, user, actor="monitor:r1", reason="odd hour")
    with pytest.raises(AuthenticationError), ctx.db.transaction() as session:
        ids.sessions.resolve(session, cookie)
    with ctx.db.transaction() as session:
        assert ids.tokens.resolve(session, token, source_ip=None).username == "ann"
    assert "identity.step_up_required" in _actions(ctx)
    assert sign_in(ctx, "ann", auth)[0] != cookie
