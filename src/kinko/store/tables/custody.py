"""Assets and the wallet registry (shared by custody, withdrawals, policy and signer),
key inventory, balances, liabilities, daily snapshots, prices and the signature log."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String, Text, UniqueConstraint
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
    network: Mapped[str] = mapped_column(String(32), nullable=False, default="mainnet")
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


class KeyShareRow(Base):
    """One key share of a wallet: who holds it, on what device, where, since when."""

    __tablename__ = "key_shares"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    wallet_id: Mapped[str] = mapped_column(
        String(64), ForeignKey("wallets.id"), nullable=False, index=True
    )
    holder: Mapped[str] = mapped_column(String(100), nullable=False)  # staff user id
    device: Mapped[str] = mapped_column(String(200), nullable=False)
    site: Mapped[str] = mapped_column(String(200), nullable=False)
    legal_entity: Mapped[str] = mapped_column(String(200), nullable=False)
    public_key: Mapped[str] = mapped_column(String(200), nullable=False)  # xpub or hex key
    ceremony: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False)
    status: Mapped[str] = mapped_column(String(16), nullable=False)
    status_reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    status_changed_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)


class WalletBalanceRow(Base):
    """The latest known balance of one asset in one wallet (chain reading or import)."""

    __tablename__ = "wallet_balances"
    wallet_id: Mapped[str] = mapped_column(String(64), ForeignKey("wallets.id"), primary_key=True)
    asset: Mapped[str] = mapped_column(String(80), primary_key=True)  # "chain:SYMBOL"
    base_units: Mapped[int] = mapped_column(BaseUnits, nullable=False)
    source: Mapped[str] = mapped_column(String(32), nullable=False)
    as_of: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)


class LiabilityRow(Base):
    """What customers are owed, per asset, in base units."""

    __tablename__ = "customer_liabilities"
    asset: Mapped[str] = mapped_column(String(80), primary_key=True)
    base_units: Mapped[int] = mapped_column(BaseUnits, nullable=False)
    source: Mapped[str] = mapped_column(String(200), nullable=False)
    as_of: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)


class CustodySnapshotRow(Base):
    """A daily copy of balances (wallet_id set) and liabilities (wallet_id = '')."""

    __tablename__ = "custody_snapshots"
    __table_args__ = (UniqueConstraint("day", "wallet_id", "asset"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    day: Mapped[str] = mapped_column(String(10), nullable=False, index=True)  # YYYY-MM-DD UTC
    wallet_id: Mapped[str] = mapped_column(String(64), nullable=False)
    asset: Mapped[str] = mapped_column(String(80), nullable=False)
    base_units: Mapped[int] = mapped_column(BaseUnits, nullable=False)
    tier: Mapped[str] = mapped_column(String(8), nullable=False)
    owner_class: Mapped[str] = mapped_column(String(16), nullable=False)


class AssetPriceRow(Base):
    """The price of one whole unit of an asset in a fiat currency on one day (decimal text)."""

    __tablename__ = "asset_prices"
    day: Mapped[str] = mapped_column(String(10), primary_key=True)
    asset: Mapped[str] = mapped_column(String(80), primary_key=True)
    currency: Mapped[str] = mapped_column(String(3), primary_key=True)
    price: Mapped[str] = mapped_column(String(60), nullable=False)


class SignatureLogRow(Base):
    """Every ECDSA signature the exchange's own keys made, for the nonce self-test."""

    __tablename__ = "signature_log"
    __table_args__ = (UniqueConstraint("public_key", "digest"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    chain: Mapped[str] = mapped_column(String(32), nullable=False)
    txid: Mapped[str] = mapped_column(String(100), nullable=False)
    public_key: Mapped[str] = mapped_column(String(66), nullable=False)  # compressed SEC1 hex
    r: Mapped[str] = mapped_column(String(64), nullable=False, index=True)  # 32-byte hex
    s: Mapped[str] = mapped_column(String(64), nullable=False)
    digest: Mapped[str] = mapped_column(String(64), nullable=False)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)


class KeyDelegationRow(Base):
    """Legal entity `from_entity`'s signing for a wallet delegated to `to_entity`, from
    `starts_at` until `ends_at` (kinko.custody.delegations); revoked at once by one person."""

    __tablename__ = "key_delegations"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    wallet_id: Mapped[str] = mapped_column(
        String(64), ForeignKey("wallets.id"), nullable=False, index=True
    )
    from_entity: Mapped[str] = mapped_column(String(200), nullable=False)
    to_entity: Mapped[str] = mapped_column(String(200), nullable=False)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    status: Mapped[str] = mapped_column(String(16), nullable=False)  # active | revoked
    proposal: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_by: Mapped[str | None] = mapped_column(String(200))
    revoke_reason: Mapped[str | None] = mapped_column(Text)
