"""Security events the withdrawal flow publishes for the monitor (docs/monitor.md).

Each is deferred on the unit of work and published only after it commits. Facts the
monitor's default pack needs but cannot keep itself (has this destination ever been paid?)
are computed here, from Kinko's own records. No price is invented: `amount_usd` is sent
only by a producer that knows one, so this module never sends it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from kinko.core.events import SecurityEvent
from kinko.identity.tenure import tenure_fields
from kinko.store.tables.withdrawals import WithdrawalRow
from kinko.withdrawals.records import defer_event
from kinko.withdrawals.states import State

PAID_STATES = tuple(s.value for s in (State.SIGNED, State.BROADCAST, State.CONFIRMED))
"""A destination is "seen" once a withdrawal to it was signed: requests alone do not count."""


_PAID_BEFORE = (
    select(WithdrawalRow.id)
    .where(
        WithdrawalRow.chain == bindparam("chain"),
        WithdrawalRow.destination == bindparam("destination"),
        WithdrawalRow.state.in_(PAID_STATES),
    )
    .limit(1)
)


def destination_first_seen(session: Session, chain: str, destination: str) -> bool:
    """No withdrawal to `destination` was ever signed (the request being made can't be:
    it is not signed yet)."""
    params = {"chain": chain, "destination": destination}
    return session.execute(_PAID_BEFORE, params).first() is None


def announce_request(
    session: Session,
    row: WithdrawalRow,
    screening: str | None,
    *,
    now: datetime,
    first_seen: bool,
) -> None:
    """`withdrawal.request`, once per new withdrawal, after its first screening/decision.
    `first_seen`: `destination_first_seen`, read when the request was checked."""
    fields: dict[str, Any] = {
        "withdrawal": row.id,
        "withdrawal_id": row.id,
        "destination_first_seen": first_seen,
        "channel": row.channel,
        "state": row.state,
    }
    if screening is not None:
        fields["screening"] = screening
    if row.intent is not None:
        fields["call_kind"] = str(row.intent["call_kind"])
    defer_event(
        session,
        SecurityEvent(
            type="withdrawal.request",
            time=now,
            actor=row.requester,
            wallet=row.wallet_id,
            asset=row.asset,
            amount=row.amount,
            destination=row.destination,
            severity="info",
            fields=fields,
        ),
    )


def approval_attempt(
    *,
    withdrawal_id: str,
    approver: str,
    requester: str | None,
    wallet: str | None,
    now: datetime,
    refusal_code: str | None = None,
) -> SecurityEvent:
    """`withdrawal.approve`: one per approval attempt, granted or refused. The default
    pack compares `actor` with `requester` (a requester approving their own request)."""
    fields: dict[str, Any] = {
        "withdrawal": withdrawal_id,
        "withdrawal_id": withdrawal_id,
        "approver": approver,
        "requester_is_approver": requester is not None and requester == approver,
    }
    if requester is not None:
        fields["requester"] = requester
    if refusal_code is not None:
        fields["code"] = refusal_code
    return SecurityEvent(
        type="withdrawal.approve",
        time=now,
        actor=approver,
        outcome="failure" if refusal_code is not None else "success",
        wallet=wallet,
        severity="info" if refusal_code is None else "high",
        fields=fields,
    )


APPROVING_ROLES = ("approver", "senior_approver")


def announce_quorum(
    session: Session, row: WithdrawalRow, approvers: Sequence[str], *, now: datetime
) -> None:
    """`withdrawal.quorum`, once, when a withdrawal's approvals reach its quorum.

    `approver_grant_days`: for each approver (in `approvers` order), whole days since they
    were granted the approving role they hold longest (0 if they hold none any more);
    `oldest_approver_grant_days` the largest of them. A quorum made up only of people
    granted days ago is how one insider fills it (issue 13): the default pack alerts on it.
    Computed by `kinko.identity.tenure`, as for every four-eyes step."""
    defer_event(
        session,
        SecurityEvent(
            type="withdrawal.quorum",
            time=now,
            actor=approvers[-1] if approvers else None,
            wallet=row.wallet_id,
            asset=row.asset,
            amount=row.amount,
            destination=row.destination,
            outcome="success",
            fields={
                "withdrawal": row.id,
                "withdrawal_id": row.id,
                **tenure_fields(session, approvers, APPROVING_ROLES, now),
                "requester": row.requester,
            },
        ),
    )
