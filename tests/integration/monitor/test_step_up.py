"""The monitor's "require step-up MFA" response through the real identity service."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from kinko.context import Context
from kinko.core.errors import AuthenticationError
from kinko.monitor.engine import Engine
from kinko.monitor.events import MonitorEvent
from kinko.monitor.rules import default_pack
from kinko.server import create_app
from kinko.services import Services
from kinko.store.tables.audit import AuditEntryRow
from tests.support.identity import make_user, sign_in
from tests.unit.monitor.support import ev


def actions(ctx: Context) -> list[str]:
    with ctx.db.transaction() as s:
        return list(s.execute(select(AuditEntryRow.action).order_by(AuditEntryRow.seq)).scalars())


def dormant_login(actor: str) -> MonitorEvent:
    return ev("auth.login", actor=actor, outcome="success", days_since_last_login=120)


def test_step_up_ends_the_users_sessions_in_the_alerts_transaction(
    ctx: Context, services: Services
) -> None:
    ids = services.identity
    user, auth = make_user(ctx, "dora", ["requester"])
    assert auth is not None
    cookie, _ = sign_in(ctx, "dora", auth)
    with ctx.db.transaction() as s:
        terms = ids.tokens.terms(s, owner_id=user, name="bot", permissions=["withdrawals:read"])
        _, token = ids.tokens.create(s, terms, actor="user:x")
    monitor = services.monitor(Engine(default_pack()))
    monitor.attach()
    before = len(actions(ctx))

    (rec,) = monitor.ingest([dormant_login(f"user:{user}")])

    assert (rec.rule_id, rec.action, rec.status) == (
        "kinko-dormant-account",
        "step_up_mfa",
        "applied",
    )
    assert (rec.target, rec.ref) == (f"user:{user}", user)
    with pytest.raises(AuthenticationError), ctx.db.transaction() as s:
        ids.sessions.resolve(s, cookie)
    with ctx.db.transaction() as s:  # API tokens stay; locking is a different response
        assert ids.tokens.resolve(s, token, source_ip=None).username == "dora"
    assert actions(ctx)[before:] == [
        "monitor.alert",
        "identity.step_up_required",
        "monitor.response_applied",
    ]
    assert ctx.bus.failures == 0  # identity's auth.mfa event went through the monitor
    fresh, _ = sign_in(ctx, "dora", auth)  # a fresh MFA sign-in works
    with TestClient(create_app(ctx)) as client:
        for session_cookie, status in ((cookie, 401), (fresh, 200)):
            reply = client.get(
                "/v1/custody/wallets", headers={"Cookie": f"__Host-kinko_session={session_cookie}"}
            )
            assert reply.status_code == status, reply.text


def test_step_up_for_an_unknown_user_is_recorded_failed(ctx: Context, services: Services) -> None:
    monitor = services.monitor(Engine(default_pack()))
    (rec,) = monitor.ingest([dormant_login("user:usr_ghost")])
    assert (rec.rule_id, rec.status) == ("kinko-dormant-account", "failed")
    assert "no user with id usr_ghost" in rec.detail
    assert actions(ctx)[-2:] == ["monitor.alert", "monitor.response_failed"]
