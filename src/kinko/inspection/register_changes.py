"""Reading governance-register records and the changes a proposal carries (pure).

`parse_record` builds a record (`kinko.inspection.register`) from a JSON object, a YAML
mapping or a CSV row, where every value is text: ``2026-04-01``, ``true``, ``12``, lists
separated by ``;``, findings as a JSON list in their cell. `record_json` is a record's
document and `record_digest` the SHA-256 of its RFC 8785 canonical JSON. A `Change` puts
a record (adds it or replaces the one with its key) or removes one; `parse_changes` reads
a proposal's batch.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import MISSING, dataclass, fields
from datetime import date
from enum import StrEnum
from typing import Any, get_args, get_origin

from kinko.core.canonical import canonical_json
from kinko.core.errors import InputError
from kinko.inspection.register import (
    PEOPLE_FIELDS,
    RECORDS,
    Finding,
    Kind,
    Record,
    kind_of,
    parse_kind,
)
from kinko.inspection.register_fields import Checked, hints, optional_of, text_ok

MAX_CHANGES = 1000
"""The most changes one proposal carries (an import of a bigger file is refused)."""
_TRUE, _FALSE = frozenset({"true", "yes", "1"}), frozenset({"false", "no", "0"})


def _parse_value(name: str, value: object, hint: Any) -> object:
    """`value` as `hint` wants it; text (a CSV cell) is read as the type says."""
    inner = optional_of(hint)
    if inner is not None:
        if value is None or value == "":
            return None
        hint = inner
    if hint is int and isinstance(value, str):
        if not value.strip().isdigit():
            raise InputError(name, f"{value!r} is not a whole number")
        return int(value.strip())
    if hint is bool and isinstance(value, str):
        low = value.strip().lower()
        if low not in _TRUE | _FALSE:
            raise InputError(name, f"{value!r} is not true or false")
        return low in _TRUE
    if hint is date:
        if isinstance(value, date):  # YAML reads dates itself
            return value
        try:
            return date.fromisoformat(str(value))
        except ValueError:
            raise InputError(name, f"{value!r} is not a date like 2026-04-01") from None
    if isinstance(hint, type) and issubclass(hint, StrEnum):
        try:
            return hint(str(value))
        except ValueError:
            raise InputError(
                name, f"{value!r}: use one of {', '.join(m.value for m in hint)}"
            ) from None
    if get_origin(hint) is tuple:
        item = get_args(hint)[0]
        if isinstance(value, str):  # a CSV cell: a;b;c, or findings as JSON
            value = _cell_list(name, value, nested=item is not str)
        if not isinstance(value, list):
            raise InputError(name, "must be a list")
        return tuple(_parse_value(f"{name}[{i}]", one, item) for i, one in enumerate(value))
    if isinstance(hint, type) and hint is Finding:
        return _build(Finding, value, name)
    return value


def _cell_list(name: str, text: str, *, nested: bool) -> list[Any]:
    if not nested:
        return [part.strip() for part in text.split(";") if part.strip()]
    if not text.strip():
        return []
    try:
        loaded = json.loads(text)
    except ValueError:
        raise InputError(name, "in a CSV cell, a JSON list of objects") from None
    if not isinstance(loaded, list):
        raise InputError(name, "in a CSV cell, a JSON list of objects")
    return loaded


def _build(cls: type[Any], data: object, where: str) -> Any:
    if not isinstance(data, Mapping):
        raise InputError(where or "record", "must be an object (a mapping of fields)")
    prefix = f"{where}." if where else ""
    known = {f.name: f for f in fields(cls)}
    unknown = sorted(str(k) for k in data if k not in known)
    if unknown:
        raise InputError(f"{prefix}{unknown[0]}", f"not a field of {cls.__name__.lower()}; "
                         f"the fields are {', '.join(known)}")  # fmt: skip
    values: dict[str, object] = {}
    for name, spec in known.items():
        given = data.get(name)
        if given is None or (given == "" and spec.default is not MISSING):
            if spec.default is MISSING:
                raise InputError(f"{prefix}{name}", "is required")
            continue
        values[name] = _parse_value(f"{prefix}{name}", given, hints(cls)[name])
    try:
        return cls(**values)
    except InputError as exc:
        if exc.field.startswith(prefix):
            raise
        raise InputError(f"{prefix}{exc.field}", exc.message.partition(": ")[2]) from None


def parse_record(kind: Kind, data: object, *, where: str = "") -> Record:
    """The record of `kind` that `data` (a JSON object, YAML mapping or CSV row) describes;
    an `InputError` naming ``where.field`` if it is not one."""
    record: Record = _build(RECORDS[kind], data, where)
    return record


def record_json(record: object) -> Any:
    """The record as a JSON document (dates ISO, enums their value, every field present)."""
    if isinstance(record, Checked):
        return {f.name: record_json(getattr(record, f.name)) for f in fields(record)}  # type: ignore[arg-type]
    if isinstance(record, tuple):
        return [record_json(v) for v in record]
    if isinstance(record, StrEnum):
        return record.value
    if isinstance(record, date):
        return record.isoformat()
    return record


def record_digest(record: Record) -> str:
    """SHA-256 (hex) of the record's RFC 8785 canonical JSON."""
    return hashlib.sha256(canonical_json(record_json(record))).hexdigest()


