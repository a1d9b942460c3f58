"""Holding a withdrawal: the one step other parts of Kinko take on a withdrawal.

The monitor's ``hold_withdrawal`` response and a re-screen hit hold a withdrawal; neither
needs a chain, a signer or screening, so `WithdrawalHolds` needs only the context and the
policy's velocity release (a held withdrawal gives its reservation back). The withdrawal
service holds through the same function (`hold_row`), so there is one way to hold.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from kinko.context import Context
from kinko.core.errors import InputError
from kinko.core.events import SecurityEvent
from kinko.store.tables.withdrawals import WithdrawalRow
from kinko.withdrawals.ports import PolicyGate
from kinko.withdrawals.records import WithdrawalView, defer_event, load, move, unit_of_work, view
from kinko.withdrawals.states import State


def hold_row(
    ctx: Context,
    policy: PolicyGate,
    session: Session,
    row: WithdrawalRow,
    *,
    reason: str,
    actor: str,
) -> None:
    """Move `row` to HELD in `session` (no-op if it already is): audited, its velocity
    reservation released, ``withdrawal.held`` published after the commit."""
    if move(ctx, session, row, State.HELD, actor=actor, reason=reason):
        policy.release(session, row.id)
        event = SecurityEvent(
            type="withdrawal.held",
            time=ctx.clock.now(),
            actor=actor,
            wallet=row.wallet_id,
            asset=row.asset,
            amount=row.amount,
            destination=row.destination,
            severity="high",
            fields={"withdrawal": row.id, "reason": reason},
        )
        defer_event(session, event)


class WithdrawalHolds:
    """Hold withdrawals, in their own unit of work; no chain gateway needed."""

    def __init__(self, ctx: Context, policy: PolicyGate) -> None:
        self.ctx = ctx
        self.policy = policy

    def hold(self, withdrawal_id: str, *, reason: str, actor: str) -> WithdrawalView:
        """Hold a withdrawal (the monitor's response, a re-screen hit); a no-op if it is
        already held. An unknown id is `NotFound`; a signed one is refused (`Conflict`)."""
        if not reason.strip():
            raise InputError("reason", "say why the withdrawal is held")
        with unit_of_work(self.ctx) as session:
            row = load(session, withdrawal_id, lock=True)
            hold_row(self.ctx, self.policy, session, row, reason=reason, actor=actor)
            return view(session, row)
