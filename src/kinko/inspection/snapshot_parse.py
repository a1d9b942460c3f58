"""Parsing a daily evidence snapshot's JSON document into its records, refusing anything
else with an InputError naming the field (pure). Balances, tens of thousands a day, take a
fast path that checks each item as the general one does (`_balances`)."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import fields
from datetime import date
from functools import cache
from typing import Any, TypeVar

from kinko.core.errors import InputError
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
)

T = TypeVar("T")
_UNITS = re.compile(r"^(0|[1-9][0-9]{0,77})$")
_ALL_UNITS = re.compile(r"(?:(?:0|[1-9][0-9]{0,77}),)*")

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


def snapshot_fields(
    doc: object, where: str = "snapshot", shared: dict[Any, Any] | None = None
) -> dict[str, Any]:
    """The fields of the `Snapshot` a document describes (`Snapshot.from_json` builds it).

    Equal strings are one object: within the document, and across the documents parsed
    with one `shared` dict (a run's year of days names the same wallets, keys, assets and
    people each day)."""
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
    return dict(
        day=day,
        as_of=_str(d, "as_of", where),
        origin=origin,
        wallets=_items(d, "wallets", where, Wallet, shared),
        balances=None if balances is None else _balances(d, where, shared),
        liabilities=(None if liabilities is None else _items(d, "liabilities", where, Liability)),
        prices=_items(d, "prices", where, Price),
        keys=_items(d, "keys", where, KeyShare, shared),
        people=_items(d, "people", where, Person, shared),
        screening_lists=_items(d, "screening_lists", where, ScreeningList),
        gaps=tuple(_strs(d["gaps"], f"{where}.gaps")),
    )


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
