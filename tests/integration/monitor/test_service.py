"""The monitor service on both databases, with the real freeze and identity services."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from kinko.context import Context
from kinko.core.clock import FixedClock
from kinko.core.errors import Conflict, PermissionDenied
from kinko.core.events import SecurityEvent
from kinko.identity.approval_terms import ApprovalKind
from kinko.identity.model import UserState
from kinko.monitor.actions import privileged_by
from kinko.monitor.engine import Engine
from kinko.monitor.events import MonitorEvent
from kinko.monitor.rules import default_pack, parse_texts
from kinko.monitor.service import MonitorService, RateLimits
from kinko.monitor.triage import AlertStatus
from kinko.services import Services
from kinko.store.tables.audit import AuditEntryRow
from tests.support.identity import make_user
from tests.support.services import services_of
from tests.support.votes import key_vote
from tests.unit.monitor.support import ev

RELEASE = ApprovalKind.RESPONSE_RELEASE


def service(ctx: Context, engine: Engine | None = None, **kw: object) -> MonitorService:
    """A monitor acting through the services of the composition root on `ctx`."""
    hands = services_of(ctx).monitor_hands
    kw.setdefault("actions", hands.actions)
    kw.setdefault("privileged", privileged_by(hands.roles_of))
    return MonitorService(ctx, engine or Engine(default_pack()), **kw)  # type: ignore[arg-type]


def hot_outflow(at: float = 0, **kw: object):
    values = {
        "wallet": "w1",
        "asset": "ETH",
        "amount": 5,
        "wallet_tier": "hot",
        "chain": "ethereum",
    }
    return ev("chain.outflow", at, **{**values, **kw})


def actions(ctx: Context) -> list[str]:
    with ctx.db.transaction() as s:
        return list(s.execute(select(AuditEntryRow.action).order_by(AuditEntryRow.seq)).scalars())


def test_unexplained_hot_outflow_freezes_the_wallet(ctx: Context, services: Services) -> None:
    recorded = service(ctx).ingest([hot_outflow()])
    assert [(r.rule_id, r.status, r.scope, r.target) for r in recorded] == [
        ("kinko-hot-outflow-without-withdrawal", "applied", "wallet", "w1")
    ]
    with ctx.db.transaction() as s:
        freezes = services.freezes.active_freezes(s)
    assert [(f.scope.value, f.target) for f in freezes] == [("wallet", "w1")]
    assert recorded[0].ref == freezes[0].id
    assert actions(ctx) == ["monitor.alert", "freeze.set", "monitor.response_applied"]


def test_bus_events_reach_the_monitor(ctx: Context, services: Services) -> None:
    monitor = service(ctx)
    monitor.attach()
    ctx.bus.publish(
        SecurityEvent(
            type="signer.refused",
            time=ctx.clock.now(),
            wallet="w9",
            fields={"reason": "digest_mismatch"},
        )
    )
    assert ctx.bus.failures == 0
    with ctx.db.transaction() as s:
        alerts = services.triage.list_alerts(s)
        freezes = services.freezes.active_freezes(s)
    assert [a.rule_id for a in alerts] == ["kinko-signed-differs-from-intent"]
    assert [f.target for f in freezes] == ["w9"]


ALL_RULE = """title: Stop everything
name: stop-all
logsource: {product: kinko}
kinko: {response: freeze, scope: all}
detection:
  s: {type: chain.outflow}
  condition: s
