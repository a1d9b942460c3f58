"""The exchange's ledger of customer balances at a snapshot, as a CSV file (pure).

Schema (UTF-8, comma separated, header required, one row per account and asset)::

    account,asset,base_units
    acct-000017,bitcoin:BTC,150000000

* ``account``: the exchange's stable account id (1 to 200 characters); customers see it
  in their proof, so it must be the id they know.
* ``asset``: a registered asset key ``chain:SYMBOL``.
* ``base_units``: a non-negative integer of base units (no decimal point, no sign).

Every row is checked before anything is built; the first problem names its line.
"""

from __future__ import annotations

from collections.abc import Iterator

from kinko.core.errors import InputError
from kinko.core.textfile import csv_rows

HEADER = ("account", "asset", "base_units")


def parse_ledger_csv(text: str) -> Iterator[tuple[str, str, int]]:
    """(account, asset, base units) rows; `Holdings.parse` checks what a row may hold."""
    reader = csv_rows(text, field="ledger", name="the ledger file")
    header = next(reader, None)
    if header is None or tuple(h.strip().lower() for h in header) != HEADER:
        raise InputError("ledger", f"the first line must be the header {','.join(HEADER)}")
    for number, row in enumerate(reader, start=2):
        if not row or all(not cell.strip() for cell in row):
            continue
        if len(row) != len(HEADER):
            raise InputError(
                f"ledger line {number}", f"expected {len(HEADER)} columns, found {len(row)}"
            )
        units = row[2].strip()
        if not units.isascii() or not units.isdigit() or len(units) > 39:
            raise InputError(
                f"ledger line {number}: base_units",
                f"{units!r} is not a whole number of base units (digits only, e.g. 150000000)",
            )
        yield row[0].strip(), row[1].strip(), int(units)
