"""Dates as the lists write them."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from kinko.core.errors import InputError

_MONTH_NAMES = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_MONTHS = {m: i for i, m in enumerate(_MONTH_NAMES, 1)}
_DMY = re.compile(r"^(\d{1,2}) ([A-Za-z]{3}) (\d{4})$")
_MY = re.compile(r"^([A-Za-z]{3}) (\d{4})$")


def parse_published_date(value: str, field: str) -> datetime:
    """``2024-05-28``, ``2024-05-28T00:00:00`` or OFAC's legacy ``05/28/2024``."""
    value = value.strip()
    try:
        if re.match(r"^\d{2}/\d{2}/\d{4}$", value):
            parsed = datetime.strptime(value, "%m/%d/%Y")
        else:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as exc:
        raise InputError(field, f"{value!r} is not a date", code="list_incomplete") from exc
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def parse_birth_date(value: str) -> str:
    """Normalise ``15 Aug 1984`` / ``Aug 1984`` / ``1984`` / ``1984-08-15`` to ISO prefixes.

    Values that match none of these (``circa 1979``, ranges) are kept as written; the name
    matcher then ignores them rather than guessing.
    """
    value = value.strip()
    m = _DMY.match(value)
    if m and m.group(2).lower() in _MONTHS:
        return f"{int(m.group(3)):04d}-{_MONTHS[m.group(2).lower()]:02d}-{int(m.group(1)):02d}"
    m = _MY.match(value)
    if m and m.group(1).lower() in _MONTHS:
        return f"{int(m.group(2)):04d}-{_MONTHS[m.group(1).lower()]:02d}"
    return value
