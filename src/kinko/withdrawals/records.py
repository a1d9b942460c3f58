"""Read models of a withdrawal, and the helpers every step uses to move it."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from kinko.audit.service import AuditItem, AuditRecord, queue_deferred
from kinko.context import Context
from kinko.core.clock import isoformat
from kinko.core.errors import NotFound
from kinko.core.events import SecurityEvent
from kinko.store.tables.withdrawals import ApprovalRow, WithdrawalRow
from kinko.store.work import UnitOfWork
from kinko.withdrawals.states import State, check_transition, parse_state


@dataclass(frozen=True, slots=True)
class WithdrawalView:
    """What the API, CLI and console show. `intent` is the DECODED transaction."""

    id: str
    state: State
    reason: str | None
    requester: str
    wallet_id: str
    chain: str
    network: str
    asset: str
    amount: int
    destination: str
    customer_ref: str | None
    digest: str | None
    intent: dict[str, Any] | None
    decision: dict[str, Any] | None
    approvals: tuple[dict[str, Any], ...]
    expires_at: datetime | None
    txid: str | None
    created_at: datetime

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "state": self.state.value,
            "reason": self.reason,
            "requester": self.requester,
            "wallet": self.wallet_id,
            "chain": self.chain,
            "network": self.network,
            "asset": self.asset,
            "amount": str(self.amount),
            "destination": self.destination,
            "customer_ref": self.customer_ref,
            "digest": self.digest,
            "intent": self.intent,
            "decision": self.decision,
            "approvals": list(self.approvals),
            "expires_at": None if self.expires_at is None else isoformat(self.expires_at),
            "txid": self.txid,
            "created_at": isoformat(self.created_at),
        }


def load(session: Session, withdrawal_id: str, *, lock: bool = False) -> WithdrawalRow:
    query = select(WithdrawalRow).where(WithdrawalRow.id == withdrawal_id)
    if lock:
        query = query.with_for_update()
    row = session.execute(query).scalar_one_or_none()
    if row is None:
        raise NotFound(f"no withdrawal {withdrawal_id!r}; list them with 'kinko withdraw list'")
    return row


def binding_of(row: ApprovalRow) -> str:
    """How an approval is bound to the digest: `webauthn` or `totp_server_attested`."""
    return row.binding


def approvals_of(session: Session, withdrawal_id: str) -> list[ApprovalRow]:
    return list(
        session.execute(
            select(ApprovalRow)
            .where(ApprovalRow.withdrawal_id == withdrawal_id)
            .order_by(ApprovalRow.id)
        ).scalars()
    )


def view(
    session: Session, row: WithdrawalRow, *, approvals: Sequence[ApprovalRow] | None = None
) -> WithdrawalView:
    """What is shown of `row`; `approvals=()` for a withdrawal created in this transaction."""
    shown = tuple(
        {
            "approver": a.approver,
            "verdict": a.verdict,
            "binding": binding_of(a),
            "roles": list(a.roles),
            "at": isoformat(a.created_at),
        }
        for a in (approvals_of(session, row.id) if approvals is None else approvals)
    )
    return WithdrawalView(
        id=row.id,
        state=parse_state(row.state),
        reason=row.reason,
        requester=row.requester,
        wallet_id=row.wallet_id,
        chain=row.chain,
        network=row.network,
        asset=row.asset,
        amount=row.amount,
        destination=row.destination,
        customer_ref=row.customer_ref,
        digest=row.digest,
        intent=row.intent,
        decision=row.decision,
        approvals=shown,
        expires_at=row.expires_at,
        txid=row.txid,
        created_at=row.created_at,
    )


def move(
    ctx: Context,
    session: Session,
    row: WithdrawalRow,
    target: State,
    *,
    actor: str,
    reason: str | None = None,
    details: dict[str, Any] | None = None,
    action: str | None = None,
) -> bool:
    """Move `row` to `target` with its audit entry in this transaction; False if already there."""
    if not check_transition(parse_state(row.state), target):
        return False
    previous = row.state
    row.state = target.value
    row.reason = reason
    row.version += 1
    row.updated_at = ctx.clock.now()
    audit_later(
        session,
        actor=actor,
        action=action or f"withdrawal.{target.value}",
        subject=row.id,
        details={"from": previous, "to": target.value, "reason": reason, **(details or {})},
    )
    return True


@contextmanager
def unit_of_work(ctx: Context, *, publish: bool = True) -> Iterator[Session]:
    """A transaction whose audit entries are appended together just before it commits
    (one head lock) and whose security events (`defer_event`) are published only after it
    commits. ``publish=False``: the caller publishes them itself,
    `UnitOfWork.of(session).take_events()` (kinko.store.work)."""
    with ctx.db.transaction() as session:
        UnitOfWork.of(session).bind_bus(ctx.bus, keep_events=not publish)
        ctx.audit.begin_deferred(session)
        yield session
        ctx.audit.flush_deferred(session)


def audit_later(
    session: Session,
    *,
    actor: str,
    action: str,
    subject: str,
    details: dict[str, Any],
    on_record: Callable[[AuditRecord], None] | None = None,
) -> None:
    """Queue an audit entry appended just before this unit of work commits (same
    transaction: it commits with the change or neither does)."""
    if not queue_deferred(session, AuditItem(actor, action, subject, details), on_record):
        raise RuntimeError("audit_later needs a session from unit_of_work()")


def defer_event(session: Session, event: SecurityEvent) -> None:
    """Queue `event`; this unit of work publishes it after it commits. Any other session
    would only drop it: refuse (services outside a unit of work use
    `kinko.store.publish.publish_after_commit`)."""
    work = UnitOfWork.of(session)
    if work.bus is None:
        raise RuntimeError("defer_event needs a session from unit_of_work()")
    work.announce(event)
