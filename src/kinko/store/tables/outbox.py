"""The transactional outbox: security events written with the transaction that caused
them, forgotten once every subscriber took them (`kinko.store.outbox`)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Integer, Text
from sqlalchemy.orm import Mapped, mapped_column

from kinko.store.base import Base, UTCDateTime


class OutboxEventRow(Base):
    __tablename__ = "event_outbox"
    # BIGINT on PostgreSQL, INTEGER (the rowid) on SQLite: both autoincrement.
    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    event: Mapped[str] = mapped_column(Text, nullable=False)  # kinko.core.events.encode_event
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, index=True)
