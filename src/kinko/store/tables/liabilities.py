"""Customer liabilities per account: dated statements (`kinko.custody.statements`).

`liability_statements`: one row per imported statement: the cut-off it states (`as_of`),
who imported it and when, the file's SHA-256, its format, how many rows it had and how
many non-zero holdings were kept, and the audit entry that records the import.
`liability_totals`: per statement and asset, the total owed and how many accounts hold it.
`liability_balances`: per statement, account and asset, the base units owed (zero rows are
not kept). Statements are never edited: a correction is a new statement.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from kinko.store.base import Base, BaseUnits, UTCDateTime


class LiabilityStatementRow(Base):
    __tablename__ = "liability_statements"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    as_of: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, index=True)
    imported_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    imported_by: Mapped[str] = mapped_column(String(200), nullable=False)
    source: Mapped[str] = mapped_column(String(200), nullable=False)
    format: Mapped[str] = mapped_column(String(8), nullable=False)
    digest: Mapped[bytes] = mapped_column(LargeBinary(32), nullable=False, index=True)
    rows: Mapped[int] = mapped_column(Integer, nullable=False)
    holdings: Mapped[int] = mapped_column(Integer, nullable=False)
    audit_seq: Mapped[int] = mapped_column(Integer, nullable=False)


class LiabilityTotalRow(Base):
    __tablename__ = "liability_totals"
    statement_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("liability_statements.id"), primary_key=True
    )
    asset: Mapped[str] = mapped_column(String(80), primary_key=True)
    base_units: Mapped[int] = mapped_column(BaseUnits, nullable=False)
    holders: Mapped[int] = mapped_column(Integer, nullable=False)


class LiabilityBalanceRow(Base):
    __tablename__ = "liability_balances"
    statement_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("liability_statements.id"), primary_key=True
    )
    asset: Mapped[str] = mapped_column(String(80), primary_key=True)
    account: Mapped[str] = mapped_column(String(200), primary_key=True)
    base_units: Mapped[int] = mapped_column(BaseUnits, nullable=False)
