"""Amounts are positive integers in base units; everything else is refused by name."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kinko.core.amount import Amount, Asset
from kinko.core.errors import InputError

BTC = Asset("BTC", "bitcoin", 8)
USDC = Asset("USDC", "ethereum", 6, contract="0xA0b86991c6218b36c1d19D4a2e9Eb0cE3606eB48")
ETH = Asset("ETH", "ethereum", 18)


def test_parse_decimal_strings_into_base_units() -> None:
    assert Amount.parse(BTC, "1.5").base_units == 150_000_000
    assert Amount.parse(BTC, "0.00000001").base_units == 1
    assert Amount.parse(ETH, "50").base_units == 50 * 10**18
    assert Amount.parse(USDC, "12.345678").base_units == 12_345_678


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("1.123456789", "has 9 decimals but BTC allows 8"),
        ("-1", "not a plain decimal"),
        ("0", "greater than zero"),
        ("0.0", "greater than zero"),
        ("1e3", "not a plain decimal"),
        ("NaN", "not a plain decimal"),
        ("Infinity", "not a plain decimal"),
        (" 1", "not a plain decimal"),
        ("1,000", "not a plain decimal"),
        ("01", "not a plain decimal"),
        (".5", "not a plain decimal"),
        ("1.", "not a plain decimal"),
        ("+1", "not a plain decimal"),
        ("１", "not a plain decimal"),
    ],
)
def test_refused_texts_name_the_field_and_reason(text: str, reason: str) -> None:
    with pytest.raises(InputError) as info:
        Amount.parse(BTC, text, field="amount")
    assert info.value.field == "amount"
    assert reason in info.value.message


@pytest.mark.parametrize("value", [1.5, 1, True, None, b"1"])
def test_non_strings_are_refused(value: object) -> None:
    with pytest.raises(InputError, match="decimal string"):
        Amount.parse(BTC, value)


def test_constructor_refuses_floats_and_non_positive() -> None:
    with pytest.raises(InputError):
        Amount(BTC, 1.0)  # type: ignore[arg-type]
    with pytest.raises(InputError):
        Amount(BTC, 0)
    with pytest.raises(InputError):
        Amount(BTC, -5)
    with pytest.raises(InputError):
        Amount(BTC, True)


def test_mixing_assets_is_refused() -> None:
    with pytest.raises(InputError, match="cannot combine"):
        _ = Amount(BTC, 1) + Amount(ETH, 1)
    assert Amount(BTC, 1) + Amount(BTC, 2) == Amount(BTC, 3)
    assert Amount(BTC, 1) < Amount(BTC, 2)


def test_asset_validation() -> None:
    with pytest.raises(InputError, match=r"asset\.symbol"):
        Asset("btc", "bitcoin", 8)
    with pytest.raises(InputError, match=r"asset\.decimals"):
        Asset("BTC", "bitcoin", 99)
    with pytest.raises(InputError, match=r"asset\.chain"):
        Asset("BTC", "Bitcoin", 8)


@given(st.integers(min_value=1, max_value=10**30), st.sampled_from([BTC, ETH, USDC]))
def test_decimal_string_round_trip(units: int, asset: Asset) -> None:
    amount = Amount(asset, units)
    text = amount.to_decimal_string()
    assert "e" not in text.lower()
    assert Amount.parse(asset, text) == amount
