"""The transactional outbox: security events written with the transaction that caused
them, forgotten once every subscriber took them (`kinko.store.outbox`)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from kinko.store.base import Base, UTCDateTime


class OutboxEventRow(Base):
    """The events one transaction announced (one row per transaction: one insert)."""

    __tablename__ = "event_outbox"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)  # random, made by the writer
    # A JSON array of kinko.core.events.encode_event texts, in the order announced.
    events: Mapped[str] = mapped_column(Text, nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, index=True)
    # Relays tried (kinko.store.outbox.sweep); at MAX_ATTEMPTS the row is left for a person.
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
