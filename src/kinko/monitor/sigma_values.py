"""How one event value meets one Sigma rule value (used by `kinko.monitor.sigma_compile`).

Rules specification v2.1.0, "Detection" > "General": "All values are treated as
case-insensitive strings": a number or boolean meets its text, and `fieldref` compares two
fields as text. Modifiers appendix v2.1.0, "Time Modifiers": a number extracted from a date.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from sigma import types as st

from kinko.monitor.events import FIELD_ALIASES

Event = Mapping[str, Any]
Predicate = Callable[[Event], bool]


def canonical_field(name: str) -> str:
    return FIELD_ALIASES.get(name, name)


def _part(value: datetime, part: st.TimestampPart) -> int:
    if part is st.TimestampPart.MINUTE:
        return value.minute
    if part is st.TimestampPart.HOUR:
        return value.hour
    if part is st.TimestampPart.DAY:
        return value.day
    if part is st.TimestampPart.WEEK:
        return value.isocalendar().week
    if part is st.TimestampPart.MONTH:
        return value.month
    return value.year


def timestamp_part(value: Any, part: st.TimestampPart) -> int | None:
    """The `part` of a date value (modifiers appendix v2.1.0, "Time Modifiers"): a datetime or
    an ISO 8601 string, read in UTC (a naive time is taken as UTC); ``week`` is the ISO week.
    Anything else has no such part (the item does not match)."""
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            return None
    if not isinstance(value, datetime):
        return None
    value = value.astimezone(UTC) if value.tzinfo is not None else value
    return _part(value, part)


def as_text(value: Any) -> str | None:
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    return None


def numeric_or_text(number: int | float) -> Callable[[Any], bool]:
    """A number rule value: equal numbers, or the same text (the spec's values are strings)."""
    text = str(number)

    def test(v: Any) -> bool:
        if isinstance(v, bool):
            return False
        if isinstance(v, int | float):
            return bool(v == number)
        return isinstance(v, str) and v == text

    return test


def bool_or_text(expected: bool) -> Callable[[Any], bool]:
    """A boolean rule value: the event's boolean, or its text in any case."""
    text = "true" if expected else "false"

    def test(v: Any) -> bool:
        if isinstance(v, bool):
            return v is expected
        return isinstance(v, str) and v.casefold() == text

    return test


def cidr_test(network: ipaddress.IPv4Network | ipaddress.IPv6Network) -> Callable[[Any], bool]:
    def in_net(v: Any) -> bool:
        if not isinstance(v, str):
            return False
        try:
            return ipaddress.ip_address(v) in network
        except ValueError:
            return False

    return in_net


def fieldref(name: str, ref: st.SigmaFieldReference) -> Predicate:
    """Compare two fields as case-insensitive strings (an integer 7 equals the text "7").

    pySigma marks ``|fieldref|contains`` as starts_with *and* ends_with, and its backends read
    that pair as "contains" (TextQueryBackend.field_equals_field_contains_expression)."""
    other = canonical_field(ref.field)
    if ref.starts_with and ref.ends_with:
        test: Callable[[str, str], bool] = lambda a, b: b in a  # noqa: E731
    elif ref.starts_with:
        test = str.startswith
    elif ref.ends_with:
        test = str.endswith
    else:
        test = str.__eq__

    def pred(ev: Event) -> bool:
        left, right = ev.get(name), ev.get(other)
        if left is None or right is None:
            return False
        a, b = as_text(left), as_text(right)
        if a is None or b is None:
            return False
        return bool(test(a.casefold(), b.casefold()))

    return pred
