"""People and alerts: the triage lifecycle, and undoing a response (two security admins).

Lifecycle: ``open → acknowledged → resolved | false_positive``; each step records who and
when, so inspection can measure time to triage. A response (freeze, lock) is undone only
when two *distinct* ``security_admin``s have voted to release it; the first vote alone
changes nothing but is audited. The second vote is checked by the four-eyes rules
(`kinko.identity.four_eyes`): a different, active security admin, while the first voter
still is one.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from kinko.context import Context
from kinko.core.errors import Conflict, InputError, NotFound
from kinko.identity.approval_terms import ApprovalKind, ApprovalTerms
from kinko.identity.four_eyes import ABOUT_THE_STEP, Rule, Step, check_first, check_second
from kinko.identity.names import person
from kinko.identity.people import person_now
from kinko.identity.step_ups import SecondVote
from kinko.identity.tenure import four_eyes_approved
from kinko.monitor.actions import KinkoActions, ResponseActions, RoleNames, no_roles
from kinko.monitor.alert import AlertStatus
from kinko.monitor.response_spec import ResponseAction
from kinko.store.paging import newest_visible
from kinko.store.publish import publish_after_commit
from kinko.store.tables.monitor import AlertRow, ReleaseVoteRow, ResponseRow

SECURITY_ADMIN = "security_admin"
RELEASE_QUORUM = 2


CLOSED = (AlertStatus.RESOLVED, AlertStatus.FALSE_POSITIVE)


@dataclass(frozen=True, slots=True)
class AlertView:
    id: str
    rule_id: str
    title: str
    level: str
    status: AlertStatus
    event_time: datetime
    created_at: datetime
    reason: str
    group: dict[str, Any]
    acknowledged_by: str | None
    acknowledged_at: datetime | None
    closed_by: str | None
    closed_at: datetime | None
    note: str | None
    asset: str | None = None
    """The asset of the event that fired it (its group's first), if any: scopes read it."""
    wallet: str | None = None
    """The wallet of the event that fired it (its group's first), if any."""

    @property
    def time_to_triage_s(self) -> float | None:
        if self.acknowledged_at is None:
            return None
        return (self.acknowledged_at - self.created_at).total_seconds()


@dataclass(frozen=True, slots=True)
class TriageSummary:
    """For inspection: how many alerts in each state and how fast people acknowledged."""

    by_status: dict[str, int]
    acknowledged: int
    median_time_to_triage_s: float | None
    p90_time_to_triage_s: float | None


@dataclass(frozen=True, slots=True)
class ReleaseOutcome:
    response_id: str
    votes: tuple[str, ...]
    released: bool

    def describe(self) -> str:
        if self.released:
            return f"released by {' and '.join(self.votes)}"
        return f"signed by {len(self.votes)}/{RELEASE_QUORUM} required security admins"


def _named(row: AlertRow, name: str) -> str | None:
    """The `name` field of the alert's group, else of the event that fired it."""
    for source in (row.group, row.evidence):
        value = source.get(name) if isinstance(source, dict) else None
        if isinstance(value, str) and value:
            return value
    return None


def _view(row: AlertRow) -> AlertView:
    return AlertView(
        id=row.id,
        rule_id=row.rule_id,
        title=row.title,
        level=row.level,
        status=AlertStatus(row.status),
        event_time=row.event_time,
        created_at=row.created_at,
        reason=row.reason,
        group=dict(row.group),
        acknowledged_by=row.acknowledged_by,
        acknowledged_at=row.acknowledged_at,
        closed_by=row.closed_by,
        closed_at=row.closed_at,
        note=row.note,
        asset=_named(row, "asset"),
        wallet=_named(row, "wallet"),
    )


class TriageService:
    def __init__(
        self,
        ctx: Context,
        *,
        actions: ResponseActions | None = None,
        roles_of: RoleNames | None = None,
    ) -> None:
        self.ctx = ctx
        # Handed in by the composition root (kinko.services); without them nothing can be
        # released (fail closed).
        self.actions: ResponseActions = actions or KinkoActions()
        self.roles_of = roles_of or no_roles

    def list_alerts(
        self,
        session: Session,
        *,
        status: AlertStatus | None = None,
        limit: int = 100,
        visible: Callable[[AlertView], bool] | None = None,
    ) -> list[AlertView]:
        """The newest `limit` alerts (in `status`) that `visible` accepts: the limit counts
        only those (alerts outside a scoped caller's assets and wallets are skipped)."""
        query = select(AlertRow).order_by(AlertRow.created_at.desc(), AlertRow.id)
        if status is not None:
            query = query.where(AlertRow.status == status.value)
        return newest_visible(session, query, limit=limit, convert=_view, visible=visible)

    def summary(self, session: Session, *, since: datetime) -> TriageSummary:
        """Alerts created at or after `since`: counts by status, time to acknowledge."""
        rows = session.execute(
            select(AlertRow.status, AlertRow.created_at, AlertRow.acknowledged_at).where(
                AlertRow.created_at >= since
            )
        ).all()
        by_status = {status.value: 0 for status in AlertStatus}
        waits: list[float] = []
        for status, created, acknowledged in rows:
            by_status[status] += 1
            if acknowledged is not None:
                waits.append((acknowledged - created).total_seconds())
        waits.sort()
        return TriageSummary(
            by_status=by_status,
            acknowledged=len(waits),
            median_time_to_triage_s=statistics.median(waits) if waits else None,
            p90_time_to_triage_s=waits[max(0, math.ceil(0.9 * len(waits)) - 1)] if waits else None,
        )

    def get(self, session: Session, alert_id: str) -> AlertView:
        return _view(self._alert(session, alert_id))

    def _alert(self, session: Session, alert_id: str) -> AlertRow:
        row = session.execute(
            select(AlertRow).where(AlertRow.id == alert_id).with_for_update()
        ).scalar_one_or_none()
        if row is None:
            raise NotFound(f"no alert {alert_id}; list them with 'kinko monitor alerts list'")
        return row

    def acknowledge(self, session: Session, alert_id: str, *, actor: str) -> AlertView:
        row = self._alert(session, alert_id)
        if row.status != AlertStatus.OPEN:
            raise Conflict(f"alert {alert_id} is {row.status}, not open")
        row.status = AlertStatus.ACKNOWLEDGED.value
        row.acknowledged_by = actor
        row.acknowledged_at = self.ctx.clock.now()
        session.flush()
        self.ctx.audit.append(
            session, actor=actor, action="monitor.alert_acknowledged", subject=row.id
        )
        return _view(row)

    def close(
        self, session: Session, alert_id: str, *, actor: str, resolution: str, note: str
    ) -> AlertView:
        try:
            final = AlertStatus(resolution)
        except ValueError:
            final = AlertStatus.OPEN
        if final not in CLOSED:
            raise InputError("resolution", "must be resolved or false_positive")
        if not note.strip():
            raise InputError("note", "say what was found (inspection reads it)")
        row = self._alert(session, alert_id)
        if row.status != AlertStatus.ACKNOWLEDGED:
            raise Conflict(f"alert {alert_id} is {row.status}; acknowledge it before closing")
        row.status = final.value
        row.closed_by = actor
        row.closed_at = self.ctx.clock.now()
        row.note = note.strip()
        session.flush()
        self.ctx.audit.append(
            session,
            actor=actor,
            action=f"monitor.alert_{final.value}",
            subject=row.id,
            details={"note": row.note},
        )
        return _view(row)

    def approval_content(self, session: Session, response_id: str, actor: str) -> dict[str, Any]:
        """What `actor`'s vote to release `response_id` approves (their step-up's digest),
        once the four-eyes rules say they may vote."""
        response = session.get(ResponseRow, response_id)
        if response is None:
            raise NotFound(f"no monitor response {response_id}")
        self._check_vote(session, response, f"user:{actor.removeprefix('user:')}")
        return _release_content(response)

    def vote_release(
        self, session: Session, response_id: str, *, actor: str, reason: str, vote: SecondVote
    ) -> ReleaseOutcome:
        """Record `actor`'s vote, confirmed by `vote` (their bound step-up,
        `kinko.identity.step_ups`); the second distinct security admin's vote undoes it."""
        if not reason.strip():
            raise InputError("reason", "say why the response can be lifted")
        response = session.execute(
            select(ResponseRow).where(ResponseRow.id == response_id).with_for_update()
        ).scalar_one_or_none()
        if response is None:
            raise NotFound(f"no monitor response {response_id}")
        votes = self._check_vote(session, response, actor)
        now = self.ctx.clock.now()
        content = _release_content(response)
        vote.confirm(
            session, ApprovalTerms.of(ApprovalKind.RESPONSE_RELEASE, response_id, actor, content)
        )
        session.add(
            ReleaseVoteRow(
                response_id=response_id, actor=actor, reason=reason.strip(), created_at=now
            )
        )
        votes.append(actor)
        session.flush()
        self.ctx.audit.append(
            session,
            actor=actor,
            action="monitor.release_vote",
            subject=response_id,
            details={"votes": len(votes), "required": RELEASE_QUORUM, "reason": reason.strip()},
        )
        if len(votes) < RELEASE_QUORUM:
            return ReleaseOutcome(response_id, tuple(votes), released=False)
        self._undo(session, response, votes[0], votes[1], reason.strip())
        response.status = "released"
        response.released_at = now
        session.flush()
        self.ctx.audit.append(
            session,
            actor=actor,
            action="monitor.response_released",
            subject=response_id,
            details={"by": votes[:RELEASE_QUORUM], "action": response.action},
        )
        step = four_eyes_approved(
            session,
            step="response.release",
            subject=response_id,
            proposer=votes[0],
            approver=votes[1],
            roles=[SECURITY_ADMIN],
            now=now,
            fields={"response": response_id, "response_action": response.action},
        )
        publish_after_commit(session, self.ctx.bus, step)
        return ReleaseOutcome(response_id, tuple(votes), released=True)

    def _check_vote(self, session: Session, response: ResponseRow, actor: str) -> list[str]:
        """The four-eyes rules for `actor`'s vote; returns the votes cast so far."""
        voter = person_now(session, actor, self.roles_of(session, actor))
        check_first(voter, {SECURITY_ADMIN}, "release a monitor response")
        if response.status != "applied":
            raise Conflict(f"response {response.id} is {response.status}; only applied ones lift")
        votes = list(
            session.execute(
                select(ReleaseVoteRow.actor)
                .where(ReleaseVoteRow.response_id == response.id)
                .order_by(ReleaseVoteRow.created_at, ReleaseVoteRow.actor)
            ).scalars()
        )
        if votes:  # the first vote proposes the release; the next ones are checked
            first = votes[0]
            release = Step(
                what=f"the release of response {response.id}",
                proposer=first,
                proposer_name=person(session, first),
                eligible=frozenset({SECURITY_ADMIN}),
                created_at=response.created_at,
                proposed="voted for",
                # A second vote by the same person has always been a 409 here.
                conflicts=ABOUT_THE_STEP | {Rule.DISTINCT},
            )
            first_now = person_now(session, first, self.roles_of(session, first))
            now = self.ctx.clock.now()
            check_second(release, voter, now=now, counted=votes, proposer_now=first_now)
        return votes

    def _undo(
        self, session: Session, response: ResponseRow, first: str, second: str, reason: str
    ) -> None:
        action = ResponseAction(response.action)
        if action is ResponseAction.FREEZE and response.ref:
            self.actions.unfreeze(
                session,
                ref=response.ref,
                proposer=first,
                approver=second,
                reason=reason,
                released=response.id,
            )
        elif action is ResponseAction.LOCK_ACCOUNT and response.target:
            self.actions.unlock_account(session, user=response.target, reason=reason, actor=second)
        # A held withdrawal and a step-up demand are lifted in their own services.


def _release_content(response: ResponseRow) -> dict[str, Any]:
    """A response as its release votes approve it: what it did, to what, for which alert."""
    return {
        "response": response.id,
        "alert": response.alert_id,
        "rule": response.rule_id,
        "action": response.action,
        "scope": response.scope,
        "target": response.target,
        "ref": response.ref,
        "created_at": response.created_at.isoformat(),
    }
