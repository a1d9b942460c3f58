"""Policy tables: freezes, unfreeze proposals, the address book, velocity, policy versions."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from kinko.store.base import Base, BaseUnits, UTCDateTime


class FreezeRow(Base):
    """A freeze; active while `released_at` is null."""

    __tablename__ = "freezes"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    scope: Mapped[str] = mapped_column(String(16), nullable=False)
    target: Mapped[str | None] = mapped_column(String(200))
    reason: Mapped[str] = mapped_column(String(1000), nullable=False)
    actor: Mapped[str] = mapped_column(String(200), nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    released_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    released_by: Mapped[list[str] | None] = mapped_column(JSON)


class AddressBookEntryRow(Base):
    """An approved destination, in force from `effective_at` until removed or superseded."""

    __tablename__ = "address_book_entries"
    __table_args__ = (Index("ix_address_book_lookup", "chain", "address"),)
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    chain: Mapped[str] = mapped_column(String(32), nullable=False)
    address: Mapped[str] = mapped_column(String(200), nullable=False)
    label: Mapped[str] = mapped_column(String(200), nullable=False)
    owner_kind: Mapped[str] = mapped_column(String(32), nullable=False)
    tiers_allowed: Mapped[list[str]] = mapped_column(JSON, nullable=False)
    proposal_id: Mapped[str] = mapped_column(String(64), nullable=False)
    proposed_by: Mapped[str] = mapped_column(String(200), nullable=False)
    approved_by: Mapped[str] = mapped_column(String(200), nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    effective_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    superseded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    removed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    removed_by: Mapped[str | None] = mapped_column(String(200))


class VelocityCounterRow(Base):
    """One row per (scope, key, asset), locked FOR UPDATE while a reservation is decided,
    so that concurrent requests against the same limit are decided one after another."""

    __tablename__ = "velocity_counters"
    scope: Mapped[str] = mapped_column(String(16), primary_key=True)
    scope_key: Mapped[str] = mapped_column(String(200), primary_key=True)
    asset: Mapped[str] = mapped_column(String(80), primary_key=True)


class VelocityWindowRow(Base):
    """The running total of one rolling window (scope, key, asset, length in seconds).

    `total` is the sum of the unreleased reservations of the ledger with `at` later than
    `horizon`; a decision moves the horizon up to ``now - window`` and subtracts what
    fell out, so no decision has to add up the whole window (see kinko.policy.velocity).
    """

    __tablename__ = "velocity_windows"
    scope: Mapped[str] = mapped_column(String(16), primary_key=True)
    scope_key: Mapped[str] = mapped_column(String(200), primary_key=True)
    asset: Mapped[str] = mapped_column(String(80), primary_key=True)
    seconds: Mapped[int] = mapped_column(Integer, primary_key=True)
    total: Mapped[int] = mapped_column(BaseUnits, nullable=False)
    horizon: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)


class VelocityLedgerRow(Base):
    """An amount reserved by one withdrawal against one (scope, key, asset)."""

    __tablename__ = "velocity_ledger"
    __table_args__ = (Index("ix_velocity_ledger_window", "scope", "scope_key", "asset", "at"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    withdrawal_id: Mapped[str] = mapped_column(String(64), nullable=False, index=True)
    scope: Mapped[str] = mapped_column(String(16), nullable=False)
    scope_key: Mapped[str] = mapped_column(String(200), nullable=False)
    asset: Mapped[str] = mapped_column(String(80), nullable=False)
    amount: Mapped[int] = mapped_column(BaseUnits, nullable=False)
    at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    released_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class PolicyVersionRow(Base):
    """Every policy text that decided something; a version names exactly one text.

    `activation` (1, 2, ...) moves up each time this text takes over from another one, so
    the highest row is the policy in force and a return to an older text is noticed too."""

    __tablename__ = "policy_versions"
    digest: Mapped[str] = mapped_column(String(64), primary_key=True)
    version: Mapped[str] = mapped_column(String(64), nullable=False, unique=True)
    source: Mapped[str] = mapped_column(String(500), nullable=False)
    text: Mapped[str] = mapped_column(Text, nullable=False)
    loaded_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    activated_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    activation: Mapped[int] = mapped_column(Integer, nullable=False, index=True)
    details: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False, default=dict)
