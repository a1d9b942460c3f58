"""Assets and the wallet registry (shared by custody, withdrawals, policy and signer)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from kinko.store.base import Base, BaseUnits, UTCDateTime


class AssetRow(Base):
    __tablename__ = "assets"
    __table_args__ = (UniqueConstraint("chain", "symbol"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    chain: Mapped[str] = mapped_column(String(32), nullable=False)
    symbol: Mapped[str] = mapped_column(String(32), nullable=False)
    decimals: Mapped[int] = mapped_column(Integer, nullable=False)
    contract: Mapped[str | None] = mapped_column(String(100))


class WalletRow(Base):
    __tablename__ = "wallets"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True, nullable=False)
    chain: Mapped[str] = mapped_column(String(32), nullable=False, index=True)
    assets: Mapped[list[str]] = mapped_column(JSON, nullable=False)
    tier: Mapped[str] = mapped_column(String(8), nullable=False)
    owner_class: Mapped[str] = mapped_column(String(16), nullable=False)
    purpose: Mapped[str] = mapped_column(String(32), nullable=False)
    quorum_m: Mapped[int] = mapped_column(Integer, nullable=False)
    quorum_n: Mapped[int] = mapped_column(Integer, nullable=False)
    eligible_roles: Mapped[list[str]] = mapped_column(JSON, nullable=False)
    address: Mapped[str | None] = mapped_column(String(200))
    descriptor: Mapped[str | None] = mapped_column(String(2000))
    limits: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False, default=dict)
    cap_base_units: Mapped[int | None] = mapped_column(BaseUnits)
    floor_base_units: Mapped[int | None] = mapped_column(BaseUnits)
    active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
