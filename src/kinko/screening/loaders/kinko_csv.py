"""Kinko's documented CSV for lists no official machine-readable file covers.

Header (exactly): ``list,entity_name,chain,address,source_ref,listed_on``

- ``list``: the list's name, e.g. ``kr-mofa``, ``stolen-funds``, ``exchange-own``
  (lower case letters, digits, hyphens). One file may hold several lists; each becomes
  its own version.
- ``entity_name``: the person, group or incident (e.g. ``Bybit exploiter (2025-02-21)``).
- ``chain``: a Kinko chain name (``bitcoin``, ``ethereum``, ``tron``, ...), empty for a
  name-only row (e.g. a designated person without a known address).
- ``address``: validated for the chain; a bad address refuses the whole file.
- ``source_ref``: where it comes from (press release, case number, URL).
- ``listed_on``: ISO date.

Rows of one entity (same list, name and source_ref) are merged.
"""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

from kinko.core.errors import InputError
from kinko.core.textfile import csv_rows, read_text
from kinko.screening.addresses import normalise_address
from kinko.screening.model import ListedAddress, ListedEntity, ListFormat, ListName, ParsedList

HEADER = ("list", "entity_name", "chain", "address", "source_ref", "listed_on")
_LIST_NAME = re.compile(r"^[a-z0-9][a-z0-9-]{1,63}$")


def looks_like(first_line: str) -> bool:
    return tuple(c.strip() for c in first_line.split(",")) == HEADER


def parse(path: Path) -> list[ParsedList]:
    content = read_text(path, field="file", encoding="utf-8-sig", name=path.name)
    reader = csv_rows(content, field="file", name=path.name)
    header = next(reader, None)
    if header is None or tuple(c.strip() for c in header) != HEADER:
        raise InputError("file", f"{path.name}: the header must be exactly {','.join(HEADER)}")
    entities: dict[str, dict[tuple[str, str], ListedEntity]] = {}
    addresses: dict[str, list[ListedAddress]] = {}
    for line, row in enumerate(reader, 2):
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != len(HEADER):
            raise InputError("file", f"{path.name} line {line}: expected 6 columns, got {len(row)}")
        list_name, name, chain, address, ref, listed_on = (c.strip() for c in row)
        where = f"{path.name} line {line}"
        if not _LIST_NAME.match(list_name):
            raise InputError("list", f"{where}: {list_name!r} is not a list name (a-z, 0-9, -)")
        if not name or not ref:
            raise InputError("entity_name", f"{where}: entity_name and source_ref are required")
        try:
            date.fromisoformat(listed_on)
        except ValueError as exc:
            raise InputError("listed_on", f"{where}: {listed_on!r} is not YYYY-MM-DD") from exc
        entities.setdefault(list_name, {}).setdefault(
            (name, ref), ListedEntity(ref=ref, name=name, programs=(list_name,))
        )
        bucket = addresses.setdefault(list_name, [])
        if chain or address:
            normalised = normalise_address(chain, address, field=f"address ({where})")
            bucket.append(
                ListedAddress(
                    chain=chain,
                    key=normalised.key,
                    raw=normalised.address,
                    ticker=chain,
                    entity_ref=ref,
                )
            )
    if not entities:
        raise InputError("file", f"{path.name} has no rows")
    return [
        ParsedList(
            name=ListName(name),
            format=ListFormat.KINKO_CSV,
            published=None,
            entities=tuple(entities[name].values()),
            addresses=tuple(addresses.get(name, [])),
        )
        for name in sorted(entities)
    ]
