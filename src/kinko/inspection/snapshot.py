"""The daily evidence snapshot: what the controls of issue #16 read, on one day (pure).

A `Snapshot` is the state of one UTC day as Kinko held it at `as_of`: wallets and their
tiers, balances and liabilities (integer base units), prices, the key inventory, people
with their role grants and MFA factors, and the screening lists in use. Its bytes are the
RFC 8785 canonical JSON of `to_json()` (`encode`) and its digest the SHA-256 of those bytes
(`digest`); the digest is what the audit log holds (docs/inspection.md).

Every list is sorted by its key and holds each key once, so equal evidence has one
encoding; `Snapshot.from_json` refuses anything else (naming the field), and a document
whose re-encoding differs from what was given is refused by the importer
(kinko.inspection.snapshots). Amounts are decimal strings in JSON (they exceed 2^53);
times are RFC 3339 UTC with microseconds and a Z.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, fields
from datetime import date
from typing import Any, TypeVar

from kinko.core.canonical import canonical_json
from kinko.core.errors import InputError
from kinko.inspection.snapshot_parse import snapshot_fields
from kinko.inspection.snapshot_records import (
    SCHEMA,
    Balance,
    Balances,
    Grant,
    KeyShare,
    Liability,
    Origin,
    Person,
    Price,
    ScreeningList,
    Wallet,
    grant_key,
    iso,
)

_PRICE = re.compile(r"^(0|[1-9][0-9]*)(\.[0-9]+)?$")
_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$")
T = TypeVar("T")

__all__ = [
    "SCHEMA",
    "Balance",
    "Balances",
    "Grant",
    "KeyShare",
    "Liability",
    "Origin",
    "Person",
    "Price",
    "ScreeningList",
    "Snapshot",
    "Wallet",
    "digest_of",
    "grant_key",
    "iso",
]


@dataclass(frozen=True, slots=True)
class Snapshot:
    day: date
    as_of: str
    origin: Origin
    wallets: tuple[Wallet, ...]
    balances: Sequence[Balance] | None
    """None: the store held no balances for that day (a back-filled day without a custody
    snapshot); an empty tuple: no balance at all."""
    liabilities: tuple[Liability, ...] | None
    prices: tuple[Price, ...]
    keys: tuple[KeyShare, ...]
    people: tuple[Person, ...]
    screening_lists: tuple[ScreeningList, ...]
    gaps: tuple[str, ...]
    """What this snapshot could not know, in words (a back-filled day's approximations)."""

    def __post_init__(self) -> None:
        _ordered("wallets", self.wallets, lambda w: w.id)
        if isinstance(self.balances, Balances):  # the same checks, on the columns
            columns = self.balances
            keys = tuple(zip(columns.wallets, columns.assets, strict=True))
            _ordered("balances", keys, _same)
            if columns.units and min(columns.units) < 0:
                raise InputError("base_units", f"{min(columns.units)} is negative")
        else:
            _ordered("balances", self.balances or (), lambda b: (b.wallet, b.asset))
        _ordered("liabilities", self.liabilities or (), lambda li: li.asset)
        _ordered("prices", self.prices, lambda p: (p.currency, p.asset))
        _ordered("keys", self.keys, lambda k: k.id)
        _ordered("people", self.people, lambda p: p.id)
        _ordered("screening_lists", self.screening_lists, lambda s: s.list)
        for i, person in enumerate(self.people):
            _ordered(f"people[{i}].grants", person.grants, grant_key, unique=False)
        amounts: tuple[Balance | Liability, ...] = (
            *(() if isinstance(self.balances, Balances) else self.balances or ()),
            *(self.liabilities or ()),
        )
        for item in amounts:
            if item.base_units < 0:
                raise InputError("base_units", f"{item.base_units} is negative")
        for i, price in enumerate(self.prices):
            if not _PRICE.match(price.price):
                raise InputError(f"prices[{i}].price", f"{price.price!r} is not a decimal price")
        if not _TIME.match(self.as_of) or self.as_of[:10] != self.day.isoformat():
            raise InputError("as_of", f"{self.as_of!r} is not a time on {self.day.isoformat()}")

    def to_json(self) -> dict[str, Any]:
        """The document whose canonical JSON is hashed (docs/inspection.md)."""
        return {
            "schema": SCHEMA,
            "day": self.day.isoformat(),
            "as_of": self.as_of,
            "origin": self.origin.value,
            "wallets": [_plain(w) for w in self.wallets],
            "balances": None if self.balances is None else [_plain(b) for b in self.balances],
            "liabilities": (
                None if self.liabilities is None else [_plain(li) for li in self.liabilities]
            ),
            "prices": [_plain(p) for p in self.prices],
            "keys": [_plain(k) for k in self.keys],
            "people": [_plain(p) for p in self.people],
            "screening_lists": [_plain(s) for s in self.screening_lists],
            "gaps": list(self.gaps),
        }

    def encode(self) -> bytes:
        return canonical_json(self.to_json())

    @property
    def digest(self) -> str:
        """SHA-256 of the canonical encoding, lower-case hex."""
        return digest_of(self.encode())

    @classmethod
    def from_json(
        cls, doc: object, where: str = "snapshot", shared: dict[Any, Any] | None = None
    ) -> Snapshot:
        """Parse a document `to_json` wrote; InputError naming the field for anything else
        (`kinko.inspection.snapshot_parse`). Equal strings are one object: within the
        document, and across the documents parsed with one `shared` dict."""
        return cls(**snapshot_fields(doc, where, shared))


def digest_of(encoded: bytes) -> str:
    return hashlib.sha256(encoded).hexdigest()


def _same(value: T) -> T:
    return value


def _ordered(field: str, items: Sequence[T], key: Callable[[T], Any], unique: bool = True) -> None:
    previous: Any = None
    for i, item in enumerate(items):
        current = key(item)
        if i and (current < previous or (unique and current == previous)):
            raise InputError(
                f"{field}[{i}]",
                "out of order or repeated: each list is sorted by its key, each key once",
            )
        previous = current


def _plain(value: Any) -> Any:
    """A dataclass as a JSON object (amounts as decimal strings, tuples as lists)."""
    if isinstance(value, tuple):
        return [_plain(v) for v in value]
    if hasattr(value, "__dataclass_fields__"):
        out = {}
        for f in fields(value):
            item = getattr(value, f.name)
            out[f.name] = str(item) if f.name == "base_units" else _plain(item)
        return out
    return value
