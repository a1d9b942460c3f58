"""The largest fall of any asset's liabilities between two statements, in basis points."""

from __future__ import annotations

from kinko.custody.statement_drops import Drop, largest_drop


def test_the_asset_that_fell_most_is_named_with_its_fall() -> None:
    before = {"ethereum:ETH": 1_000, "bitcoin:BTC": 400, "ethereum:USDC": 50}
    now = {"ethereum:ETH": 900, "bitcoin:BTC": 100, "ethereum:USDC": 60}
    assert largest_drop(before, now) == Drop("bitcoin:BTC", 7_500)


def test_an_asset_left_out_fell_by_all_of_it_and_a_rise_is_no_fall() -> None:
    assert largest_drop({"ethereum:ETH": 7}, {}) == Drop("ethereum:ETH", 10_000)
    assert largest_drop({"ethereum:ETH": 7}, {"ethereum:ETH": 8}) == Drop(None, 0)
    assert largest_drop({}, {"ethereum:ETH": 8}) == Drop(None, 0)  # the first statement
    assert largest_drop({"ethereum:ETH": 0}, {}) == Drop(None, 0)
