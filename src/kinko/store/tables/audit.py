"""Audit-log tables.

`audit_entries` holds the entries and their leaf hashes; `audit_nodes` every full-subtree
hash of height >= 1 (one per entry, amortised), so any proof is a single indexed lookup;
`audit_head` the size and the compact range (right edge) that the next append extends;
`audit_checkpoints` every checkpoint the log has signed.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from kinko.store.base import Base, UTCDateTime


class AuditHead(Base):
    """One row: the size and right edge. Locked FOR UPDATE to serialise appends."""

    __tablename__ = "audit_head"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    size: Mapped[int] = mapped_column(BigInteger, nullable=False)
    # Concatenated 32-byte roots of the maximal full subtrees, largest first.
    edge: Mapped[bytes] = mapped_column(LargeBinary, nullable=False, default=b"")


class AuditEntryRow(Base):
    __tablename__ = "audit_entries"
    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    time: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    actor: Mapped[str] = mapped_column(String(200), nullable=False, index=True)
    action: Mapped[str] = mapped_column(String(100), nullable=False, index=True)
    subject: Mapped[str] = mapped_column(String(200), nullable=False, index=True)
    entry: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)
    leaf_hash: Mapped[bytes] = mapped_column(LargeBinary(32), nullable=False)


class AuditNodeRow(Base):
    """Hash of a full subtree, keyed by its in-order index.

    The subtree of 2**level leaves starting at leaf idx * 2**level has in-order index
    ``(idx << (level + 1)) + (1 << level) - 1`` (`kinko.audit.merkle.inorder_index`): one
    integer key, so a proof's nodes are a single primary-key ``IN`` lookup.
    """

    __tablename__ = "audit_nodes"
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    hash: Mapped[bytes] = mapped_column(LargeBinary(32), nullable=False)


class AuditCheckpointRow(Base):
    __tablename__ = "audit_checkpoints"
    size: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    root_hash: Mapped[bytes] = mapped_column(LargeBinary(32), nullable=False)
    note: Mapped[str] = mapped_column(Text, nullable=False)
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
