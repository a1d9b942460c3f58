"""Reporting deadlines per regime, as the organisation writes them (pure).

``REGIME=DURATION`` (``jp=24h``, ``kr=30m``; minutes, hours or days), from the setting
``incident_report_deadlines`` or ``kinko inspect incident --deadline`` (docs/inspection.md).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import timedelta

from kinko.core.errors import InputError

REGIMES = ("jp", "kr")
UNITS = {"m": "minutes", "h": "hours", "d": "days", "minutes": "minutes", "hours": "hours",
         "days": "days"}  # fmt: skip
_DURATION = re.compile(r"^(jp|kr)=(\d+)([mhd])$")


def parse_deadlines(texts: Iterable[str], field: str = "--deadline") -> dict[str, timedelta]:
    """The deadline per regime of `texts`; an `InputError` naming `field` for a bad or
    repeated entry."""
    found: dict[str, timedelta] = {}
    for text in texts:
        match = _DURATION.match(text.strip())
        if match is None:
            raise InputError(
                field, f"{text!r} is not REGIME=DURATION, e.g. jp=24h or kr=30m (m, h, d)"
            )
        regime, number, unit = match.groups()
        if regime in found:
            raise InputError(field, f"{regime} is given twice")
        found[regime] = timedelta(**{UNITS[unit]: int(number)})
    return found
