"""The rows of a liabilities statement from the exchange's ledger, read as a stream (pure).

Two formats, told apart by the first character of the file:

* CSV (UTF-8, header required, one row per account and asset)::

      account,asset,base_units
      acct-000017,bitcoin:BTC,150000000

* JSON Lines (one JSON object per line; a line starting with ``{``)::

      {"account": "acct-000017", "asset": "bitcoin:BTC", "base_units": "150000000"}

  ``base_units`` a string of digits (or a JSON integer: strings keep every digit in
  JavaScript too). One object per line, so a file of millions of rows is read a line at a
  time; a single JSON array is refused with what to send instead.

* ``account``: the exchange's stable account id (1 to 200 characters, never a name): it
  goes into the customer's proof of reserves.
* ``asset``: an asset key ``chain:SYMBOL`` (checked against the registry by the caller).
* ``base_units``: a whole number of base units, no sign, no decimal point, below 2**128.

Each row is yielded with its line number; the first problem raises `InputError` naming
the line and the field, and what to do. Nothing here holds more than one row.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from typing import Any, NamedTuple

from kinko.core.errors import InputError

HEADER = ("account", "asset", "base_units")
MAX_ACCOUNT = 200
MAX_ASSET = 80
MAX_UNITS = 2**128 - 1
FORMATS = ("csv", "jsonl")


class Row(NamedTuple):
    line: int
    account: str
    asset: str
    base_units: int


def detect(head: str) -> str:
    """``jsonl`` when the first non-blank character is ``{``, ``[`` refused, else ``csv``."""
    first = head.lstrip("\ufeff \t\r\n")[:1]
    if first == "[":
        raise InputError(
            "file",
            "a JSON array is not read (it cannot be streamed): send JSON Lines, one object "
            '{"account", "asset", "base_units"} per line, or CSV account,asset,base_units',
        )
    return "jsonl" if first == "{" else "csv"


def rows(lines: Iterable[str], fmt: str, *, name: str = "statement") -> Iterator[Row]:
    """The rows of `lines` (an open text file, say) in format `fmt` (`FORMATS`); a bad
    row's field is ``<name> line N: <column>``, a bad header's ``<name>``."""
    if fmt == "csv":
        return _csv(lines, name)
    if fmt == "jsonl":
        return _jsonl(lines, f"{name} line")
    raise InputError("format", f"{fmt!r} is not one of {', '.join(FORMATS)}")


def _csv(lines: Iterable[str], name: str) -> Iterator[Row]:
    reader = csv.reader(lines)
    where = f"{name} line"
    try:
        header = next(reader, None)
        if header is None or tuple(h.strip().lstrip("\ufeff").lower() for h in header) != HEADER:
            raise InputError(name, f"the first line must be the header {','.join(HEADER)}")
        for row in reader:
            if not row or all(not cell.strip() for cell in row):
                continue
            number = reader.line_num
            if len(row) != len(HEADER):
                raise InputError(
                    f"{where} {number}", f"expected {len(HEADER)} columns, found {len(row)}"
                )
            yield _checked(number, row[0].strip(), row[1].strip(), row[2].strip(), where)
    except csv.Error as exc:
        raise InputError(
            f"{where} {reader.line_num}", f"not valid CSV ({exc}): check the file"
        ) from None


def _jsonl(lines: Iterable[str], where: str) -> Iterator[Row]:
    for number, text in enumerate(lines, start=1):
        if not text.strip():
            continue
        try:
            item = json.loads(text)
        except ValueError as exc:  # json.JSONDecodeError, or an integer too long to read
            why = exc.msg if isinstance(exc, json.JSONDecodeError) else "a number too long"
            raise InputError(
                f"{where} {number}", f"not a JSON object on one line ({why})"
            ) from None
        if not isinstance(item, dict) or set(item) != set(HEADER):
            raise InputError(
                f"{where} {number}",
                'must be one object with exactly "account", "asset" and "base_units"',
            )
        units: Any = item["base_units"]
        if type(units) is int:  # a JSON integer (bool and float are refused below)
            units = str(units)
        account, asset = item["account"], item["asset"]
        if not isinstance(account, str) or not isinstance(asset, str):
            field = "account" if not isinstance(account, str) else "asset"
            raise InputError(f"{where} {number}: {field}", "must be a string")
        if not isinstance(units, str):
            raise InputError(
                f"{where} {number}: base_units",
                f"{units!r} is not a whole number of base units: give digits as a string, "
                'e.g. "150000000"',
            )
        yield _checked(number, account, asset, units, where)


def _checked(number: int, account: str, asset: str, units: str, where: str) -> Row:
    if not account or len(account) > MAX_ACCOUNT:
        raise InputError(
            f"{where} {number}: account",
            "must be the stable account id, 1 to 200 characters (never a name)",
        )
    if not asset or len(asset) > MAX_ASSET:
        raise InputError(f"{where} {number}: asset", "must be an asset key such as bitcoin:BTC")
    if not units.isascii() or not units.isdigit():
        why = "is negative" if units.startswith("-") else "is not a whole number of base units"
        raise InputError(
            f"{where} {number}: base_units",
            f"{units!r} {why}: digits only, no sign, decimal point or exponent (e.g. 150000000)",
        )
    value = int(units) if len(units) <= 40 else MAX_UNITS + 1
    if value > MAX_UNITS:
        raise InputError(f"{where} {number}: base_units", "must be below 2**128")
    return Row(number, account, asset, value)


def parse_as_of(text: str, *, field: str = "as_of") -> datetime:
    """An ISO 8601 time with its zone (``2026-12-07T00:00:00Z``); InputError otherwise."""
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None:
        raise InputError(field, f"{text!r} is not a time with its zone, e.g. 2026-12-07T00:00:00Z")
    try:
        return moment.astimezone(UTC)
    except OverflowError:  # its zone carries it past year 1 or 9999
        raise InputError(field, f"{text!r} is outside the years 1 to 9999 in UTC") from None


def iso(moment: datetime) -> str:
    """`moment` in UTC as ISO 8601 with ``Z``."""
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")
