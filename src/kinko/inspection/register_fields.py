"""How the governance register's records check their fields (pure).

`Checked` is the base of every record (`kinko.inspection.register`): when a record is
constructed, each field is checked against its type annotation (text: non-empty, trimmed,
no control characters, at most `MAX_TEXT` characters; whole numbers: 0 to 2^53-1, what
JSON carries exactly; dates; the kind's enumerations; lists of at most `MAX_ITEMS`
distinct items; attachments as SHA-256 digests), then the record's own rules. A value that
breaks one is refused with an `InputError` naming the field.
"""

from __future__ import annotations

import re
from datetime import date
from enum import StrEnum
from types import NoneType, UnionType
from typing import Any, Union, get_args, get_origin, get_type_hints

from kinko.core.canonical import MAX_SAFE_INTEGER
from kinko.core.errors import InputError

MAX_TEXT = 500
MAX_ITEMS = 100
DIGEST = re.compile(r"^[0-9a-f]{64}$")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_HINTS: dict[type, dict[str, Any]] = {}


def hints(cls: type) -> dict[str, Any]:
    """The evaluated type annotations of `cls`'s fields (cached)."""
    found = _HINTS.get(cls)
    if found is None:
        found = _HINTS[cls] = get_type_hints(cls)
    return found


def optional_of(hint: Any) -> Any | None:
    """`X` for an annotation ``X | None``, else None."""
    if get_origin(hint) in (Union, UnionType):
        return next(a for a in get_args(hint) if a is not NoneType)
    return None


def text_ok(name: str, value: object) -> None:
    if not isinstance(value, str) or not value.strip():
        raise InputError(name, "must be non-empty text")
    if value != value.strip() or _CONTROL.search(value) or len(value) > MAX_TEXT:
        raise InputError(
            name, f"at most {MAX_TEXT} characters, no control characters, no outer spaces"
        )


def check_value(name: str, value: object, hint: Any) -> None:
    inner = optional_of(hint)
    if inner is not None:
        if value is None:
            return
        hint = inner
    args = get_args(hint)
    if hint is str:
        text_ok(name, value)
    elif hint is bool:
        if not isinstance(value, bool):
            raise InputError(name, "must be true or false")
    elif hint is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise InputError(name, "must be a whole number")
        if not 0 <= value <= MAX_SAFE_INTEGER:
            raise InputError(name, f"must be between 0 and {MAX_SAFE_INTEGER}")
    elif hint is date:
        if not isinstance(value, date):
            raise InputError(name, "must be a date like 2026-04-01")
    elif isinstance(hint, type) and issubclass(hint, StrEnum):
        if not isinstance(value, hint):
            raise InputError(name, f"use one of {', '.join(m.value for m in hint)}")
    elif get_origin(hint) is tuple:
        check_items(name, value, args[0])
    elif not isinstance(value, hint):  # a nested record (a finding): it checked itself
        raise InputError(name, f"must be a {hint.__name__}")


def check_items(name: str, value: object, item: Any) -> None:
    if not isinstance(value, tuple):
        raise InputError(name, "must be a list")
    if len(value) > MAX_ITEMS:
        raise InputError(name, f"at most {MAX_ITEMS} items")
    for i, one in enumerate(value):
        check_value(f"{name}[{i}]", one, item)
    if item is str and len(set(value)) != len(value):
        raise InputError(name, "lists each item once")


class Checked:
    """Checks every field against its type when constructed (subclasses add their rules)."""

    __slots__ = ()

    def __post_init__(self) -> None:
        for name, hint in hints(type(self)).items():
            check_value(name, getattr(self, name), hint)
        for i, digest in enumerate(getattr(self, "attachments", ())):
            if not DIGEST.match(digest):
                raise InputError(f"attachments[{i}]", "a SHA-256: 64 lower-case hex digits")
        self._rules()

    def _rules(self) -> None:
        return None


def not_before(later: str, later_day: date | None, earlier: str, earlier_day: date) -> None:
    if later_day is not None and later_day < earlier_day:
        raise InputError(later, f"{later_day} is before {earlier} ({earlier_day})")
