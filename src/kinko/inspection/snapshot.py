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
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, fields
from datetime import UTC, date, datetime
from enum import StrEnum
from functools import cache
from typing import Any, TypeVar, overload

from kinko.core.canonical import canonical_json
from kinko.core.errors import InputError

SCHEMA = "kinko.inspection.snapshot/1"
_UNITS = re.compile(r"^(0|[1-9][0-9]{0,77})$")
_ALL_UNITS = re.compile(r"(?:(?:0|[1-9][0-9]{0,77}),)*")
_PRICE = re.compile(r"^(0|[1-9][0-9]*)(\.[0-9]+)?$")
_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$")


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
        """Parse a document `to_json` wrote; InputError naming the field for anything else.

        Equal strings are one object: within the document, and across the documents
        parsed with one `shared` dict (a run's year of days names the same wallets, keys,
        assets and people each day)."""
        shared = {} if shared is None else shared
        d = _obj(doc, where)
        _keys(d, where, _TOP)
        if d["schema"] != SCHEMA:
            raise InputError(f"{where}.schema", f"must be {SCHEMA!r}")
        try:
            day = date.fromisoformat(_str(d, "day", where))
            origin = Origin(_str(d, "origin", where))
        except ValueError as exc:
            raise InputError(f"{where}.day/origin", str(exc)) from None
        balances = d["balances"]
        liabilities = d["liabilities"]
        return cls(
            day=day,
            as_of=_str(d, "as_of", where),
            origin=origin,
            wallets=_items(d, "wallets", where, Wallet, shared),
            balances=None if balances is None else _balances(d, where, shared),
            liabilities=(
                None if liabilities is None else _items(d, "liabilities", where, Liability)
            ),
            prices=_items(d, "prices", where, Price),
            keys=_items(d, "keys", where, KeyShare, shared),
            people=_items(d, "people", where, Person, shared),
            screening_lists=_items(d, "screening_lists", where, ScreeningList),
            gaps=tuple(_strs(d["gaps"], f"{where}.gaps")),
        )


_TOP = [
    "schema",
    "day",
    "as_of",
    "origin",
    "wallets",
    "balances",
    "liabilities",
    "prices",
    "keys",
    "people",
    "screening_lists",
    "gaps",
]


def digest_of(encoded: bytes) -> str:
    return hashlib.sha256(encoded).hexdigest()


def _same(value: T) -> T:
    return value


def grant_key(g: Grant) -> tuple[str, str, tuple[str, ...], tuple[str, ...]]:
    return (g.role, g.granted_at, g.assets, g.wallets)


T = TypeVar("T")


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


# -- parsing ---------------------------------------------------------------------------


