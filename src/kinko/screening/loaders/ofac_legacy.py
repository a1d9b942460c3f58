"""OFAC's legacy formats: ``sdn.xml`` (root ``sdnList``) and ``sdn.csv``.

In ``sdn.xml`` addresses are ``idList/id`` items whose ``idType`` is ``Digital Currency
Address - <TICKER>``. The file states its own ``Record_Count``; a different number of
entries read means the file is incomplete and it is refused.

``sdn.csv`` has no header and twelve columns (ent_num, SDN_Name, SDN_Type, Program, Title,
Call_Sign, Vess_type, Tonnage, GRT, Vess_flag, Vess_owner, Remarks); ``-0-`` means empty.
Addresses, birth dates and nationalities are inside the free-text remarks, e.g.
``Digital Currency Address - XBT 1A1z...; alt. Digital Currency Address - ...``. The CSV
carries no publication date, so its age is measured from when it was loaded.
"""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path
from xml.etree.ElementTree import Element

from kinko.core.errors import InputError
from kinko.core.textfile import csv_rows, decode_text
from kinko.screening.loaders.dates import parse_birth_date, parse_published_date
from kinko.screening.loaders.xmlstream import child, descendants, local, stream, text
from kinko.screening.model import (
    ListedAddress,
    ListedEntity,
    ListFormat,
    ListName,
    ParsedList,
    parsed_list,
)
from kinko.screening.tickers import listed_address

DCA_PREFIX = "Digital Currency Address - "
_REMARK_DCA = re.compile(r"Digital Currency Address - ([A-Za-z0-9]+)\s+([^\s;]+)")
_REMARK_DOB = re.compile(r"DOB ([0-9]{1,2} [A-Za-z]{3} [0-9]{4}|[A-Za-z]{3} [0-9]{4}|[0-9]{4})")
_REMARK_NATIONALITY = re.compile(r"(?:nationality|citizen) ([^;()]+)")
_REMARK_AKA = re.compile(r"a\.k\.a\. '([^']+)'")
_CSV_COLUMNS = 12


def parse_xml(path: Path, list_name: ListName) -> ParsedList:
    published: datetime | None = None
    record_count: int | None = None
    entities: list[ListedEntity] = []
    addresses: list[ListedAddress] = []
    for elem in stream(path, frozenset({"publshInformation", "sdnEntry"})):
        if local(str(elem.tag)) == "publshInformation":
            date_text = text(child(elem, "Publish_Date"))
            if date_text:
                published = parse_published_date(date_text, "publshInformation.Publish_Date")
            count_text = text(child(elem, "Record_Count"))
            record_count = int(count_text) if count_text.isdigit() else None
            continue
        entity, found = _sdn_entry(elem)
        entities.append(entity)
        addresses.extend(found)
    if record_count is not None and record_count != len(entities):
        raise InputError(
            "file",
            f"{path.name} says Record_Count {record_count} but {len(entities)} entries were "
            "read; the file is incomplete. Nothing was loaded.",
            code="list_incomplete",
        )
    return parsed_list(list_name, ListFormat.OFAC_LEGACY_XML, published, entities, addresses)


def _sdn_entry(elem: Element) -> tuple[ListedEntity, list[ListedAddress]]:
    ref = text(child(elem, "uid"))
    if not ref:
        raise InputError("file", "an sdnEntry has no uid", code="list_incomplete")
    name = _join_name(elem)
    aliases = [_join_name(aka) for aka in descendants(elem, "aka")]
    programs = [text(p) for p in descendants(elem, "program") if text(p)]
    addresses: list[ListedAddress] = []
    for item in descendants(elem, "id"):
        kind = text(child(item, "idType"))
        if kind.startswith(DCA_PREFIX):
            number = text(child(item, "idNumber"))
            if not number:
                raise InputError(
                    "file", f"sdnEntry {ref}: '{kind}' has no idNumber", code="list_incomplete"
                )
            addresses.append(listed_address(kind[len(DCA_PREFIX) :], number, ref))
    births = [
        parse_birth_date(text(child(d, "dateOfBirth")))
        for d in descendants(elem, "dateOfBirthItem")
        if text(child(d, "dateOfBirth"))
    ]
    nationalities = [
        text(child(n, "country"))
        for n in descendants(elem, "nationality")
        if text(child(n, "country"))
    ]
    entity = ListedEntity(
        ref=ref,
        name=name,
        kind=text(child(elem, "sdnType")).lower() or "entity",
        aliases=tuple(a for a in dict.fromkeys(aliases) if a and a != name),
        programs=tuple(sorted(set(programs))),
        birth_dates=tuple(births),
        nationalities=tuple(n for n in dict.fromkeys(nationalities) if n),
    )
    return entity, addresses


def _join_name(elem: Element) -> str:
    last = text(child(elem, "lastName"))
    first = text(child(elem, "firstName"))
    return f"{last}, {first}" if last and first else last or first


def parse_csv(path: Path, list_name: ListName) -> ParsedList:
    raw = path.read_bytes()
    try:
        content = raw.decode("utf-8")
    except UnicodeDecodeError:  # OFAC's CSV files are Windows-1252
        content = decode_text(
            raw, field="file", name=path.name, encoding="cp1252", expected="UTF-8 or Windows-1252"
        )
    entities: list[ListedEntity] = []
    addresses: list[ListedAddress] = []
    for number, row in enumerate(csv_rows(content, field="file", name=path.name), 1):
        if not row or (len(row) == 1 and row[0].strip() in ("", "\x1a")):
            continue  # blank lines and the DOS end-of-file marker OFAC appends
        if len(row) != _CSV_COLUMNS or not row[0].strip().isdigit():
            raise InputError(
                "file",
                f"{path.name} line {number}: expected {_CSV_COLUMNS} columns starting with a "
                f"numeric ent_num, got {len(row)}; the file is not a complete sdn.csv",
                code="list_incomplete",
            )
        cells = [_cell(c) for c in row]
        ref, name, kind, program, remarks = cells[0], cells[1], cells[2], cells[3], cells[11]
        for ticker, address in _REMARK_DCA.findall(remarks):
            addresses.append(listed_address(ticker, address.rstrip(".,"), ref))
        entities.append(
            ListedEntity(
                ref=ref,
                name=name,
                kind=kind.lower() or "entity",
                aliases=tuple(dict.fromkeys(a.strip() for a in _REMARK_AKA.findall(remarks))),
                programs=_programs(program),
                birth_dates=tuple(parse_birth_date(d) for d in _REMARK_DOB.findall(remarks)),
                nationalities=tuple(
                    dict.fromkeys(n.strip() for n in _REMARK_NATIONALITY.findall(remarks))
                ),
            )
        )
    if not entities:
        raise InputError("file", f"{path.name} has no entries", code="list_incomplete")
    return parsed_list(list_name, ListFormat.OFAC_CSV, None, entities, addresses)


def _cell(value: str) -> str:
    value = value.strip()
    return "" if value == "-0-" else value


def _programs(cell: str) -> tuple[str, ...]:
    """``IRAN] [SDGT`` (the CSV's way of writing two programs) -> (IRAN, SDGT)."""
    return tuple(sorted({p.strip() for p in re.split(r"\]\s*\[", cell) if p.strip()}))
