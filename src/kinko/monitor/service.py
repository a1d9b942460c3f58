"""The monitor service: events in, alerts stored, responses applied, all audited.

Each batch of alerts is recorded in one transaction: the alert rows, the response rows,
the response itself (freeze, lock, hold) and their audit entries commit together or not
at all. A response that its target refuses or cannot perform (a missing service, an
unknown wallet) runs inside a savepoint: it is rolled back alone, recorded as `failed`
with the reason, audited, and the alert stands. Notifications go out after the commit.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Protocol

import structlog
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from kinko.context import Context
from kinko.core.errors import KinkoError
from kinko.core.events import SecurityEvent
from kinko.core.ids import new_id
from kinko.monitor.actions import KinkoActions, ResponseActions, RoleNames, privileged_by
from kinko.monitor.alert import Alert, json_safe
from kinko.monitor.engine import INGESTED, OWN, Engine, RuleInfo, alert_origin
from kinko.monitor.events import MonitorEvent, from_security_event
from kinko.monitor.lazy import mark_monitored
from kinko.monitor.notify import Notifier
from kinko.monitor.response_plan import PlannedResponse, plan
from kinko.monitor.response_spec import ResponseAction, Scope
from kinko.store.tables.monitor import AlertRow, ResponseRow

log = structlog.get_logger("kinko.monitor")

MONITOR_ACTOR = "system:monitor"
PERSON_ACTIONS = frozenset({ResponseAction.LOCK_ACCOUNT, ResponseAction.STEP_UP_MFA})


class ResponseStatus:
    APPLIED = "applied"
    PENDING = "pending"
    NONE = "none"
    RATE_LIMITED = "rate_limited"
    FAILED = "failed"
    RELEASED = "released"
    WITHHELD = "withheld"
    """Not applied: it would act against a privileged person on events from outside Kinko."""


@dataclass(frozen=True, slots=True)
class RateLimits:
    """Per rule and window: at most `per_rule` applied responses, `all_scope` exchange-wide."""

    window: timedelta = timedelta(hours=1)
    per_rule: int = 20
    all_scope: int = 1


@dataclass(frozen=True, slots=True)
class Recorded:
    alert_id: str
    rule_id: str
    response_id: str
    action: str
    scope: str | None
    target: str | None
    status: str
    detail: str
    ref: str | None


def audit_ingested(ctx: Context, events: Sequence[MonitorEvent], *, by: str, subject: str) -> None:
    """Name who fed `events` in from outside (they count as ingested, not Kinko's own:
    docs/monitor.md), in the audit log, before any of them is evaluated."""
    with ctx.db.transaction() as session:
        ctx.audit.append(
            session,
            actor=by,
            action="monitor.events_ingested",
            subject=subject,
            details={
                "events": len(events),
                "types": sorted({e.type for e in events})[:50],
                "origin": INGESTED,
            },
        )


def failed_responses(recorded: Sequence[Recorded]) -> list[str]:
    """One line per response the monitor could not apply (its alert stands)."""
    return [
        f"{r.action} for alert {r.alert_id} (rule {r.rule_id}): {r.detail}"
        for r in recorded
        if r.status == ResponseStatus.FAILED
    ]


class MonitorPort(Protocol):
    """What the API needs of a monitor: this process's `MonitorService`, or, past one
    process, the Redis stream (`kinko.monitor.streams.StreamMonitor`)."""

    def ingest(
        self, events: Sequence[MonitorEvent], *, origin: str = INGESTED
    ) -> list[Recorded]: ...

    def describe_rules(self) -> list[RuleInfo]: ...


@dataclass(frozen=True)
class Hands:
    """What a monitor acts through (its responses' targets) and asks (who holds which role),
    handed in by the composition root (kinko.services). The defaults fail closed: every
    response is recorded failed, everyone counts as privileged."""

    actions: ResponseActions = field(default_factory=KinkoActions)
    roles_of: RoleNames | None = None

    def monitor(
        self, ctx: Context, engine: Engine, *, notifiers: Sequence[Notifier] = ()
    ) -> MonitorService:
        return MonitorService(
            ctx,
            engine,
            actions=self.actions,
            notifiers=notifiers,
            privileged=privileged_by(self.roles_of),
        )


class MonitorService:
    def __init__(
        self,
        ctx: Context,
        engine: Engine,
        *,
        actions: ResponseActions | None = None,
        notifiers: Sequence[Notifier] = (),
        limits: RateLimits | None = None,
        privileged: Callable[[Session, str], bool] | None = None,
    ) -> None:
        self.ctx = ctx
        self.engine = engine
        # The composition root (kinko.services) hands both in; without them every
        # response fails closed and everyone counts as privileged.
        self.actions: ResponseActions = actions or KinkoActions()
        self.privileged = privileged or privileged_by(None)
        self.notifiers = list(notifiers)
        self.limits = limits or RateLimits()
        self._lock = threading.RLock()
        self._on_recorded: Callable[[list[Recorded]], None] | None = None

    def attach(self, on_recorded: Callable[[list[Recorded]], None] | None = None) -> None:
        """Subscribe to the in-process bus: every `SecurityEvent` reaches the engine.

        `on_recorded`, if given, sees what each batch recorded (``kinko monitor watch``
        counts the responses that failed)."""
        self._on_recorded = on_recorded
        self.ctx.bus.subscribe_batches(self.on_security_events)
        mark_monitored(self.ctx.bus)

    def on_security_events(self, events: Sequence[SecurityEvent]) -> None:
        recorded = self.ingest([from_security_event(event) for event in events], origin=OWN)
        if self._on_recorded is not None:
            self._on_recorded(recorded)

    def describe_rules(self) -> list[RuleInfo]:
        return self.engine.describe()

    def ingest(self, events: Sequence[MonitorEvent], *, origin: str = INGESTED) -> list[Recorded]:
        """Evaluate `events` and record what fired. The events were parsed all-or-nothing.

        `origin` is where they came from: ``kinko`` only for Kinko's own services (the
        bus); anything posted, ingested from a file or read from a stream is ``ingest``,
        and cannot by itself act against a privileged person (`_withheld`)."""
        with self._lock:
            alerts = self.engine.process_many(events, origin=origin)
        if not alerts:
            return []
        with self.ctx.db.transaction() as session:
            recorded = [self.record(session, alert) for alert in alerts]
        deferred = [rec for rec in recorded if rec.status == ResponseStatus.PENDING]
        if deferred:
            done = {rec.response_id: self._hold_after_commit(rec) for rec in deferred}
            recorded = [done.get(rec.response_id, rec) for rec in recorded]
        for alert, rec in zip(alerts, recorded, strict=True):
            for notifier in self.notifiers:
                notifier.send(alert, rec)
        return recorded

    def record(self, session: Session, alert: Alert) -> Recorded:
        now = self.ctx.clock.now()
        row = AlertRow(
            id=new_id("alt"),
            rule_id=alert.rule_id,
            title=alert.title,
            level=alert.level,
            kind=alert.kind.value,
            status="open",
            event_time=alert.time,
            created_at=now,
            reason=alert.reason,
            group=json_safe(dict(alert.group)),
            evidence=json_safe(dict(alert.evidence)),
        )
        session.add(row)
        session.flush()
        self.ctx.audit.append(
            session,
            actor=MONITOR_ACTOR,
            action="monitor.alert",
            subject=row.id,
            details={
                "rule": alert.rule_id,
                "level": alert.level,
                "kind": alert.kind.value,
                "event_time": row.evidence.get("time", ""),
                "group": row.group,
            },
        )
        return self._respond(session, row, alert, now)

    def _respond(self, session: Session, row: AlertRow, alert: Alert, now: datetime) -> Recorded:
        planned = plan(alert)
        status, detail, ref = ResponseStatus.NONE, planned.note, None
        if planned.action is not ResponseAction.ALERT:
            limited = self._rate_limited(session, alert.rule_id, planned, now)
            if limited:
                status, detail = ResponseStatus.RATE_LIMITED, limited
            elif withheld := self._withheld(session, alert, planned):
                status, detail = ResponseStatus.WITHHELD, withheld
            elif planned.action is ResponseAction.HOLD_WITHDRAWAL:
                # The withdrawal service holds in its own unit of work, right after this
                # transaction commits; the response row says so until then.
                status, detail = ResponseStatus.PENDING, "hold requested; applied after commit"
            else:
                status, detail, ref = self._apply(session, row, alert, planned)
        response = ResponseRow(
            id=new_id("rsp"),
            alert_id=row.id,
            rule_id=alert.rule_id,
            action=planned.action.value,
            scope=planned.scope.value if planned.scope else None,
            target=planned.target,
            status=status,
            detail=detail,
            ref=ref,
            created_at=now,
        )
        session.add(response)
        session.flush()
        self.ctx.audit.append(
            session,
            actor=MONITOR_ACTOR,
            action=f"monitor.response_{status}",
            subject=response.id,
            details={
                "alert": row.id,
                "rule": alert.rule_id,
                "action": response.action,
                "scope": response.scope,
                "target": response.target,
                "detail": detail,
                "ref": ref,
            },
        )
        if status == ResponseStatus.FAILED:
            log.error("monitor response failed", rule=alert.rule_id, detail=detail)
        recorded = Recorded(
            row.id,
            alert.rule_id,
            response.id,
            response.action,
            response.scope,
            response.target,
            status,
            detail,
            ref,
        )
        return recorded

    def _hold_after_commit(self, rec: Recorded) -> Recorded:
        """Hold the withdrawal (its own audited transaction), then settle the response row."""
        assert rec.target is not None
        reason = f"monitor rule {rec.rule_id} (alert {rec.alert_id})"
        try:
            self.actions.hold_withdrawal(
                withdrawal_id=rec.target, reason=reason, actor=MONITOR_ACTOR
            )
            status, detail, ref = ResponseStatus.APPLIED, "hold_withdrawal applied", rec.target
        except KinkoError as exc:
            status, detail, ref = ResponseStatus.FAILED, exc.message, None
            log.error("monitor response failed", rule=rec.rule_id, detail=detail)
        with self.ctx.db.transaction() as session:
            row = session.get(ResponseRow, rec.response_id, with_for_update=True)
            assert row is not None
            row.status, row.detail, row.ref = status, detail, ref
            self.ctx.audit.append(
                session,
                actor=MONITOR_ACTOR,
                action=f"monitor.response_{status}",
                subject=rec.response_id,
                details={"alert": rec.alert_id, "rule": rec.rule_id, "detail": detail, "ref": ref},
            )
        return replace(rec, status=status, detail=detail, ref=ref)

    def _withheld(self, session: Session, alert: Alert, planned: PlannedResponse) -> str:
        """Why a lock or step-up is not applied, or "" when it may be.

        Events posted with an ingest token (or read from a file or a stream) are claims
        anyone holding such a token can make: five made-up MFA failures must not suspend
        an administrator. A response against a person who holds a privileged role is
        applied only when Kinko's own events corroborate the whole alert (every event that
        made it fire came from Kinko's services); otherwise the alert stands, the response
        is recorded `withheld`, and a person decides."""
        if planned.action not in PERSON_ACTIONS or planned.target is None:
            return ""
        if alert_origin(alert) == OWN or not self.privileged(session, planned.target):
            return ""
        return (
            f"{planned.action.value} not applied: {planned.target} holds a privileged role "
            "and the events behind this alert came from outside Kinko (an ingest token, a "
            "file or a stream), not corroborated by Kinko's own events; a person decides"
        )

    def _rate_limited(
        self, session: Session, rule_id: str, planned: PlannedResponse, now: datetime
    ) -> str:
        since = now - self.limits.window
        applied = (
            select(func.count())
            .select_from(ResponseRow)
            .where(
                ResponseRow.rule_id == rule_id,
                ResponseRow.status.in_([ResponseStatus.APPLIED, ResponseStatus.RELEASED]),
                ResponseRow.created_at >= since,
            )
        )
        minutes = int(self.limits.window.total_seconds() // 60)
        if planned.scope is Scope.ALL:
            count = session.execute(applied.where(ResponseRow.scope == Scope.ALL.value)).scalar()
            if (count or 0) >= self.limits.all_scope:
                return (
                    f"rule {rule_id} already froze everything within {minutes} min; "
                    "a person must decide on another exchange-wide freeze"
                )
        count = session.execute(applied).scalar() or 0
        if count >= self.limits.per_rule:
            return f"rule {rule_id} already responded {count} times within {minutes} min"
        return ""

    def _apply(
        self, session: Session, row: AlertRow, alert: Alert, planned: PlannedResponse
    ) -> tuple[str, str, str | None]:
        reason = f"monitor rule {alert.rule_id} (alert {row.id}): {alert.title}"
        try:
            with session.begin_nested():
                ref = self._call(session, planned, reason)
        except KinkoError as exc:
            return ResponseStatus.FAILED, exc.message, None
        note = planned.note or f"{planned.action.value} applied"
        return ResponseStatus.APPLIED, note, ref

    def _call(self, session: Session, planned: PlannedResponse, reason: str) -> str | None:
        actions, target = self.actions, planned.target
        if planned.action is ResponseAction.FREEZE:
            assert planned.scope is not None
            return actions.freeze(
                session, scope=planned.scope, target=target, reason=reason, actor=MONITOR_ACTOR
            )
        assert target is not None
        if planned.action is ResponseAction.LOCK_ACCOUNT:
            return actions.lock_account(session, user=target, reason=reason, actor=MONITOR_ACTOR)
        return actions.require_step_up(session, user=target, reason=reason, actor=MONITOR_ACTOR)
