"""Customer liabilities: parsing the CSV import (pure).

Schema (UTF-8, comma separated, header required, one row per asset)::

    asset,amount
    bitcoin:BTC,1250.5
    ethereum:USDC,3000000

* ``asset``: the asset key ``chain:SYMBOL`` of a registered asset.
* ``amount``: what customers are owed in total, as a plain decimal in whole units
  (``"0.5"``, never ``5e-1``), with at most the asset's number of decimals; ``0`` is
  allowed (an asset nobody holds).

Every row is checked before anything is stored; the first problem is reported with its
line number and nothing is imported (no half-written state).
"""

from __future__ import annotations

from collections.abc import Mapping

from kinko.core.amount import Amount, Asset
from kinko.core.errors import InputError
from kinko.core.textfile import csv_rows

HEADER = ("asset", "amount")
MAX_ROWS = 100_000


def parse_liabilities_csv(text: str, assets: Mapping[str, Asset]) -> dict[str, int]:
    """Asset key -> base units owed. `assets` maps every registered asset key."""
    reader = csv_rows(text, field="liabilities", name="the liabilities file")
    header = next(reader, None)
    if header is None or tuple(h.strip().lower() for h in header) != HEADER:
        raise InputError("liabilities", f"the first line must be the header {','.join(HEADER)}")
    owed: dict[str, int] = {}
    for number, row in enumerate(reader, start=2):
        if not row or all(not cell.strip() for cell in row):
            continue
        field = f"liabilities line {number}"
        if len(row) != len(HEADER):
            raise InputError(field, f"expected {len(HEADER)} columns, found {len(row)}")
        key, amount_text = row[0].strip(), row[1].strip()
        asset = assets.get(key)
        if asset is None:
            raise InputError(f"{field}: asset", f"unknown asset {key!r}; register it first")
        if key in owed:
            raise InputError(f"{field}: asset", f"{key} appears twice")
        owed[key] = (
            0
            if amount_text == "0"
            else Amount.parse(asset, amount_text, field=f"{field}: amount").base_units
        )
        if len(owed) > MAX_ROWS:
            raise InputError("liabilities", f"more than {MAX_ROWS} rows")
    if not owed:
        raise InputError("liabilities", "no rows after the header")
    return owed
