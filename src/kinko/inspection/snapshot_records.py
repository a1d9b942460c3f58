"""The records a daily evidence snapshot holds (`kinko.inspection.snapshot`): wallets,
balances (also as columns, `Balances`), liabilities, prices, key shares, people with their
grants, screening lists; each a frozen value, amounts in integer base units (pure)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import overload

SCHEMA = "kinko.inspection.snapshot/1"


class Origin(StrEnum):
    TAKEN = "taken"
    """Read from the store's current state at `as_of` (``kinko serve``, ``inspect snapshot``)."""
    BACKFILLED = "backfilled"
    """Rebuilt later from the history the store keeps; `gaps` says what it could not know."""


def iso(when: datetime) -> str:
    """`when` in UTC as the snapshot writes it: ``2026-12-06T00:05:00.000000Z``."""
    aware = when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)
    return aware.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@dataclass(frozen=True, slots=True)
class Wallet:
    id: str
    name: str
    chain: str
    network: str
    tier: str
    owner_class: str
    purpose: str
    quorum_m: int
    quorum_n: int
    assets: tuple[str, ...]
    active: bool
    created_at: str


@dataclass(frozen=True, slots=True)
class Balance:
    wallet: str
    asset: str
    base_units: int
    source: str | None
    as_of: str | None


class Balances(Sequence[Balance]):
    """A day's balances as columns (what parsing a snapshot makes): a year of days holds
    millions of balances, and one object each took most of a run's time and memory. It
    reads, compares and hashes as the tuple of its `Balance` values."""

    __slots__ = ("assets", "sources", "times", "units", "wallets")

    def __init__(
        self,
        wallets: tuple[str, ...],
        assets: tuple[str, ...],
        units: tuple[int, ...],
        sources: tuple[str | None, ...],
        times: tuple[str | None, ...],
    ) -> None:
        self.wallets = wallets
        self.assets = assets
        self.units = units
        self.sources = sources
        self.times = times

    def __len__(self) -> int:
        return len(self.units)

    @overload
    def __getitem__(self, i: int) -> Balance: ...
    @overload
    def __getitem__(self, i: slice) -> tuple[Balance, ...]: ...
    def __getitem__(self, i: int | slice) -> Balance | tuple[Balance, ...]:
        if isinstance(i, slice):
            return tuple(self)[i]
        return Balance(self.wallets[i], self.assets[i], self.units[i], self.sources[i],
                       self.times[i])  # fmt: skip

    def __iter__(self) -> Iterator[Balance]:
        return map(Balance, self.wallets, self.assets, self.units, self.sources, self.times)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Balances):
            return (self.wallets, self.assets, self.units, self.sources, self.times) == (
                other.wallets, other.assets, other.units, other.sources, other.times)  # fmt: skip
        if isinstance(other, tuple):
            return tuple(self) == other
        return NotImplemented

    def __hash__(self) -> int:
        return hash(tuple(self))

    def __repr__(self) -> str:
        return f"Balances({len(self)} balances)"


@dataclass(frozen=True, slots=True)
class Liability:
    asset: str
    base_units: int
    source: str | None
    as_of: str | None


@dataclass(frozen=True, slots=True)
class Price:
    currency: str
    asset: str
    day: str
    """The day the price is of: the latest the store held on or before the snapshot's day."""
    price: str


@dataclass(frozen=True, slots=True)
class KeyShare:
    id: str
    wallet: str
    holder: str
    device: str
    site: str
    legal_entity: str
    public_key: str
    status: str
    created_at: str


@dataclass(frozen=True, slots=True)
class Grant:
    role: str
    assets: tuple[str, ...]
    wallets: tuple[str, ...]
    granted_at: str
    granted_by: str


@dataclass(frozen=True, slots=True)
class Person:
    id: str
    username: str
    state: str | None
    """None: changed after the day, and the store keeps only the current state (backfill)."""
    grants: tuple[Grant, ...]
    webauthn: int
    """Security keys registered and not removed."""
    totp: int
    recovery_codes: int
    """Recovery codes not yet used."""


@dataclass(frozen=True, slots=True)
class ScreeningList:
    list: str
    version: str
    publisher: str
    published: str | None
    sha256: str
    format: str
    loaded_at: str
    entities: int
    addresses: int


def grant_key(g: Grant) -> tuple[str, str, tuple[str, ...], tuple[str, ...]]:
    return (g.role, g.granted_at, g.assets, g.wallets)
