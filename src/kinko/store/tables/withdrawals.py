"""Withdrawals and their approvals."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from kinko.store.base import Base, BaseUnits, UTCDateTime


class WithdrawalRow(Base):
    """One withdrawal. `signed_tx` and `txid` are written before the state moves on, so a
    restarted service sees what was already signed or sent and never signs twice."""

    __tablename__ = "withdrawals"
    __table_args__ = (
        # "Was this destination ever paid?" (the monitor's first-seen fact, every request)
        Index("ix_withdrawals_destination", "chain", "destination", "state"),
        # The next account nonce: the highest built for a wallet, by state (every request);
        # also serves every lookup by wallet_id
        Index("ix_withdrawals_wallet_nonce", "wallet_id", "state", "account_nonce"),
    )
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    idempotency_key: Mapped[str] = mapped_column(String(200), unique=True, nullable=False)
    request_hash: Mapped[str] = mapped_column(String(64), nullable=False)
    requester: Mapped[str] = mapped_column(String(200), nullable=False, index=True)
    channel: Mapped[str] = mapped_column(String(16), nullable=False)
    wallet_id: Mapped[str] = mapped_column(String(64), nullable=False)
    chain: Mapped[str] = mapped_column(String(32), nullable=False)
    network: Mapped[str] = mapped_column(String(32), nullable=False)
    asset: Mapped[str] = mapped_column(String(32), nullable=False)
    amount: Mapped[int] = mapped_column(BaseUnits, nullable=False)
    destination: Mapped[str] = mapped_column(String(200), nullable=False)
    customer_ref: Mapped[str | None] = mapped_column(String(200))
    memo: Mapped[str | None] = mapped_column(String(500))
    state: Mapped[str] = mapped_column(String(24), nullable=False, index=True)
    reason: Mapped[str | None] = mapped_column(Text)
    decision: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    eligible_roles: Mapped[list[str]] = mapped_column(JSON, nullable=False, default=list)
    unsigned_tx: Mapped[bytes | None] = mapped_column(LargeBinary)
    intent: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    digest: Mapped[str | None] = mapped_column(String(64))
    account_nonce: Mapped[int | None] = mapped_column(BigInteger)
    """For account-based chains (Ethereum): the nonce the unsigned transaction uses."""
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    request_seq: Mapped[int | None] = mapped_column(BigInteger)
    decision_seq: Mapped[int | None] = mapped_column(BigInteger)
    signed_tx: Mapped[bytes | None] = mapped_column(LargeBinary)
    txid: Mapped[str | None] = mapped_column(String(200))
    version: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)


class ApprovalRow(Base):
    """One approver's answer (approve or reject) for one withdrawal's digest."""

    __tablename__ = "withdrawal_approvals"
    __table_args__ = (UniqueConstraint("withdrawal_id", "approver"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    withdrawal_id: Mapped[str] = mapped_column(
        String(64), ForeignKey("withdrawals.id"), nullable=False, index=True
    )
    approver: Mapped[str] = mapped_column(String(200), nullable=False)
    verdict: Mapped[str] = mapped_column(String(8), nullable=False)
    binding: Mapped[str] = mapped_column(String(32), nullable=False)
    digest: Mapped[str] = mapped_column(String(64), nullable=False)
    credential_id: Mapped[bytes | None] = mapped_column(LargeBinary)
    assertion: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    roles: Mapped[list[str]] = mapped_column(JSON, nullable=False)
    audit_seq: Mapped[int] = mapped_column(BigInteger, nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
