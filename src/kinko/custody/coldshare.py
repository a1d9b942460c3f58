"""Cold-storage arithmetic per regulatory regime (pure).

Japan (Payment Services Act and the Cabinet Office Ordinance on Crypto-Asset Exchange
Service Providers, management of users' property): customer crypto assets managed
outside cold wallets must be at most 5% of the yen value of all customer crypto assets,
in aggregate, at the prices of the snapshot; and the exchange must hold its own
"performance guarantee" crypto assets of the same kind and at least the same quantity as
the customer assets it manages hot.
Korea (Virtual Asset User Protection Act and its enforcement decree, custody of users'
virtual assets): at least 80% of users' virtual assets in cold wallets, valued at the
trailing one-year average KRW price.
Everywhere: full reserve per asset (customer wallets hold at least what customers are
owed) and no commingling (one address never serves two owner classes).

Kinko's definitions, documented in docs/custody.md: "customer crypto assets" are the
liabilities (what customers are owed); "outside cold" is every customer wallet whose tier
is hot or warm; a missing price or an unknown asset fails closed (`Unavailable`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, localcontext
from enum import StrEnum

from kinko.core.errors import InputError, Unavailable
from kinko.custody.model import OwnerClass, Tier, WalletId

JAPAN_MAX_OUTSIDE_COLD = Decimal("0.05")
KOREA_MIN_COLD = Decimal("0.80")
_PRECISION = 100


class Regime(StrEnum):
    JP = "jp"
    KR = "kr"

    @property
    def currency(self) -> str:
        return "JPY" if self is Regime.JP else "KRW"


@dataclass(frozen=True, slots=True)
class WalletInfo:
    id: WalletId
    tier: Tier
    owner: OwnerClass
    address: str | None = None


Bucket = tuple[Tier, OwnerClass]


@dataclass(frozen=True)
class BalanceMatrix:
    """Balances of many wallets, one column per asset, rows in `wallets` order.

    Rows are kept grouped by (tier, owner class), so per-bucket totals are C-level sums
    over contiguous slices; that is what keeps a year of daily snapshots fast.
    """

    wallets: tuple[WalletInfo, ...]
    balances: Mapping[str, Sequence[int]]
    _slices: dict[Bucket, slice] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        slices: dict[Bucket, slice] = {}
        start = 0
        for i, wallet in enumerate(self.wallets):
            bucket = (wallet.tier, wallet.owner)
            if i and bucket != (self.wallets[i - 1].tier, self.wallets[i - 1].owner):
                prev = self.wallets[i - 1]
                if (prev.tier, prev.owner) in slices or bucket in slices:
                    raise InputError("wallets", "rows must be grouped by tier and owner class")
                slices[(prev.tier, prev.owner)] = slice(start, i)
                start = i
        if self.wallets:
            last = self.wallets[-1]
            if (last.tier, last.owner) in slices:
                raise InputError("wallets", "rows must be grouped by tier and owner class")
            slices[(last.tier, last.owner)] = slice(start, len(self.wallets))
        for asset, column in self.balances.items():
            if len(column) != len(self.wallets):
                raise InputError(f"balances.{asset}", "one value per wallet is required")
        object.__setattr__(self, "_slices", slices)

    @classmethod
    def from_rows(
        cls, wallets: Iterable[WalletInfo], rows: Iterable[tuple[str, str, int]]
    ) -> BalanceMatrix:
        """Build from (wallet id, asset, base units) rows; unknown wallets are refused."""
        ordered = tuple(sorted(wallets, key=lambda w: (w.tier.value, w.owner.value, w.id)))
        index: dict[str, int] = {w.id: i for i, w in enumerate(ordered)}
        columns: dict[str, list[int]] = {}
        for wallet_id, asset, units in rows:
            if wallet_id not in index:
                raise InputError("balances.wallet", f"unknown wallet {wallet_id!r}")
            if isinstance(units, bool) or not isinstance(units, int) or units < 0:
                raise InputError("balances.base_units", f"{units!r} is not a non-negative int")
            column = columns.setdefault(asset, [0] * len(ordered))
            column[index[wallet_id]] += units
        return cls(ordered, columns)

    def total(self, asset: str, tiers: Iterable[Tier], owner: OwnerClass) -> int:
        column = self.balances.get(asset)
        if column is None:
            return 0
        return sum(
            sum(column[self._slices[(tier, owner)]])
            for tier in tiers
            if (tier, owner) in self._slices
        )


@dataclass(frozen=True, slots=True)
class CheckResult:
    name: str
    passed: bool
    value: Decimal
    limit: Decimal
    margin: Decimal  # how far inside (positive) or outside (negative) the limit
    detail: str

    def to_json(self) -> dict[str, object]:
        return {
            "name": self.name,
            "passed": self.passed,
            "value": str(self.value),
            "limit": str(self.limit),
            "margin": str(self.margin),
            "detail": self.detail,
        }


@dataclass(frozen=True, slots=True)
class CustodyStatus:
    regime: Regime
    currency: str
    checks: tuple[CheckResult, ...]

    @property
    def passed(self) -> bool:
        return all(c.passed for c in self.checks)

    def to_json(self) -> dict[str, object]:
        return {
            "regime": self.regime.value,
            "currency": self.currency,
            "passed": self.passed,
            "checks": [c.to_json() for c in self.checks],
        }


def _value(
    units: int, asset: str, prices: Mapping[str, Decimal], decimals: Mapping[str, int]
) -> Decimal:
    if units == 0:
        return Decimal(0)
    if asset not in decimals:
        raise Unavailable(f"unknown asset {asset!r}: register it before valuing holdings")
    price = prices.get(asset)
    if price is None:
        raise Unavailable(f"no price for {asset}; supply one for this snapshot")
    return Decimal(units) * price / (Decimal(10) ** decimals[asset])


@dataclass(frozen=True, slots=True)
class _Sums:
    """Per asset, the base units in the buckets the checks need."""

    outside_cold: int  # customer, hot + warm
    cold: int  # customer, cold
    customer: int  # customer, every tier
    guarantee: int  # guarantee, every tier


def _sums(matrix: BalanceMatrix) -> dict[str, _Sums]:
    slices = matrix._slices
    customer_outside = [
        s for (t, o), s in slices.items() if o is OwnerClass.CUSTOMER and t is not Tier.COLD
    ]
    customer_cold = [
        s for (t, o), s in slices.items() if o is OwnerClass.CUSTOMER and t is Tier.COLD
    ]
    guarantee = [s for (_, o), s in slices.items() if o is OwnerClass.GUARANTEE]
    out = {}
    for asset, column in matrix.balances.items():
        outside = sum([sum(column[s]) for s in customer_outside])
        cold = sum([sum(column[s]) for s in customer_cold])
        out[asset] = _Sums(outside, cold, outside + cold, sum([sum(column[s]) for s in guarantee]))
    return out


def status(
    regime: Regime,
    matrix: BalanceMatrix,
    liabilities: Mapping[str, int],
    prices: Mapping[str, Decimal],
    decimals: Mapping[str, int],
) -> CustodyStatus:
    """Every check for `regime`. For Korea, `prices` are trailing one-year averages."""
    with localcontext() as ctx:
        ctx.prec = _PRECISION
        sums = _sums(matrix)
        empty = _Sums(0, 0, 0, 0)
        assets = sorted(set(liabilities) | set(sums))
        per_asset = {a: sums.get(a, empty) for a in assets}
        checks = [_cold_share(regime, per_asset, liabilities, prices, decimals)]
        if regime is Regime.JP:
            checks.append(_guarantee(per_asset, prices, decimals))
        checks.extend(
            _full_reserve(a, per_asset[a].customer, owed)
            for a, owed in sorted(liabilities.items())
            if owed
        )
        checks.append(no_commingling(matrix.wallets))
    return CustodyStatus(regime, regime.currency, tuple(checks))


def _cold_share(
    regime: Regime,
    per_asset: Mapping[str, _Sums],
    liabilities: Mapping[str, int],
    prices: Mapping[str, Decimal],
    decimals: Mapping[str, int],
) -> CheckResult:
    owed = Decimal(0)
    outside = Decimal(0)
    cold = Decimal(0)
    for asset, sums in per_asset.items():
        owed += _value(liabilities.get(asset, 0), asset, prices, decimals)
        outside += _value(sums.outside_cold, asset, prices, decimals)
        cold += _value(sums.cold, asset, prices, decimals)
    if regime is Regime.JP:
        limit = owed * JAPAN_MAX_OUTSIDE_COLD
        return CheckResult(
            "jp.outside_cold_at_most_5pct",
            outside <= limit,
            outside,
            limit,
            limit - outside,
            f"customer assets outside cold: {outside:.2f} JPY of {owed:.2f} JPY owed",
        )
    floor = owed * KOREA_MIN_COLD
    return CheckResult(
        "kr.cold_at_least_80pct",
        cold >= floor,
        cold,
        floor,
        cold - floor,
        f"customer assets in cold: {cold:.2f} KRW of {owed:.2f} KRW owed "
        "(trailing one-year average prices)",
    )


def _guarantee(
    per_asset: Mapping[str, _Sums], prices: Mapping[str, Decimal], decimals: Mapping[str, int]
) -> CheckResult:
    """Japan: per asset, guarantee holdings >= customer holdings outside cold."""
    shortfall = Decimal(0)
    total_hot = Decimal(0)
    short_assets = []
    for asset, sums in per_asset.items():
        total_hot += _value(sums.outside_cold, asset, prices, decimals)
        if sums.guarantee < sums.outside_cold:
            shortfall += _value(sums.outside_cold - sums.guarantee, asset, prices, decimals)
            short_assets.append(asset)
    detail = "short in " + ", ".join(short_assets) if short_assets else "every asset covered"
    return CheckResult(
        "jp.guarantee_covers_hot",
        not short_assets,
        total_hot - shortfall,
        total_hot,
        -shortfall,
        detail,
    )


def _full_reserve(asset: str, held: int, owed: int) -> CheckResult:
    return CheckResult(
        f"full_reserve.{asset}",
        held >= owed,
        Decimal(held),
        Decimal(owed),
        Decimal(held - owed),
        f"customer wallets hold {held} base units; customers are owed {owed}",
    )


def no_commingling(wallets: Iterable[WalletInfo]) -> CheckResult:
    """No address may belong to wallets of two different owner classes."""
    first: dict[str, OwnerClass] = {}
    mixed: set[str] = set()
    for wallet in wallets:
        if wallet.address and first.setdefault(wallet.address, wallet.owner) is not wallet.owner:
            mixed.add(wallet.address)
    return CheckResult(
        "no_commingling",
        not mixed,
        Decimal(len(mixed)),
        Decimal(0),
        Decimal(-len(mixed)),
        "addresses shared across owner classes: " + ", ".join(sorted(mixed))
        if mixed
        else "none shared",
    )


def trailing_average(prices: Sequence[Decimal]) -> Decimal:
    """Mean of the daily prices in the trailing window (Korea's valuation basis)."""
    if not prices:
        raise Unavailable("no prices in the trailing one-year window")
    with localcontext() as ctx:
        ctx.prec = _PRECISION
        return sum(prices, Decimal(0)) / len(prices)


def rolling_averages(prices: Sequence[Decimal], window: int) -> list[Decimal]:
    """For each day i, the mean of prices[max(0, i - window + 1) : i + 1] (prefix sums)."""
    if window < 1:
        raise InputError("window", "must be at least one day")
    out = []
    with localcontext() as ctx:
        ctx.prec = _PRECISION
        prefix = [Decimal(0)]
        for price in prices:
            prefix.append(prefix[-1] + price)
        for i in range(len(prices)):
            start = max(0, i - window + 1)
            out.append((prefix[i + 1] - prefix[start]) / (i + 1 - start))
    return out
