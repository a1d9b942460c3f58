"""Pure formatting for the console's pages: amounts, digests, shares. Integers and
`Decimal` only, never float (an amount shown must be the amount signed).

Each helper returns plain text; the templates put it on the page (autoescaped). Words
are kept out of here where a template can hold them, so that they can be translated
there later (gettext).
"""

from __future__ import annotations

from decimal import Decimal

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
