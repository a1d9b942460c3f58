"""Pure formatting for the console's pages: amounts, digests, shares, dates. Integers and
`Decimal` only, never float (an amount shown must be the amount signed).

Each helper returns plain text; the templates put it on the page (autoescaped). Words
are kept out of here where a template can hold them (translated there, gettext).

Per locale (the console's environments bind `locale`): numbers keep every digit — the
digits are Kinko's, exact — and take the locale's grouping sizes, group, decimal and
minus symbols from Babel's locale data (Babel's own formatting rounds a Decimal of more
than 28 digits, and a uint256 amount has 78); dates and times go through Babel, always
in UTC and saying so.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import TypeVar

from babel import Locale
from babel.dates import format_date, format_datetime
from babel.numbers import get_decimal_symbol, get_group_symbol, get_minus_sign_symbol

T = TypeVar("T")
MAX_DECIMALS = 77  # more than any asset has (uint256 holds ~1.16e77)
SHORT_CODE_HEX = 8  # hex digits taken from each end of a digest


def units(base_units: int, decimals: int) -> str:
    """`base_units` in the asset's whole units, exactly: ``units(1_500_000, 6) == "1.5"``,
    thousands grouped (``"1,234.000001"``), no trailing zeros, a minus sign if negative."""
    if isinstance(base_units, bool) or not isinstance(base_units, int):
        raise TypeError(f"base units must be an integer, not {type(base_units).__name__}")
    if isinstance(decimals, bool) or not isinstance(decimals, int):
        raise TypeError(f"decimals must be an integer, not {type(decimals).__name__}")
    if not 0 <= decimals <= MAX_DECIMALS:
        raise ValueError(f"decimals must be between 0 and {MAX_DECIMALS}, not {decimals}")
    sign = "-" if base_units < 0 else ""
    whole, fraction = divmod(abs(base_units), 10**decimals)
    text = f"{sign}{whole:,}"
    if fraction:
        text += "." + str(fraction).rjust(decimals, "0").rstrip("0")
    return text


def short_code(digest_hex: str) -> str:
    """A digest's first and last eight hex digits, grouped to read aloud or compare on a
    second device that shows the whole digest: ``"1A2B 3C4D … 5E6F 7A8B"``."""
    text = digest_hex.lower().removeprefix("0x")
    if len(text) < 4 * SHORT_CODE_HEX or any(c not in "0123456789abcdef" for c in text):
        raise ValueError(f"not a hex digest of at least {4 * SHORT_CODE_HEX} digits")
    head, tail = text[:SHORT_CODE_HEX].upper(), text[-SHORT_CODE_HEX:].upper()
    return f"{head[:4]} {head[4:]} … {tail[:4]} {tail[4:]}"


def percent(part: Decimal, whole: Decimal, places: int = 2) -> str | None:
    """`part` as a percentage of `whole` (``"95.25"``), rounded half-even to `places`;
    None when `whole` is zero (no share of nothing)."""
    if whole == 0:
        return None
    value = (part * 100 / whole).quantize(Decimal(1).scaleb(-places))
    return f"{value:f}"


def _grouped(digits: str, sizes: tuple[int, int], symbol: str) -> str:
    first, rest = sizes
    if len(digits) <= first:
        return digits
    head, groups = digits[:-first], [digits[-first:]]
    while len(head) > rest:
        head, groups = head[:-rest], [head[-rest:], *groups]
    return symbol.join([head, *groups])


def number(value: int | Decimal | str, locale: str = "en") -> str:
    """`value` exactly, with `locale`'s grouping and symbols: ``number(Decimal("1234.5"),
    "de") == "1.234,5"``. A string is an amount as `units` wrote it (English grouping),
    read back exactly; anything that is not a number is shown as it is."""
    if isinstance(value, (bool, float)):
        raise TypeError(f"not an exact number: {type(value).__name__}")
    if isinstance(value, str):
        try:
            exact = Decimal(value.replace(",", ""))
        except ArithmeticError:
            return value
    else:
        exact = Decimal(value)
    if not exact.is_finite():
        return str(value)
    text = f"{exact.copy_abs():f}"
    whole, _, fraction = text.partition(".")
    where = Locale.parse(locale)
    sizes = where.decimal_formats[None].grouping
    shown = _grouped(whole, sizes, get_group_symbol(where))
    if fraction:  # as many places as the value has (units() writes no trailing zero)
        shown += get_decimal_symbol(where) + fraction
    return (get_minus_sign_symbol(where) if exact < 0 else "") + shown


def share(percent_text: str | Decimal, locale: str = "en") -> str:
    """A percentage (`percent`'s text, ``"95.25"``) in `locale`'s percent pattern."""
    pattern = str(Locale.parse(locale).percent_formats[None].pattern)
    return pattern.replace("#,##0", number(Decimal(percent_text), locale), 1)


def _iso(text: str | None, parse: Callable[[str], T]) -> T | None:
    """`text` read as ISO 8601 by `parse`, or None (no text, or not ISO)."""
    try:
        return parse(text) if text else None
    except ValueError:
        return None


def when(value: datetime | date | str | None, locale: str = "en") -> str:
    """A moment in `locale`'s medium format, in UTC, saying so (``"Dec 7, 2026, 2:03:01
    PM UTC"``, ``"2026/12/07 14:03:01 UTC"``); a naive datetime is taken as UTC, a date
    is a day (`day`); an ISO text is read; anything else is shown as it is."""
    if value is None or isinstance(value, str):
        read = _iso(value, datetime.fromisoformat)
        return when(read, locale) if read is not None else value or ""
    if not isinstance(value, datetime):
        return day(value, locale)
    moment = value if value.tzinfo else value.replace(tzinfo=UTC)
    return f"{format_datetime(moment, 'medium', tzinfo=UTC, locale=locale)} UTC"


def day(value: date | str | None, locale: str = "en") -> str:
    """A day in `locale`'s medium date format (``"Dec 7, 2026"``, ``"2026/12/07"``)."""
    if value is None or isinstance(value, str):
        read = _iso(value, date.fromisoformat)
        return day(read, locale) if read is not None else value or ""
    if isinstance(value, datetime) and value.tzinfo:
        value = value.astimezone(UTC)
    return str(format_date(value, "medium", locale=locale))