"""


def test_exchange_wide_freeze_is_rate_limited(ctx: Context, clock: FixedClock) -> None:
    monitor = service(ctx, Engine(parse_texts([("all.yml", ALL_RULE)])))
    first = monitor.ingest([hot_outflow(0)])
    second = monitor.ingest([hot_outflow(1)])
    assert first[0].status == "applied" and first[0].scope == "all"
    assert second[0].status == "rate_limited"
    assert "a person must decide" in second[0].detail
    clock.advance(timedelta(hours=2))
    assert monitor.ingest([hot_outflow(2)])[0].status == "applied"


def test_per_rule_rate_limit(ctx: Context) -> None:
    monitor = service(ctx, limits=RateLimits(per_rule=2))
    statuses = [monitor.ingest([hot_outflow(i, wallet=f"w{i}")])[0].status for i in range(3)]
    assert statuses == ["applied", "applied", "rate_limited"]


def test_scope_widens_only_as_far_as_allowed(ctx: Context) -> None:
    monitor = service(ctx)
    asset = monitor.ingest([hot_outflow(wallet=None)])
    assert (asset[0].scope, asset[0].target) == ("asset", "ethereum:ETH")
    chain = monitor.ingest([hot_outflow(1, wallet=None, asset=None)])
    assert (chain[0].scope, chain[0].target) == ("chain", "ethereum")
    nothing = monitor.ingest([hot_outflow(2, wallet=None, asset=None, chain=None)])
    assert nothing[0].action == "alert" and "names no wallet" in nothing[0].detail


def test_failed_response_is_recorded_and_alert_stands(ctx: Context, services: Services) -> None:
    events = [ev("auth.mfa", i * 10, actor="user:ghost", outcome="failure") for i in range(5)]
    events.append(ev("auth.mfa", 60, actor="user:ghost", outcome="success"))
    recorded = service(ctx).ingest(events)
    assert [(r.rule_id, r.status) for r in recorded] == [("kinko-mfa-fatigue", "failed")]
    assert recorded[0].detail
    assert "monitor.response_failed" in actions(ctx)
    with ctx.db.transaction() as s:
        assert [a.rule_id for a in services.triage.list_alerts(s)] == ["kinko-mfa-fatigue"]


def fatigue(actor: str) -> list[MonitorEvent]:
    events = [ev("auth.mfa", i * 10, actor=actor, outcome="failure") for i in range(5)]
    return [*events, ev("auth.mfa", 60, actor=actor, outcome="success")]


def test_mfa_fatigue_locks_the_real_account(ctx: Context, services: Services) -> None:
    user_id, _ = make_user(ctx, "alice", ["requester"], with_authenticator=False)
    recorded = service(ctx).ingest(fatigue(f"user:{user_id}"))
    assert [(r.rule_id, r.status) for r in recorded] == [("kinko-mfa-fatigue", "applied")]
    with ctx.db.transaction() as s:
        assert services.identity.users.get(s, user_id).state == UserState.SUSPENDED


def test_ingested_events_do_not_lock_a_privileged_person(ctx: Context, services: Services) -> None:
    """Issue #13 attack 6: an ingest token's five made-up MFA failures naming an admin."""
    admin, _ = make_user(ctx, "root", ["security_admin"], with_authenticator=False)
    monitor = service(ctx)
    (rec,) = monitor.ingest(fatigue(f"user:{admin}"))
    assert (rec.rule_id, rec.action, rec.status) == (
        "kinko-mfa-fatigue",
        "lock_account",
        "withheld",
    )
    assert "privileged role" in rec.detail and "outside Kinko" in rec.detail
    with ctx.db.transaction() as s:
        assert services.identity.users.get(s, admin).state == UserState.ACTIVE
        [alert] = services.triage.list_alerts(s)
    assert alert.rule_id == "kinko-mfa-fatigue"  # the alert stands
    assert actions(ctx)[-2:] == ["monitor.alert", "monitor.response_withheld"]
    # Four of the five failures Kinko's own, one forged: still not corroborated.
    mixed = fatigue(f"user:{admin}")
    monitor.ingest(mixed[:1])
    (rec,) = monitor.ingest(mixed[1:], origin="kinko")
    assert rec.status == "withheld"
    # All of them Kinko's own (the bus): the response applies.
    (rec,) = monitor.ingest(fatigue(f"user:{admin}"), origin="kinko")
    assert rec.status == "applied"
    with ctx.db.transaction() as s:
        assert services.identity.users.get(s, admin).state == UserState.SUSPENDED


def test_alert_lifecycle_records_who_and_when(
    ctx: Context, services: Services, clock: FixedClock
) -> None:
    (rec,) = service(ctx).ingest([ev("policy.change", actor="u1", change="quorum_lowered")])
    triage = services.triage
    with ctx.db.transaction() as s, pytest.raises(Conflict, match="acknowledge it before"):
        triage.close(s, rec.alert_id, actor="analyst", resolution="resolved", note="ok")
    clock.advance(timedelta(minutes=7))
    with ctx.db.transaction() as s:
        acked = triage.acknowledge(s, rec.alert_id, actor="analyst")
    assert acked.time_to_triage_s == 420
    with ctx.db.transaction() as s, pytest.raises(Conflict):
        triage.acknowledge(s, rec.alert_id, actor="analyst")
    with ctx.db.transaction() as s:
        closed = triage.close(
            s, rec.alert_id, actor="analyst", resolution="false_positive", note="planned change"
        )
    assert closed.status is AlertStatus.FALSE_POSITIVE and closed.closed_by == "analyst"
    assert actions(ctx)[-2:] == ["monitor.alert_acknowledged", "monitor.alert_false_positive"]
    service(ctx).ingest([ev("policy.change", 999, actor="u2", change="limit_raised")])
    with ctx.db.transaction() as s:
        summary = triage.summary(s, since=clock.now() - timedelta(days=1))
    assert summary.by_status == {
        "open": 1,
        "acknowledged": 0,
        "resolved": 0,
        "false_positive": 1,
    }
    assert summary.median_time_to_triage_s == 420 and summary.p90_time_to_triage_s == 420


