"""A refused approval attempt (approve, reject, or asking for an approval challenge):
audited and told to the monitor, in a transaction of its own so that it stays recorded
while the attempt itself is refused."""

from __future__ import annotations

from sqlalchemy.orm import Session

from kinko.context import Context
from kinko.core.errors import KinkoError
from kinko.core.events import SecurityEvent
from kinko.store.tables.withdrawals import WithdrawalRow
from kinko.withdrawals.as_signed import ALTERED
from kinko.withdrawals.events import approval_attempt
from kinko.withdrawals.ports import Ports
from kinko.withdrawals.records import defer_event, unit_of_work


def record_refusal(
    ctx: Context,
    ports: Ports,
    withdrawal_id: str,
    approver: str,
    reason: str,
    *,
    code: str | None,
    totp_failed: bool = False,
) -> None:
    """Audit a refused approval attempt and tell the monitor (fail closed: recorded).
    `code` is set for a refused *approval* (not a rejection): it is also published as a
    `withdrawal.approve` attempt, so the monitor sees requester = approver."""
    try:
        with unit_of_work(ctx) as session:
            if totp_failed:
                ports.directory.record_totp_failure(session, approver)
            if code is not None:
                row = session.get(WithdrawalRow, withdrawal_id)
                defer_event(
                    session,
                    approval_attempt(
                        withdrawal_id=withdrawal_id,
                        approver=approver,
                        requester=None if row is None else row.requester,
                        wallet=None if row is None else row.wallet_id,
                        now=ctx.clock.now(),
                        refusal_code=code,
                    ),
                )
            if code == ALTERED:
                _freeze_altered(ports, session, withdrawal_id)
            ctx.audit.append(
                session,
                actor=approver,
                action="withdrawal.approval_refused",
                subject=withdrawal_id,
                details={"approver": approver, "reason": reason},
            )
            defer_event(
                session,
                SecurityEvent(
                    type="withdrawal.approval_refused",
                    time=ctx.clock.now(),
                    actor=approver,
                    outcome="failure",
                    severity="high",
                    fields={"withdrawal": withdrawal_id, "reason": reason},
                ),
            )
    except KinkoError:
        # The refusal stands even if recording it failed; the original error is raised.
        return


def _freeze_altered(ports: Ports, session: Session, withdrawal_id: str) -> None:
    """Bytes changed after Kinko built them are someone inside the wallet's path (DMM
    Bitcoin): the wallet is frozen at once, as when the signer refuses, not only once the
    monitor has read the refusal."""
    row = session.get(WithdrawalRow, withdrawal_id)
    if row is None:
        return
    ports.freezes.freeze_wallet(
        session,
        row.wallet_id,
        reason=(
            f"the transaction of withdrawal {withdrawal_id} was changed after Kinko built it "
            "(an approval was refused; the audit log has both digests)"
        ),
        actor="system:withdrawals",
    )
