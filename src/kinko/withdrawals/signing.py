"""The online signer's port onto the withdrawal records (kinko.signer.online.SignerRecords):
credentials from identity, freezes from policy, the withdrawal's state and digest and its
wallet's tier from the store."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.orm import Session

from kinko.signer.checks import EnrolledCredential
from kinko.signer.online import RecordedWithdrawal
from kinko.store.tables.custody import WalletRow
from kinko.store.tables.withdrawals import WithdrawalRow
from kinko.withdrawals.ports import Ports
from kinko.withdrawals.states import State


class WithdrawalRecords:
    def __init__(self, ports: Ports) -> None:
        self.ports = ports

    def credentials_of(self, session: Session, user: str) -> Sequence[EnrolledCredential]:
        return [
            EnrolledCredential(c.credential_id, c.user, c.public_key_cose)
            for c in self.ports.directory.credentials_of(session, user)
        ]

    def frozen_reason_for_wallet(self, session: Session, wallet_id: str) -> str | None:
        return self.ports.freezes.frozen_reason_for_wallet(session, wallet_id)

    def freeze_wallet(self, session: Session, wallet_id: str, *, reason: str, actor: str) -> None:
        self.ports.freezes.freeze_wallet(session, wallet_id, reason=reason, actor=actor)

    def withdrawal(
        self, session: Session, withdrawal_id: str, wallet_id: str
    ) -> RecordedWithdrawal | None:
        row = session.get(WithdrawalRow, withdrawal_id)
        if row is None:
            return None
        wallet = session.get(WalletRow, wallet_id)
        return RecordedWithdrawal(
            state=row.state,
            approved=row.state == State.APPROVED.value,
            digest=row.digest,
            wallet_tier=None if wallet is None else wallet.tier,
        )
