"""The liabilities CSV: documented schema, strict amounts, line numbers in errors."""

from __future__ import annotations

import pytest

from kinko.core.amount import Asset
from kinko.core.errors import InputError
from kinko.custody.liabilities import parse_liabilities_csv

ASSETS = {"bitcoin:BTC": Asset("BTC", "bitcoin", 8), "ethereum:USDC": Asset("USDC", "ethereum", 6)}


def test_a_valid_file_gives_base_units_per_asset() -> None:
    text = "asset,amount\nbitcoin:BTC,1250.5\nethereum:USDC,0\n\n"
    assert parse_liabilities_csv(text, ASSETS) == {
        "bitcoin:BTC": 125_050_000_000,
        "ethereum:USDC": 0,
    }


@pytest.mark.parametrize(
    ("text", "field", "message"),
    [
        ("", "liabilities", "header"),
        ("asset,qty\nbitcoin:BTC,1\n", "liabilities", "header"),
        ("asset,amount\n", "liabilities", "no rows"),
        (
            "asset,amount\nbitcoin:BTC,1\nbitcoin:DOGE,1\n",
            "liabilities line 3: asset",
            "unknown asset",
        ),
        ("asset,amount\nbitcoin:BTC,1\nbitcoin:BTC,2\n", "liabilities line 3: asset", "twice"),
        ("asset,amount\nbitcoin:BTC,1e3\n", "liabilities line 2: amount", "plain decimal"),
        ("asset,amount\nbitcoin:BTC,0.123456789\n", "liabilities line 2: amount", "8"),
        ("asset,amount\nbitcoin:BTC,-1\n", "liabilities line 2: amount", "plain decimal"),
        ("asset,amount\nbitcoin:BTC\n", "liabilities line 2", "2 columns"),
    ],
)
def test_bad_files_name_the_line_and_field(text: str, field: str, message: str) -> None:
    with pytest.raises(InputError, match=message) as err:
        parse_liabilities_csv(text, ASSETS)
    assert err.value.field == field
