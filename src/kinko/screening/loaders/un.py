"""The UN Security Council consolidated list XML (root ``CONSOLIDATED_LIST``).

Names, aliases and original-script names only: the UN list has no digital currency
addresses. The program is ``UN_LIST_TYPE`` (e.g. ``DPRK``), the source reference the
``REFERENCE_NUMBER`` (e.g. ``KPi.066``), the publication date the root's
``dateGenerated``.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from xml.etree.ElementTree import Element

from kinko.core.errors import InputError
from kinko.screening.loaders.dates import parse_published_date
from kinko.screening.loaders.xmlstream import child, children, descendants, local, stream, text
from kinko.screening.model import ListedEntity, ListFormat, ListName, ParsedList

_NAME_PARTS = ("FIRST_NAME", "SECOND_NAME", "THIRD_NAME", "FOURTH_NAME")


def parse(path: Path, list_name: ListName, generated: str | None) -> ParsedList:
    if not generated:
        raise InputError(
            "file",
            f"{path.name}: CONSOLIDATED_LIST has no dateGenerated attribute",
            code="list_incomplete",
        )
    published: datetime = parse_published_date(generated, "CONSOLIDATED_LIST.dateGenerated")
    entities = [_record(elem) for elem in stream(path, frozenset({"INDIVIDUAL", "ENTITY"}))]
    if not entities:
        raise InputError("file", f"{path.name} has no entries", code="list_incomplete")
    return ParsedList(
        name=list_name,
        format=ListFormat.UN_XML,
        published=published,
        entities=tuple(entities),
        addresses=(),
    )


def _record(elem: Element) -> ListedEntity:
    ref = text(child(elem, "REFERENCE_NUMBER")) or text(child(elem, "DATAID"))
    name = " ".join(p for p in (text(child(elem, part)) for part in _NAME_PARTS) if p)
    if not ref or not name:
        raise InputError(
            "file", "a UN record lacks REFERENCE_NUMBER or FIRST_NAME", code="list_incomplete"
        )
    aliases = [text(child(a, "ALIAS_NAME")) for a in descendants(elem, "INDIVIDUAL_ALIAS")]
    aliases += [text(child(a, "ALIAS_NAME")) for a in descendants(elem, "ENTITY_ALIAS")]
    original = text(child(elem, "NAME_ORIGINAL_SCRIPT"))
    if original:
        aliases.append(original)
    births: list[str] = []
    for dob in descendants(elem, "INDIVIDUAL_DATE_OF_BIRTH"):
        value = text(child(dob, "DATE")) or text(child(dob, "YEAR"))
        if value:
            births.append(value[:10])
    nationalities = [
        text(v) for n in descendants(elem, "NATIONALITY") for v in children(n, "VALUE") if text(v)
    ]
    return ListedEntity(
        ref=ref,
        name=name,
        kind="individual" if local(str(elem.tag)) == "INDIVIDUAL" else "entity",
        aliases=tuple(a for a in dict.fromkeys(aliases) if a and a != name),
        programs=tuple(p for p in (text(child(elem, "UN_LIST_TYPE")),) if p),
        birth_dates=tuple(births),
        nationalities=tuple(nationalities),
    )
