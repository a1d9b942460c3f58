"""People and alerts: the triage lifecycle, and undoing a response (two security admins).

Lifecycle: ``open → acknowledged → resolved | false_positive``; each step records who and
when, so inspection can measure time to triage. A response (freeze, lock) is undone only
when two *distinct* ``security_admin``s have voted to release it: the first vote proposes
it (identity's ``release_response`` proposal), the second approves it with the voter's
bound step-up, under identity's four-eyes rules (a different, active security admin, in
time, while the first voter still is one); `kinko.monitor.release` then undoes it.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from kinko.context import Context
from kinko.core.errors import Conflict, InputError, NotFound, Unavailable
from kinko.identity.approval_terms import ApprovalKind, ApprovalTerms
from kinko.identity.model import ProposalKind, ProposalState, UserId
from kinko.identity.people import person_now
from kinko.identity.proposals import Proposal, Proposals
from kinko.identity.step_ups import SecondVote
from kinko.identity.tenure import roles_holding
from kinko.monitor.actions import KinkoActions, ResponseActions, RoleNames, no_roles
from kinko.monitor.alert import AlertStatus
from kinko.monitor.release import response_in_force
from kinko.store.paging import newest_visible
from kinko.store.tables.monitor import AlertRow

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
    assigned_to: str | None = None
    """Who works on it (``user:<id>``), if anyone was assigned."""
    assigned_at: datetime | None = None

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
        assigned_to=row.assigned_to,
        assigned_at=row.assigned_at,
    )


class TriageService:
    def __init__(
        self,
        ctx: Context,
        *,
        actions: ResponseActions | None = None,
        roles_of: RoleNames | None = None,
        proposals: Proposals | None = None,
    ) -> None:
        """`proposals`: identity's, through which responses are released (the
        composition root, kinko.services, hands them in; without them `Unavailable`)."""
        self.ctx = ctx
        self.proposals = proposals
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

    def assign(self, session: Session, alert_id: str, *, actor: str, assignee: str) -> AlertView:
        """Give an alert still being worked on (open or acknowledged) to `assignee`
        (``usr_…`` or ``user:usr_…``): an active person holding a role that triages alerts
        (``alerts:write``). Reassigning is allowed; every assignment is audited."""
        person = person_now(session, assignee)
        triagers = frozenset(roles_holding("alerts:write"))
        if not person.active or not person.roles & triagers:
            raise InputError(
                "assignee",
                f"{person.called} is not an active person who triages alerts (a role with "
                f"alerts:write: {', '.join(sorted(triagers))}); name someone who is",
            )
        row = self._alert(session, alert_id)
        if AlertStatus(row.status) in CLOSED:
            raise Conflict(f"alert {alert_id} is {row.status}; a closed alert is not assigned")
        before = row.assigned_to
        row.assigned_to = person.ref
        row.assigned_by = actor
        row.assigned_at = self.ctx.clock.now()
        session.flush()
        self.ctx.audit.append(
            session,
            actor=actor,
            action="monitor.alert_assigned",
            subject=row.id,
            details={"assignee": person.ref, "previous": before},
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

    # --- releasing a response: an identity proposal (kinko.monitor.release) -------------
    def approval_content(self, session: Session, response_id: str, actor: str) -> dict[str, Any]:
        """What `actor`'s vote releasing `response_id` approves (their step-up's digest):
        the pending release proposal, once identity's rules say they may approve it."""
        pending = self._pending_release(session, response_id)
        if pending is None:
            response_in_force(session, response_id)  # NotFound / Conflict first
            raise Conflict(
                f"nothing to approve yet: no release of response {response_id} is proposed; "
                "the first security admin's vote proposes it (no security key needed)",
                code="release_not_proposed",
            )
        return self._proposals().approval_content(
            session, pending.id, UserId(actor.removeprefix("user:"))
        )

    def vote_release(
        self, session: Session, response_id: str, *, actor: str, reason: str, vote: SecondVote
    ) -> ReleaseOutcome:
        """The first security admin's vote proposes the release (identity's
        ``release_response`` proposal); a different one's vote approves it, confirmed by
        `vote` (their bound step-up, `kinko.identity.step_ups`), and it is undone."""
        if not reason.strip():
            raise InputError("reason", "say why the response can be lifted")
        proposals = self._proposals()
        person = UserId(actor.removeprefix("user:"))
        pending = self._pending_release(session, response_id)
        if pending is None:
            proposed = proposals.propose(
                session,
                actor=person,
                kind=ProposalKind.RELEASE_RESPONSE,
                payload={"response_id": response_id},
                reason=reason.strip(),
            )
            return ReleaseOutcome(response_id, (f"user:{proposed.proposer_id}",), released=False)
        self.ctx.audit.append(
            session,
            actor=f"user:{person}",
            action="monitor.release_vote",
            subject=response_id,
            details={"proposal": pending.id, "reason": reason.strip()},
        )
        done = proposals.approve(
            session, pending.id, actor=person, vote=_AsReleaseVote(vote, response_id)
        )
        votes = (f"user:{done.proposer_id}", f"user:{person}")
        return ReleaseOutcome(response_id, votes, released=True)

    def _pending_release(self, session: Session, response_id: str) -> Proposal | None:
        pending = self._proposals().list_proposals(session, ProposalState.PENDING)
        found = [
            p
            for p in pending
            if p.kind is ProposalKind.RELEASE_RESPONSE
            and p.payload.get("response_id") == response_id
        ]
        return found[0] if found else None

    def _proposals(self) -> Proposals:
        if self.proposals is None:
            raise Unavailable(
                "releasing a response is an identity proposal, and this triage service was "
                "given none (build it with kinko.services.build_services)"
            )
        return self.proposals


@dataclass(frozen=True, slots=True)
class _AsReleaseVote:
    """The voter's step-up was asked for the release of `response_id` (they know the
    response, not the proposal behind it): check it as such, over the same content."""

    inner: SecondVote
    response_id: str

    def confirm(self, session: Session, terms: ApprovalTerms) -> None:
        release = replace(terms, kind=ApprovalKind.RESPONSE_RELEASE, subject=self.response_id)
        self.inner.confirm(session, release)
