"""Valuing snapshot holdings: fiat values, shares, trailing average prices (pure).

A price is of one whole unit (``asset_prices``), so base units are divided by 10^decimals
(the asset registry's). Korea values holdings at the asset's average KRW price over a
trailing window (365 days): here the average of the KRW prices the daily snapshots of the
window hold. A day of the window without a snapshot is missing evidence, except days
before the first snapshot Kinko ever recorded (`began`): the window then starts at it.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from kinko.inspection.evaluate import Held


class Lacks(Protocol):
    def lack(self, day: date, what: str) -> None: ...


def value_of(  # noqa: PLR0917 (the caller's tally and day, then what to value)
    t: Lacks,
    day: date,
    units: Mapping[str, int],
    prices: Mapping[str, Decimal],
    decimals: Mapping[str, int],
    currency: str,
) -> Decimal | None:
    """The fiat value of `units` (per asset); None, with each lack recorded, when an asset
    has no price or no known decimals."""
    total = Decimal(0)
    complete = True
    for asset, amount in sorted(units.items()):
        if amount == 0:
            continue
        if asset not in decimals:
            t.lack(day, f"{asset}: not in the asset registry (its decimals are unknown)")
            complete = False
        elif asset not in prices:
            t.lack(day, f"prices: no {currency} price of {asset} on or before this day")
            complete = False
        else:
            total += Decimal(amount) * prices[asset] / (Decimal(10) ** decimals[asset])
    return total if complete else None


def ratio(part: Decimal, whole: Decimal) -> Decimal | None:
    """part / whole; 1 when both are zero (nothing owed, nothing held); None when only
    `whole` is zero."""
    if whole == 0:
        return Decimal(1) if part == 0 else None
    return part / whole


class TrailingPrices:
    """Average `currency` prices over the `window` days up to a day, from the snapshots."""

    def __init__(
        self,
        snapshots: Mapping[date, Held],
        currency: str,
        window: int,
        end: date,
        began: date | None,
    ) -> None:
        self.window = window
        self.currency = currency
        self.began = began if began is not None else (min(snapshots) if snapshots else end)
        self.snapshots = snapshots
        span = max(0, (end - self.began).days + 1)
        # Prefix sums over the days began..end: held days, and per asset price sums/counts.
        self._held = [0] * (span + 1)
        self._sums: dict[str, list[Decimal]] = {}
        self._counts: dict[str, list[int]] = {}
        for i in range(span):
            held = snapshots.get(self.began + timedelta(days=i))
            self._held[i + 1] = self._held[i] + (held is not None)
            seen = (
                {}
                if held is None
                else {
                    p.asset: Decimal(p.price)
                    for p in held.snapshot.prices
                    if p.currency == currency
                }
            )
            for asset in seen.keys() - self._sums.keys():
                self._sums[asset] = [Decimal(0)] * (span + 1)
                self._counts[asset] = [0] * (span + 1)
            for asset, sums in self._sums.items():
                counts = self._counts[asset]
                price = seen.get(asset)
                sums[i + 1] = sums[i] + (price if price is not None else 0)
                counts[i + 1] = counts[i] + (price is not None)

    def at(self, day: date) -> tuple[dict[str, Decimal], list[date], str | None]:
        """The averages at `day`, the days whose snapshots they used, and what is missing."""
        start = max(day - timedelta(days=self.window - 1), self.began)
        lo, hi = (start - self.began).days, (day - self.began).days + 1
        if hi <= 0 or lo >= len(self._held):
            return {}, [], f"no snapshot in the trailing {self.window}-day price window"
        absent = (hi - lo) - (self._held[hi] - self._held[lo])
        used = [
            start + timedelta(days=i)
            for i in range(hi - lo)
            if start + timedelta(days=i) in self.snapshots
        ]
        if absent:
            first = next(d for d in _days(start, day) if d not in self.snapshots)
            return (
                {},
                used,
                f"the trailing {self.window}-day {self.currency} price window lacks the "
                f"snapshots of {absent} day(s) (the first {first.isoformat()})",
            )
        averages = {}
        for asset, sums in self._sums.items():
            count = self._counts[asset][hi] - self._counts[asset][lo]
            if count:
                averages[asset] = (sums[hi] - sums[lo]) / count
        return averages, used, None


def _days(start: date, end: date) -> list[date]:
    return [start + timedelta(days=i) for i in range((end - start).days + 1)]
