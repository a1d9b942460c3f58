"""What the console's dashboard shows, read through the services (`kinko.services`), each
panel only for those holding the permission the API asks for the same data:

- cold share per regime against its threshold, with the days of custody snapshots
  (``custody:read`` for every asset and wallet, as ``GET /v1/custody/status``);
- what awaits my approval: withdrawals (``withdrawals:approve``, in scope, not mine, not
  yet answered) and four-eyes proposals I may vote on (``users:read``, as
  ``GET /v1/roles/proposals``; the owner's rules say whether I may vote);
- open alerts and the responses in force (``monitor:read``, within scope);
- freezes and pending unfreezes (``custody:read``, within scope, as ``GET /v1/freezes``);
- the audit log's size, last checkpoint (public, as ``GET /v1/audit/checkpoint``);
- screening lists' freshness (``screening:read``, as ``GET /v1/screening/lists``);
- the last self-inspection run (``inspection:read``).

Fail closed: a panel whose data cannot be read carries the reason and nothing else
(`Panel.error`), never a part of its data.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

import structlog
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from kinko.api.scopes import Concern, Scopes
from kinko.core.errors import KinkoError
from kinko.custody import holdings
from kinko.custody.coldshare import JAPAN_MAX_OUTSIDE_COLD, KOREA_MIN_COLD, CheckResult, Regime
from kinko.identity.model import Principal, ProposalKind, ProposalState
from kinko.identity.proposals import Proposal
from kinko.monitor.alert import AlertStatus
from kinko.services import Services
from kinko.store.tables.audit import AuditCheckpointRow
from kinko.store.tables.custody import CustodySnapshotRow
from kinko.store.tables.monitor import ResponseRow
from kinko.web.formatting import percent

log = structlog.get_logger("kinko.web")
HISTORY_DAYS = 14
LISTED = 20  # rows a panel lists (its count says how many there are)


@dataclass(frozen=True, slots=True)
class Panel:
    key: str
    data: Any = None
    error: str | None = None


def panel(key: str, read: Callable[[], Any]) -> Panel:
    """`read()`'s data, or only the reason it could not be read."""
    try:
        return Panel(key, read())
    except KinkoError as exc:
        return Panel(key, error=exc.message)
    except (SQLAlchemyError, OSError) as exc:
        log.error("console.panel_unreadable", panel=key, error=str(exc))
        return Panel(key, error="its data could not be read; the server log says why")


# -- cold share --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Share:
    """One regime's cold-share check on one day (`day` None: now, current holdings)."""

    regime: Regime
    day: date | None
    passed: bool | None
    share: str | None  # percent: in cold (KR), outside cold (JP)
    limit: str  # percent: at least (KR), at most (JP)
    detail: str
    error: str | None = None


def share_of(regime: Regime, check: CheckResult, day: date | None) -> Share:
    """The check as a percentage of what is owed (the check's limit is a fraction of it)."""
    fraction = KOREA_MIN_COLD if regime is Regime.KR else JAPAN_MAX_OUTSIDE_COLD
    owed = check.limit / fraction
    return Share(
        regime,
        day,
        check.passed,
        percent(check.value, owed),
        percent(fraction, Decimal(1), places=0) or "",
        check.detail,
    )


def cold_share(services: Services, principal: Principal) -> dict[str, list[Share]]:
    principal.require_unscoped("custody:read", "the custody status")
    ctx = services.ctx
    today = ctx.clock.now().date()
    out: dict[str, list[Share]] = {}
    with ctx.db.reading() as session:
        days = [
            date.fromisoformat(d)
            for d in session.execute(
                select(CustodySnapshotRow.day)
                .distinct()
                .order_by(CustodySnapshotRow.day.desc())
                .limit(HISTORY_DAYS)
            ).scalars()
        ]
        for regime in Regime:
            rows: list[Share] = []
            for day in (None, *days):
                try:
                    status = holdings.custody_status(
                        session, regime, day or today, from_snapshot=day is not None
                    )
                except KinkoError as exc:
                    rows.append(Share(regime, day, None, None, "", "", exc.message))
                    continue
                rows.append(share_of(regime, status.checks[0], day))
            out[regime.value] = rows
    return out


# -- what awaits me ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Waiting:
    id: str
    what: str  # the proposal's kind
    proposer: str
    created_at: Any
    page: str  # where the vote is cast


