"""The chain watcher's durable position: the last block scanned per chain and network."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from kinko.store.base import Base, UTCDateTime


class WatcherCursorRow(Base):
    """Where the watcher stopped on one chain: the adapter's cursor (a block height)."""

    __tablename__ = "chain_watcher_cursors"
    chain: Mapped[str] = mapped_column(String(32), primary_key=True)
    network: Mapped[str] = mapped_column(String(32), primary_key=True)
    cursor: Mapped[str] = mapped_column(String(200), nullable=False)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
