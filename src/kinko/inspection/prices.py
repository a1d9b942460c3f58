"""Valuing snapshot holdings: fiat values, shares, trailing average prices (pure).

A price is of one whole unit (``asset_prices``), so base units are divided by 10^decimals
(the asset registry's). Korea values holdings at the asset's average KRW price over a
trailing window (365 days): here the average of the KRW prices the daily snapshots of the
window hold. A day of the window without a snapshot is missing evidence, except days
before the first snapshot Kinko ever recorded (`began`): the window then starts at it.
The window is summed as the days pass: it holds its own days' prices, no more.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping
from datetime import date, timedelta
from decimal import Context, Decimal, localcontext
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from kinko.inspection.evaluate import Held


EXACT = Context(prec=60)
"""Sums of prices stay exact in 60 digits (a price is a short decimal string)."""


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
    """Average `currency` prices over the `window` days up to a day, from the snapshots.

    Fed day by day (`observe`, every day in order, held or not), it keeps the window's days
    only: the days of a run's period are not held. `at(day)` answers for the day last
    observed. Sums are exact (60 digits), so adding and dropping days loses nothing.
    """

    def __init__(self, currency: str, window: int, began: date | None) -> None:
        self.window = window
        self.currency = currency
        self.began = began
        """The first day Kinko holds a snapshot of (None: the first day observed held)."""
        self._days: deque[tuple[date, dict[str, Decimal] | None]] = deque()
        self._sums: dict[str, Decimal] = {}
        self._counts: dict[str, int] = {}

    def observe(self, day: date, held: Held | None) -> None:
        if self.began is None and held is not None:
            self.began = day
        if self.began is None or day < self.began:
            return
        seen = None
        if held is not None:
            prices = held.snapshot.prices
            seen = {p.asset: Decimal(p.price) for p in prices if p.currency == self.currency}
        with localcontext(EXACT):
            self._days.append((day, seen))
            for asset, price in (seen or {}).items():
                self._sums[asset] = self._sums.get(asset, Decimal(0)) + price
                self._counts[asset] = self._counts.get(asset, 0) + 1
            first = day - timedelta(days=self.window - 1)
            while self._days[0][0] < first:
                _, gone = self._days.popleft()
                for asset, price in (gone or {}).items():
                    self._sums[asset] -= price
                    self._counts[asset] -= 1

    def at(self, day: date) -> tuple[dict[str, Decimal], list[date], str | None]:
        """The averages at `day` (the day last observed), the days whose snapshots they
        used, and what is missing."""
        if self.began is None or day < self.began or not self._days or self._days[-1][0] != day:
            return {}, [], f"no snapshot in the trailing {self.window}-day price window"
        used = [d for d, seen in self._days if seen is not None]
        absent = [d for d, seen in self._days if seen is None]
        if absent:
            return (
                {},
                used,
                f"the trailing {self.window}-day {self.currency} price window lacks the "
                f"snapshots of {len(absent)} day(s) (the first {absent[0].isoformat()})",
            )
        with localcontext(EXACT):
            averages = {
                asset: self._sums[asset] / count for asset, count in self._counts.items() if count
            }
        return averages, used, None
