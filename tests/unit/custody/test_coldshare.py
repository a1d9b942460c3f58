"""Cold-share arithmetic per regime, full reserve, guarantee and commingling."""

from __future__ import annotations

from decimal import Decimal

import pytest

from kinko.core.errors import InputError, Unavailable
from kinko.custody.coldshare import BalanceMatrix, Regime, WalletInfo, status, trailing_average
from kinko.custody.model import OwnerClass, Tier, WalletId

BTC, ETH = "bitcoin:BTC", "ethereum:ETH"
DECIMALS = {BTC: 8, ETH: 18}
PRICES = {BTC: Decimal("10000000"), ETH: Decimal("500000")}  # JPY per whole unit
C, P, G = OwnerClass.CUSTOMER, OwnerClass.PROPRIETARY, OwnerClass.GUARANTEE


def _w(name: str, tier: Tier, owner: OwnerClass = C, address: str | None = None) -> WalletInfo:
    return WalletInfo(WalletId(name), tier, owner, address)


def _matrix(rows: list[tuple[WalletInfo, str, int]]) -> BalanceMatrix:
    wallets = {w.id: w for w, _, _ in rows}
    return BalanceMatrix.from_rows(wallets.values(), [(w.id, a, u) for w, a, u in rows])


def _check(result: object, name: str) -> object:
    return next(c for c in result.checks if c.name == name)  # type: ignore[attr-defined]


def test_japan_passes_at_exactly_five_percent_outside_cold() -> None:
    m = _matrix(
        [
            (_w("hot", Tier.HOT), BTC, 5 * 10**8),
            (_w("cold", Tier.COLD), BTC, 95 * 10**8),
            (_w("guar", Tier.COLD, G), BTC, 5 * 10**8),
        ]
    )
    result = status(Regime.JP, m, {BTC: 100 * 10**8}, PRICES, DECIMALS)
    cold = _check(result, "jp.outside_cold_at_most_5pct")
    assert cold.passed and cold.margin == 0  # type: ignore[attr-defined]
    assert cold.value == Decimal(50_000_000)  # type: ignore[attr-defined]
    assert result.passed


def test_japan_fails_one_satoshi_over_and_reports_a_negative_margin() -> None:
    m = _matrix(
        [(_w("hot", Tier.HOT), BTC, 5 * 10**8 + 1), (_w("cold", Tier.COLD), BTC, 95 * 10**8)]
    )
    result = status(Regime.JP, m, {BTC: 100 * 10**8}, PRICES, DECIMALS)
    cold = _check(result, "jp.outside_cold_at_most_5pct")
    assert not cold.passed  # type: ignore[attr-defined]
    assert cold.margin == Decimal("-0.1")  # one satoshi at 10,000,000 JPY/BTC
    assert not result.passed


def test_japan_counts_warm_as_outside_cold_and_aggregates_across_assets_by_yen() -> None:
    # 4 BTC warm (40M JPY) + 0 ETH outside; total owed 100 BTC (1e9) + 2000 ETH (1e9)
    m = _matrix(
        [
            (_w("warm", Tier.WARM), BTC, 4 * 10**8),
            (_w("cold", Tier.COLD), BTC, 96 * 10**8),
            (_w("ecold", Tier.COLD), ETH, 2000 * 10**18),
            (_w("guar", Tier.COLD, G), BTC, 4 * 10**8),
        ]
    )
    result = status(Regime.JP, m, {BTC: 100 * 10**8, ETH: 2000 * 10**18}, PRICES, DECIMALS)
    cold = _check(result, "jp.outside_cold_at_most_5pct")
    assert cold.limit == Decimal(100_000_000)  # 5% of 2,000,000,000 JPY
    assert cold.margin == Decimal(60_000_000)
    assert result.passed


def test_japan_guarantee_must_cover_hot_customer_holdings_per_asset() -> None:
    m = _matrix(
        [
            (_w("hot", Tier.HOT), BTC, 2 * 10**8),
            (_w("cold", Tier.COLD), BTC, 98 * 10**8),
            (_w("guar", Tier.HOT, G), BTC, 10**8),
        ]
    )
    result = status(Regime.JP, m, {BTC: 100 * 10**8}, PRICES, DECIMALS)
    guarantee = _check(result, "jp.guarantee_covers_hot")
    assert not guarantee.passed  # type: ignore[attr-defined]
    assert guarantee.margin == Decimal(-10_000_000)  # 1 BTC short
    assert BTC in guarantee.detail  # type: ignore[attr-defined]


