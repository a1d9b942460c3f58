"""Assets and amounts in integer base units.

Parse, don't validate: an `Amount` that exists is a positive integer number of base units
of a known asset. Floats, negatives, zero, NaN, exponents and more decimals than the asset
has are refused with an `InputError` naming the field.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal

from kinko.core.errors import InputError

_SYMBOL = re.compile(r"^[A-Z0-9][A-Z0-9._-]{0,31}$")
_DECIMAL = re.compile(r"^(0|[1-9][0-9]*)(\.[0-9]+)?$")


@dataclass(frozen=True, slots=True)
class Asset:
    """A crypto asset on one chain, e.g. BTC on bitcoin (8 decimals), USDC on ethereum (6)."""

    symbol: str
    chain: str
    decimals: int
    contract: str | None = None

    def __post_init__(self) -> None:
        if not _SYMBOL.match(self.symbol):
            raise InputError("asset.symbol", f"{self.symbol!r} is not an upper-case symbol")
        if not self.chain or not self.chain.islower():
            raise InputError("asset.chain", f"{self.chain!r} is not a lower-case chain name")
        if isinstance(self.decimals, bool) or not isinstance(self.decimals, int):
            raise InputError("asset.decimals", "must be an integer")
        if not 0 <= self.decimals <= 36:
            raise InputError("asset.decimals", f"{self.decimals} is outside 0..36")

    @property
    def key(self) -> str:
        return f"{self.chain}:{self.symbol}"


@dataclass(frozen=True, slots=True, order=False)
class Amount:
    """A strictly positive quantity of `asset` in base units (satoshi, wei, ...)."""

    asset: Asset
    base_units: int

    def __post_init__(self) -> None:
        if isinstance(self.base_units, bool) or not isinstance(self.base_units, int):
            raise InputError(
                "amount",
                f"must be an integer number of base units, got {type(self.base_units).__name__}",
            )
        if self.base_units <= 0:
            raise InputError("amount", f"must be greater than zero, got {self.base_units}")

    @classmethod
    def parse(cls, asset: Asset, text: object, *, field: str = "amount") -> Amount:
        """Parse a decimal string such as ``"1.5"`` into base units of `asset`.

        Only plain decimal strings are accepted: no floats, signs, exponents, spaces,
        thousands separators or more fractional digits than ``asset.decimals``.
        """
        if isinstance(text, bool) or not isinstance(text, str):
            raise InputError(
                field,
                f'must be a decimal string such as "1.5", not a {type(text).__name__}'
                " (floats lose precision)",
            )
        match = _DECIMAL.match(text)
        if match is None:
            raise InputError(
                field,
                f"{text!r} is not a plain decimal number; write digits with an optional "
                "'.' and fraction, e.g. \"0.25\"",
            )
        fraction = (match.group(2) or ".")[1:]
        if len(fraction) > asset.decimals:
            raise InputError(
                field,
                f"{text!r} has {len(fraction)} decimals but {asset.symbol} allows {asset.decimals}",
            )
        units = int(match.group(1)) * 10**asset.decimals
        if fraction:
            units += int(fraction) * 10 ** (asset.decimals - len(fraction))
        return cls(asset, units)

    def to_decimal_string(self) -> str:
        """The exact decimal representation, e.g. ``"1.5"``, never in exponent form."""
        if self.asset.decimals == 0:
            return str(self.base_units)
        whole, frac = divmod(self.base_units, 10**self.asset.decimals)
        frac_text = str(frac).rjust(self.asset.decimals, "0").rstrip("0")
        return f"{whole}.{frac_text}" if frac_text else str(whole)

    def to_decimal(self) -> Decimal:
        return Decimal(self.base_units).scaleb(-self.asset.decimals)

    def _same(self, other: Amount) -> None:
        if other.asset != self.asset:
            raise InputError("amount", f"cannot combine {self.asset.key} with {other.asset.key}")

    def __add__(self, other: Amount) -> Amount:
        self._same(other)
        return Amount(self.asset, self.base_units + other.base_units)

    def __lt__(self, other: Amount) -> bool:
        self._same(other)
        return self.base_units < other.base_units

    def __le__(self, other: Amount) -> bool:
        self._same(other)
        return self.base_units <= other.base_units

    def __str__(self) -> str:
        return f"{self.to_decimal_string()} {self.asset.symbol}"
