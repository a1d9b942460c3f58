"""Cancelling a withdrawal: who may, in which states, and what it leaves behind.

A withdrawal can be cancelled until it is signed: `requested`, `screened`,
`pending_approval`, `held` and `approved`. Once signed the transaction exists and only
broadcasting or failing remains, so a cancel is refused with ``409 not_cancellable`` (as it
is for one already denied, expired or failed); cancelling a cancelled withdrawal again
changes nothing. Who may cancel is the caller's to decide (`authorise`, called under the
withdrawal's lock with what is shown of it): the API lets the requester cancel their own
request (``withdrawals:cancel``) and anyone else only with ``withdrawals:cancel_any``, each
for the withdrawal's asset and wallet (docs/withdrawals.md).

The move is audited (``withdrawal.cancelled``) in the same transaction, the policy's
velocity reservation is released, and a ``withdrawal.cancelled`` security event is
published once it commits.
"""

from __future__ import annotations

from collections.abc import Callable

from kinko.context import Context
from kinko.core.errors import Conflict, InputError
from kinko.core.events import SecurityEvent
from kinko.withdrawals.ports import Ports
from kinko.withdrawals.records import (
    WithdrawalView,
    defer_event,
    load,
    move,
    unit_of_work,
    view,
)
from kinko.withdrawals.states import State, parse_state

S = State
CANCELLABLE: frozenset[State] = frozenset(
    {S.REQUESTED, S.SCREENED, S.PENDING_APPROVAL, S.HELD, S.APPROVED}
)
"""The states a withdrawal can be cancelled from: everything before it is signed."""

Authorise = Callable[[WithdrawalView], None]


def cancel(
    ctx: Context,
    ports: Ports,
    withdrawal_id: str,
    *,
    actor: str,
    reason: str,
    authorise: Authorise | None = None,
) -> WithdrawalView:
    """Cancel `withdrawal_id` as `actor`; `authorise(view)` raises to refuse the caller."""
    if not reason.strip():
        raise InputError("reason", "say why the withdrawal is cancelled (it is audited)")
    with unit_of_work(ctx) as session:
        row = load(session, withdrawal_id, lock=True)
        if authorise is not None:
            authorise(view(session, row))
        current = parse_state(row.state)
        if current is State.CANCELLED:
            return view(session, row)  # already cancelled: nothing changes, nothing is sent
        if current not in CANCELLABLE:
            allowed = ", ".join(sorted(s.value for s in CANCELLABLE))
            raise Conflict(
                f"withdrawal {withdrawal_id} is {current.value} and can no longer be "
                f"cancelled; only a withdrawal that is {allowed} can",
                code="not_cancellable",
            )
        by_requester = actor.removeprefix("user:") == row.requester
        details = {"by_requester": by_requester}
        move(ctx, session, row, State.CANCELLED, actor=actor, reason=reason, details=details)
        ports.policy.release(session, row.id)
        defer_event(
            session,
            SecurityEvent(
                type="withdrawal.cancelled",
                time=ctx.clock.now(),
                actor=actor,
                outcome="success",
                wallet=row.wallet_id,
                asset=row.asset,
                amount=row.amount,
                destination=row.destination,
                severity="info" if by_requester else "medium",
                fields={
                    "withdrawal": row.id,
                    "withdrawal_id": row.id,
                    "requester": row.requester,
                    "by_requester": by_requester,
                    "from_state": current.value,
                    "reason": reason,
                },
            ),
        )
        return view(session, row)