def test_release_needs_two_distinct_security_admins(ctx: Context, services: Services) -> None:
    (rec,) = service(ctx).ingest([hot_outflow()])
    admin1, _ = make_user(ctx, "sec1", ["security_admin"])
    admin2, _ = make_user(ctx, "sec2", ["security_admin"])
    clerk, _ = make_user(ctx, "clerk", ["approver"], with_authenticator=False)
    triage = services.triage
    no_key = services.step_ups.presented(None)  # a refusal is told before any key is asked
    with ctx.db.transaction() as s, pytest.raises(PermissionDenied, match="security_admin"):
        triage.vote_release(s, rec.response_id, actor=clerk, reason="looks fine", vote=no_key)
    vote = key_vote(ctx, admin1, RELEASE, rec.response_id)
    with ctx.db.transaction() as s:
        first = triage.vote_release(s, rec.response_id, actor=admin1, reason="explained", vote=vote)
    assert not first.released
    assert first.describe() == "signed by 1/2 required security admins"
    with ctx.db.transaction() as s, pytest.raises(PermissionDenied) as again:
        triage.vote_release(s, rec.response_id, actor=admin1, reason="again", vote=no_key)
    assert again.value.code == "self_approval"  # one person, one vote
    vote = key_vote(ctx, admin2, RELEASE, rec.response_id)
    with ctx.db.transaction() as s:
        assert len(services.freezes.active_freezes(s)) == 1
        second = triage.vote_release(
            s, rec.response_id, actor=admin2, reason="explained", vote=vote
        )
    assert second.released
    with ctx.db.transaction() as s:
        assert services.freezes.active_freezes(s) == []
    with ctx.db.transaction() as s, pytest.raises(Conflict, match="released"):
        triage.vote_release(s, rec.response_id, actor=admin1, reason="again", vote=no_key)
    assert "monitor.response_released" in actions(ctx)


def test_real_failed_logins_reach_the_monitor_over_the_bus(
    ctx: Context, services: Services
) -> None:
    from kinko.core.errors import KinkoError

    monitor = service(ctx)
    monitor.attach()
    login = services.identity.login
    for i in range(10):
        with pytest.raises(KinkoError):
            login.login_totp(f"nobody{i}", "000000", source_ip="203.0.113.7")
    assert ctx.bus.failures == 0
    with ctx.db.transaction() as s:
        alerts = services.triage.list_alerts(s)
    assert [a.rule_id for a in alerts] == ["kinko-credential-stuffing"]
    assert alerts[0].group == {"source_ip": "203.0.113.7"}


def test_hold_of_unknown_withdrawal_is_settled_as_failed(ctx: Context) -> None:
    event = ev("withdrawal.request", screening="hit", withdrawal_id="wd_missing")
    (rec,) = service(ctx).ingest([event])
    assert (rec.rule_id, rec.status) == ("kinko-sanctions-hit", "failed")
    assert "no withdrawal" in rec.detail
    assert actions(ctx)[-2:] == ["monitor.response_pending", "monitor.response_failed"]


def test_lifting_a_lock_needs_two_distinct_security_admins(
    ctx: Context, services: Services
) -> None:
    clerk, _ = make_user(ctx, "clerk", ["requester"], with_authenticator=False)
    admin1, _ = make_user(ctx, "sec1", ["security_admin"])
    admin2, _ = make_user(ctx, "sec2", ["security_admin"])
    (rec,) = service(ctx).ingest(fatigue(f"user:{clerk}"))
    assert (rec.action, rec.status) == ("lock_account", "applied")
    triage, users = services.triage, services.identity.users
    vote = key_vote(ctx, admin1, RELEASE, rec.response_id)
    with ctx.db.transaction() as s:
        voted = triage.vote_release(s, rec.response_id, actor=admin1, reason="ok", vote=vote)
        assert not voted.released
    vote = key_vote(ctx, admin2, RELEASE, rec.response_id)
    with ctx.db.transaction() as s:
        assert users.get(s, clerk).state == UserState.SUSPENDED  # one vote changes nothing
        voted = triage.vote_release(s, rec.response_id, actor=admin2, reason="ok", vote=vote)
        assert voted.released
    with ctx.db.transaction() as s:
        assert users.get(s, clerk).state == UserState.ACTIVE
