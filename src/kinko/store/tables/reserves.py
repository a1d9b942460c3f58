"""Proof-of-reserves tables (`kinko.reserves.service`).

`reserves_snapshots`: one row per snapshot: the custody day it was built against, its
nonce and secret (the secret derives every account's key and the padding: it is stored
sealed, never leaves the database and never reaches the audit log), the padding floor, the digest of
its roots and the audit entry that records them. `reserves_roots`: per asset, the root,
height and total liabilities, and the reserves the proven customer wallets held that day.
`reserves_holdings`: what each account held, so that a proof can be made later.
`reserves_controls`: per customer wallet holding a balance at the snapshot's custody day,
its address and, once given, the address's signed statement for the snapshot (proof of
control): only a proven wallet's balance counts as reserves.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from kinko.store.base import Base, BaseUnits, UTCDateTime


class ReserveSnapshotRow(Base):
    __tablename__ = "reserves_snapshots"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    day: Mapped[str] = mapped_column(String(10), nullable=False, index=True)
    taken_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    nonce: Mapped[bytes] = mapped_column(LargeBinary(16), nullable=False)
    secret: Mapped[bytes] = mapped_column(LargeBinary(61), nullable=False)
    """Sealed (`kinko.identity.secretbox`, the data directory's secret key): 61 bytes, bound
    to the snapshot's id. A row of 32 bytes predates sealing (`kinko reserves seal`)."""
    floor: Mapped[int] = mapped_column(Integer, nullable=False)
    roots_digest: Mapped[bytes] = mapped_column(LargeBinary(32), nullable=False)
    passed: Mapped[bool] = mapped_column(Boolean, nullable=False)
    audit_seq: Mapped[int] = mapped_column(Integer, nullable=False)
    created_by: Mapped[str] = mapped_column(String(200), nullable=False)
    statement_id: Mapped[str | None] = mapped_column(String(32))
    """The custody liabilities statement it was built from (None: a ledger file)."""
    source_digest: Mapped[bytes | None] = mapped_column(LargeBinary(32))
    """SHA-256 of that statement's file, or of the ledger file (None: built before #19's
    statements)."""


class ReserveRootRow(Base):
    __tablename__ = "reserves_roots"
    snapshot_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("reserves_snapshots.id"), primary_key=True
    )
    asset: Mapped[str] = mapped_column(String(80), primary_key=True)
    height: Mapped[int] = mapped_column(Integer, nullable=False)
    root: Mapped[bytes] = mapped_column(LargeBinary(32), nullable=False)
    total: Mapped[int] = mapped_column(BaseUnits, nullable=False)
    reserves: Mapped[int] = mapped_column(BaseUnits, nullable=False)


class ReserveHoldingRow(Base):
    __tablename__ = "reserves_holdings"
    __table_args__ = (Index("ix_reserves_holdings_account", "snapshot_id", "account"),)
    snapshot_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("reserves_snapshots.id"), primary_key=True
    )
    asset: Mapped[str] = mapped_column(String(80), primary_key=True)
    account: Mapped[str] = mapped_column(String(200), primary_key=True)
    base_units: Mapped[int] = mapped_column(BaseUnits, nullable=False)


class ReserveControlRow(Base):
    __tablename__ = "reserves_controls"
    snapshot_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("reserves_snapshots.id"), primary_key=True
    )
    wallet_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    chain: Mapped[str] = mapped_column(String(32), nullable=False)
    address: Mapped[str | None] = mapped_column(String(200))
    public_key: Mapped[bytes | None] = mapped_column(LargeBinary(64))
    signature: Mapped[bytes | None] = mapped_column(LargeBinary(65))
    attested_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    attested_by: Mapped[str | None] = mapped_column(String(200))
    audit_seq: Mapped[int | None] = mapped_column(Integer)
