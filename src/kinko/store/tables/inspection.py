"""Self-inspection tables (issue #16): the daily evidence snapshots."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from kinko.store.base import Base, UTCDateTime


class InspectionSnapshotRow(Base):
    """One day's evidence snapshot (kinko.inspection.snapshot): one per UTC day.

    `document` is the zlib-compressed canonical JSON whose SHA-256 is `digest`; the audit
    entry `audit_seq` (action ``inspection.snapshot``) holds the same digest."""

    __tablename__ = "inspection_snapshots"
    day: Mapped[str] = mapped_column(String(10), primary_key=True)  # YYYY-MM-DD UTC
    digest: Mapped[str] = mapped_column(String(64), nullable=False)
    origin: Mapped[str] = mapped_column(String(16), nullable=False)  # taken | backfilled
    as_of: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    size: Mapped[int] = mapped_column(Integer, nullable=False)  # bytes of canonical JSON
    document: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    recorded_by: Mapped[str] = mapped_column(String(200), nullable=False)
    imported_from: Mapped[str | None] = mapped_column(String(500))
    audit_seq: Mapped[int] = mapped_column(Integer, nullable=False)