def people_in(record: Record) -> set[str]:
    """Everyone a record names (`PEOPLE_FIELDS`)."""
    out: set[str] = set()
    for name in PEOPLE_FIELDS:
        value = getattr(record, name, None)
        if isinstance(value, str):
            out.add(value)
        elif isinstance(value, tuple):
            out.update(value)
    return out


# --- changes ---------------------------------------------------------------------------------


class Op(StrEnum):
    PUT = "put"
    """Add the record, or replace the one with its key."""
    REMOVE = "remove"


@dataclass(frozen=True, slots=True)
class Change:
    op: Op
    kind: Kind
    key: str
    record: Record | None = None

    def __post_init__(self) -> None:
        text_ok("key", self.key)
        if (self.op == Op.PUT) != (self.record is not None):
            raise InputError("record", "a put carries its record, a remove only the key")
        if self.record is not None and (
            kind_of(self.record) != self.kind or self.record.key != self.key
        ):
            raise InputError("key", f"the record's key is {self.record.key!r}")

    @classmethod
    def put(cls, record: Record) -> Change:
        return cls(Op.PUT, kind_of(record), record.key, record)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"op": self.op.value, "kind": self.kind.value, "key": self.key}
        if self.record is not None:
            out["record"] = record_json(self.record)
        return out


def parse_change(data: object, *, where: str) -> Change:
    """``{"op": "put", "kind": K, "record": {...}}`` or ``{"op": "remove", "kind": K,
    "key": KEY}``."""
    if not isinstance(data, Mapping):
        raise InputError(where, "a change is an object with op, kind and record (or key)")
    try:
        op = Op(str(data.get("op", "put")))
    except ValueError:
        raise InputError(f"{where}.op", "use put or remove") from None
    kind = parse_kind(data.get("kind"), field=f"{where}.kind")
    if op == Op.PUT:
        record = parse_record(kind, data.get("record"), where=f"{where}.record")
        if data.get("key") not in (None, record.key):
            raise InputError(f"{where}.key", f"the record's key is {record.key!r}")
        return Change.put(record)
    key = data.get("key")
    if not isinstance(key, str):
        raise InputError(f"{where}.key", "name the record to remove by its key")
    try:
        return Change(op, kind, key)
    except InputError as exc:
        raise InputError(f"{where}.{exc.field}", exc.message.partition(": ")[2]) from None


def parse_changes(data: object, *, where: str = "changes") -> tuple[Change, ...]:
    """A batch of changes: at least one, at most `MAX_CHANGES`, each record once."""
    if not isinstance(data, list) or not data:
        raise InputError(where, "a non-empty list of changes")
    if len(data) > MAX_CHANGES:
        raise InputError(where, f"at most {MAX_CHANGES} changes in one proposal; split the file")
    out: list[Change] = []
    seen: dict[tuple[Kind, str], int] = {}
    for i, item in enumerate(data):
        change = parse_change(item, where=f"{where}[{i}]")
        first = seen.setdefault((change.kind, change.key), i)
        if first != i:
            raise InputError(
                f"{where}[{i}]", f"{change.kind.value} {change.key!r} is also {where}[{first}]"
            )
        out.append(change)
    return tuple(out)