def test_korea_uses_the_average_price_and_an_80_percent_floor() -> None:
    m = _matrix([(_w("hot", Tier.HOT), BTC, 20 * 10**8), (_w("cold", Tier.COLD), BTC, 80 * 10**8)])
    avg = {BTC: trailing_average([Decimal(100), Decimal(200), Decimal(300)])}
    result = status(Regime.KR, m, {BTC: 100 * 10**8}, avg, DECIMALS)
    cold = _check(result, "kr.cold_at_least_80pct")
    assert cold.passed and cold.margin == 0  # type: ignore[attr-defined]
    assert cold.value == Decimal(16_000)  # 80 BTC x 200 KRW average
    short = _matrix(
        [(_w("hot", Tier.HOT), BTC, 21 * 10**8), (_w("cold", Tier.COLD), BTC, 79 * 10**8)]
    )
    assert not status(Regime.KR, short, {BTC: 100 * 10**8}, avg, DECIMALS).passed


def test_full_reserve_counts_customer_wallets_only() -> None:
    m = _matrix(
        [(_w("cold", Tier.COLD), BTC, 90 * 10**8), (_w("house", Tier.COLD, P), BTC, 50 * 10**8)]
    )
    result = status(Regime.KR, m, {BTC: 100 * 10**8}, {BTC: Decimal(1)}, DECIMALS)
    reserve = _check(result, f"full_reserve.{BTC}")
    assert not reserve.passed  # type: ignore[attr-defined]
    assert reserve.margin == Decimal(-10 * 10**8)  # type: ignore[attr-defined]


def test_an_address_shared_by_customer_and_proprietary_wallets_is_commingling() -> None:
    m = _matrix(
        [
            (_w("a", Tier.COLD, C, "bc1qsame"), BTC, 100 * 10**8),
            (_w("b", Tier.HOT, P, "bc1qsame"), BTC, 1),
        ]
    )
    result = status(Regime.KR, m, {BTC: 100 * 10**8}, {BTC: Decimal(1)}, DECIMALS)
    mixed = _check(result, "no_commingling")
    assert not mixed.passed and "bc1qsame" in mixed.detail  # type: ignore[attr-defined]


def test_missing_price_or_unknown_asset_fails_closed() -> None:
    m = _matrix([(_w("cold", Tier.COLD), BTC, 10**8)])
    with pytest.raises(Unavailable, match="no price for bitcoin:BTC"):
        status(Regime.JP, m, {BTC: 10**8}, {}, DECIMALS)
    with pytest.raises(Unavailable, match="unknown asset 'tron:TRX'"):
        status(Regime.JP, m, {"tron:TRX": 5}, PRICES, DECIMALS)
    with pytest.raises(Unavailable, match="no prices"):
        trailing_average([])


def test_matrix_refuses_unknown_wallets_and_negative_units() -> None:
    with pytest.raises(InputError, match="unknown wallet 'ghost'"):
        BalanceMatrix.from_rows([_w("a", Tier.HOT)], [("ghost", BTC, 1)])
    with pytest.raises(InputError, match="non-negative"):
        BalanceMatrix.from_rows([_w("a", Tier.HOT)], [("a", BTC, -1)])
    with pytest.raises(InputError, match="grouped"):
        BalanceMatrix((_w("a", Tier.HOT), _w("b", Tier.COLD), _w("c", Tier.HOT)), {})


def test_rolling_averages_match_the_plain_trailing_average() -> None:
    from kinko.custody.coldshare import rolling_averages

    prices = [Decimal(p) for p in ("1", "2", "3", "4.5", "10")]
    assert rolling_averages(prices, 3) == [
        trailing_average(prices[max(0, i - 2) : i + 1]) for i in range(5)
    ]
    with pytest.raises(InputError, match="window"):
        rolling_averages(prices, 0)
