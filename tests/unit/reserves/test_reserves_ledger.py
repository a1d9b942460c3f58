"""The ledger CSV: whole base units only, the first bad line named."""

from __future__ import annotations

import pytest

from kinko.core.errors import InputError
from kinko.reserves.ledger import parse_ledger_csv
from kinko.reserves.snapshot import Holdings


def test_rows_are_read_in_base_units() -> None:
    text = "account,asset,base_units\nalice,bitcoin:BTC,150000000\n\nbob,bitcoin:BTC,0\n"
    assert list(parse_ledger_csv(text)) == [
        ("alice", "bitcoin:BTC", 150_000_000),
        ("bob", "bitcoin:BTC", 0),
    ]


@pytest.mark.parametrize(
    ("text", "field"),
    [
        ("account,asset,amount\n", "ledger"),
        ("account,asset,base_units\nalice,bitcoin:BTC\n", "ledger line 2"),
        ("account,asset,base_units\nalice,bitcoin:BTC,1.5\n", "ledger line 2: base_units"),
        ("account,asset,base_units\nalice,bitcoin:BTC,-1\n", "ledger line 2: base_units"),
        ("account,asset,base_units\nalice,bitcoin:BTC,1e8\n", "ledger line 2: base_units"),
    ],
)
def test_bad_input_names_the_field(text: str, field: str) -> None:
    with pytest.raises(InputError) as caught:
        list(parse_ledger_csv(text))
    assert caught.value.field == field


def test_a_duplicate_is_named_by_its_line() -> None:
    text = "account,asset,base_units\na,bitcoin:BTC,1\na,bitcoin:BTC,2\n"
    with pytest.raises(InputError) as caught:
        Holdings.parse(parse_ledger_csv(text), where="ledger line", start=2)
    assert caught.value.field == "ledger line 3: account"