def vote_page(p: Proposal) -> str:
    """The console page of `p`'s vote: a response's release has its own (its route takes
    the reason and the response's scope); every other proposal the proposals' page."""
    if p.kind is ProposalKind.RELEASE_RESPONSE and p.payload.get("response_id"):
        return f"/console/approvals/response-release/{p.payload['response_id']}"
    return f"/console/approvals/proposal/{p.id}"


def proposals_for_me(services: Services, principal: Principal) -> list[Waiting]:
    """Pending four-eyes proposals the owner's rules would let me vote on now."""
    roles = services.identity.roles
    out: list[Waiting] = []
    with services.ctx.db.reading() as session:
        for p in roles.list_proposals(session, ProposalState.PENDING):
            try:
                roles.approval_content(session, p.id, principal.subject)
            except KinkoError:
                continue  # mine, about me, not eligible: not waiting for me
            out.append(Waiting(p.id, p.kind.value, p.proposer_id, p.created_at, vote_page(p)))
    return out


# -- alerts, responses, freezes ----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Alerts:
    alerts: list[Any]  # AlertView, newest first (open and acknowledged)
    responses: list[ResponseRow]  # in force (applied, not released), of visible alerts


def alerts(services: Services, principal: Principal) -> Alerts:
    with services.ctx.db.reading() as session:
        scopes = Scopes.within(principal, "monitor:read", session)

        def visible(view: Any) -> bool:
            return scopes.everything or scopes.sees(Concern(asset=view.asset, wallet=view.wallet))

        shown: list[Any] = []
        for status in (AlertStatus.OPEN, AlertStatus.ACKNOWLEDGED):
            shown += services.triage.list_alerts(
                session, status=status, limit=LISTED, visible=visible
            )
        in_force = list(
            session.execute(
                select(ResponseRow)
                .where(ResponseRow.status == "applied", ResponseRow.released_at.is_(None))
                .order_by(ResponseRow.created_at.desc())
            ).scalars()
        )
        seen: dict[str, bool] = {}
        responses = []
        for row in in_force:
            if row.alert_id not in seen:
                seen[row.alert_id] = visible(services.triage.get(session, row.alert_id))
            if seen[row.alert_id]:
                responses.append(row)
        session.expunge_all()
    shown.sort(key=lambda v: v.created_at, reverse=True)
    return Alerts(shown, responses[:LISTED])


@dataclass(frozen=True, slots=True)
class Freezes:
    freezes: list[Any]  # FreezeRecord
    unfreezes: list[Any]  # UnfreezeProposal of those freezes


def freezes(services: Services, principal: Principal) -> Freezes:
    with services.ctx.db.reading() as session:
        scopes = Scopes.within(principal, "custody:read", session)
        shown = [
            f
            for f in services.freezes.active_freezes(session)
            if scopes.sees_freeze(f.scope, f.target)
        ]
        ids = {f.id for f in shown}
        pending = [p for p in services.freezes.pending_unfreezes(session) if p.freeze_id in ids]
    return Freezes(shown, pending)


# -- audit, screening, inspection --------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AuditLog:
    size: int
    checkpoint_size: int | None
    checkpoint_at: Any
    origin: str


def audit_log(services: Services) -> AuditLog:
    ctx = services.ctx
    with ctx.db.reading() as session:
        size = ctx.audit.size(session)
        latest = session.execute(
            select(AuditCheckpointRow).order_by(AuditCheckpointRow.size.desc()).limit(1)
        ).scalar_one_or_none()
    return AuditLog(
        size,
        None if latest is None else latest.size,
        None if latest is None else latest.issued_at,
        ctx.settings.audit_origin,
    )


@dataclass(frozen=True, slots=True)
class Screening:
    versions: list[Any]  # ListVersion, active
    stale: tuple[str, ...]
    open_cases: int  # name hits waiting for a reviewer's decision


def screening(services: Services) -> Screening:
    service = services.screening
    with services.ctx.db.reading() as session:
        return Screening(
            service.versions(session),
            service.freshness(session),
            service.cases.open_count(session),
        )


def last_inspection(services: Services) -> Any:
    """The last self-inspection run (RunEntry) or None; an altered entry is an error."""
    from kinko.inspection.run_history import history

    runs = history(services.ctx, limit=1)
    return runs[-1] if runs else None