def _obj(value: object, where: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise InputError(where, "must be a JSON object")
    return value


def _keys(d: Mapping[str, Any], where: str, names: Sequence[str]) -> None:
    missing = [n for n in names if n not in d]
    extra = sorted(set(d) - set(names))
    if missing:
        raise InputError(f"{where}.{missing[0]}", "is missing")
    if extra:
        raise InputError(f"{where}.{extra[0]}", "is not a field of the snapshot schema")


def _str(d: Mapping[str, Any], key: str, where: str) -> str:
    value = d[key]
    if not isinstance(value, str):
        raise InputError(f"{where}.{key}", "must be a string")
    return value


def _strs(value: object, where: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise InputError(where, "must be a list of strings")
    return list(value)


def _field(value: object, where: str, kind: Any) -> Any:
    """One field's value checked against its annotation (as a string, `from __future__`)."""
    if kind == "int" and not (isinstance(value, int) and not isinstance(value, bool)):
        raise InputError(where, "must be an integer")
    if kind == "bool" and not isinstance(value, bool):
        raise InputError(where, "must be true or false")
    if kind == "str" and not isinstance(value, str):
        raise InputError(where, "must be a string")
    if kind == "str | None" and value is not None and not isinstance(value, str):
        raise InputError(where, "must be a string or null")
    if kind == "tuple[str, ...]":
        return tuple(_strs(value, where))
    return value


def _units(value: object, where: str) -> int:
    if not isinstance(value, str) or not _UNITS.match(value):
        raise InputError(where, 'must be integer base units as a decimal string, e.g. "1500"')
    return int(value)


def _items(
    d: Mapping[str, Any], key: str, where: str, kind: type[T], shared: dict[Any, Any] | None = None
) -> tuple[T, ...]:
    raw = d[key]
    if not isinstance(raw, list):
        raise InputError(f"{where}.{key}", "must be a list")
    return tuple(_item(v, f"{where}.{key}[{i}]", kind, shared) for i, v in enumerate(raw))


class _Irregular(Exception):
    """A balance the fast path does not take: the checked path says what is wrong."""


_BALANCE_FIELDS = len(fields(Balance))


def _balances(d: Mapping[str, Any], where: str, shared: dict[Any, Any]) -> Sequence[Balance]:
    """`_items(d, "balances", where, Balance)`, fast: a day holds tens of thousands of
    balances, and most of a run's time went to parsing them field by field. Each item is
    checked as `_item` checks it; anything irregular goes the checked way, for its error.
    Equal strings share one object (a wallet's id, an asset, a source, a time), which
    keeps a year of parsed days small."""
    raw = d["balances"]
    if not isinstance(raw, list):
        return _items(d, "balances", where, Balance)
    wallets: list[str] = []
    assets: list[str] = []
    amounts: list[str] = []
    sources: list[str | None] = []
    times: list[str | None] = []
    try:
        for v in raw:
            if type(v) is not dict or len(v) != _BALANCE_FIELDS:
                raise _Irregular
            # Five keys, each one of the five fields: exactly the fields (else KeyError).
            wallet, asset, units = v["wallet"], v["asset"], v["base_units"]
            source, as_of = v["source"], v["as_of"]
            if (
                type(wallet) is not str
                or type(asset) is not str
                or type(units) is not str
                or (source is not None and type(source) is not str)
                or (as_of is not None and type(as_of) is not str)
            ):
                raise _Irregular
            wallets.append(shared.setdefault(wallet, wallet))
            assets.append(shared.setdefault(asset, asset))
            amounts.append(units)
            sources.append(source if source is None else shared.setdefault(source, source))
            times.append(as_of if as_of is None else shared.setdefault(as_of, as_of))
        joined = ",".join(amounts) + ","  # each matches `_UNITS` (and holds no comma)
        if amounts and (joined.count(",") != len(amounts) or not _ALL_UNITS.fullmatch(joined)):
            raise _Irregular
    except (_Irregular, KeyError):
        return _items(d, "balances", where, Balance)
    units = tuple(map(int, amounts))
    return Balances(tuple(wallets), tuple(assets), units, tuple(sources), tuple(times))


@cache
def _spec(kind: type) -> tuple[list[str], tuple[tuple[str, Any], ...]]:
    """A dataclass's field names, and each field's name and annotation (read once)."""
    return [f.name for f in fields(kind)], tuple((f.name, f.type) for f in fields(kind))


def _item(value: object, where: str, kind: type[T], shared: dict[Any, Any] | None = None) -> T:
    d = _obj(value, where)
    names, spec = _spec(kind)  # type: ignore[arg-type]
    if len(d) != len(names) or not all(n in d for n in names):
        _keys(d, where, names)
    args: dict[str, Any] = {}
    for name, kind_of in spec:
        if name == "base_units":
            args[name] = _units(d[name], f"{where}.{name}")
        elif name == "grants":
            at = f"{where}.{name}"
            raw = d[name]
            if not isinstance(raw, list):
                raise InputError(at, "must be a list")
            args[name] = tuple(_item(g, f"{at}[{i}]", Grant, shared) for i, g in enumerate(raw))
        elif kind_of == "str" and type(d[name]) is str:  # the common case, as `_field` checks
            args[name] = d[name] if shared is None else shared.setdefault(d[name], d[name])
        else:
            args[name] = _field(d[name], f"{where}.{name}", kind_of)
            if kind_of == "tuple[str, ...]" and shared is not None:
                args[name] = tuple(shared.setdefault(v, v) for v in args[name])
    return kind(**args)
