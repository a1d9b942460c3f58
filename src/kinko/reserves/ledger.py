"""The exchange's ledger of customer balances at a snapshot, as a file (pure).

`kinko reserves build --ledger FILE` reads it when the exchange does not feed custody its
statements (`kinko liabilities import`); the format is a custody statement's
(`kinko.custody.statement_rows`: CSV ``account,asset,base_units`` or JSON Lines), read a
line at a time:

    account,asset,base_units
    acct-000017,bitcoin:BTC,150000000

The first problem names its line (``ledger line 7: base_units``); duplicates are refused by
`kinko.reserves.snapshot.Holdings.parse`, which the rows go to.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Iterator

from kinko.custody import statement_rows


def parse_ledger(lines: Iterable[str], fmt: str = "csv") -> Iterator[tuple[str, str, int]]:
    """(account, asset, base units) rows of an open ledger file in format `fmt`."""
    for row in statement_rows.rows(lines, fmt, name="ledger"):
        yield row.account, row.asset, row.base_units


def parse_ledger_csv(text: str) -> Iterator[tuple[str, str, int]]:
    """The rows of a CSV ledger given as text."""
    return parse_ledger(io.StringIO(text, newline=""))
