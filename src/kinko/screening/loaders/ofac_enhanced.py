"""OFAC ``SDN_ENHANCED.XML`` (root ``sanctionsData``, the "enhanced" schema).

Features carry their type name inline (``<type featureTypeId="344">Digital Currency
Address - XBT</type>``), so the ticker is read from that text.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from xml.etree.ElementTree import Element

from kinko.core.errors import InputError
from kinko.screening.loaders.dates import parse_birth_date, parse_published_date
from kinko.screening.loaders.xmlstream import child, children, descendants, local, stream, text
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
_ITEMS = frozenset({"dataAsOf", "entity"})


def parse(path: Path, list_name: ListName) -> ParsedList:
    published: datetime | None = None
    entities: list[ListedEntity] = []
    addresses: list[ListedAddress] = []
    for elem in stream(path, _ITEMS):
        if local(str(elem.tag)) == "dataAsOf":
            published = parse_published_date(text(elem), "publicationInfo.dataAsOf")
            continue
        entity, found = _entity(elem)
        entities.append(entity)
        addresses.extend(found)
    if published is None:
        raise InputError(
            "file",
            f"{path.name}: no publicationInfo/dataAsOf; the file is incomplete",
            code="list_incomplete",
        )
    return parsed_list(
        list_name, ListFormat.OFAC_ENHANCED, published.astimezone(UTC), entities, addresses
    )


def _entity(elem: Element) -> tuple[ListedEntity, list[ListedAddress]]:
    ref = elem.get("id", "")
    if not ref:
        raise InputError("file", "an entity has no id attribute", code="list_incomplete")
    info = child(elem, "generalInfo")
    kind = text(child(info, "entityType")).lower() if info is not None else ""
    primary = ""
    names: list[str] = []
    for name in descendants(elem, "name"):
        is_primary = text(child(name, "isPrimary")) == "true"
        for translation in descendants(name, "translation"):
            full = text(child(translation, "formattedFullName"))
            if not full:
                continue
            if is_primary and not primary and text(child(translation, "isPrimary")) == "true":
                primary = full
            else:
                names.append(full)
    if not primary:
        if not names:
            raise InputError("file", f"entity {ref} has no name", code="list_incomplete")
        primary = names.pop(0)
    programs = tuple(text(p) for p in descendants(elem, "sanctionsProgram") if text(p))
    addresses: list[ListedAddress] = []
    birth_dates: list[str] = []
    nationalities: list[str] = []
    features = child(elem, "features")
    for feature in children(features, "feature") if features is not None else iter(()):
        kind_text = text(child(feature, "type"))
        value = text(child(feature, "value"))
        if kind_text.startswith(DCA_PREFIX):
            if not value:
                raise InputError(
                    "file", f"entity {ref}: '{kind_text}' has no value", code="list_incomplete"
                )
            addresses.append(listed_address(kind_text[len(DCA_PREFIX) :], value, ref))
        elif kind_text == "Birthdate" and value:
            birth_dates.append(parse_birth_date(value))
        elif ("Nationality" in kind_text or "Citizenship" in kind_text) and value:
            nationalities.append(value)
    entity = ListedEntity(
        ref=ref,
        name=primary,
        kind=kind or "unknown",
        aliases=tuple(n for n in dict.fromkeys(names) if n != primary),
        programs=tuple(sorted(set(programs))),
        birth_dates=tuple(birth_dates),
        nationalities=tuple(dict.fromkeys(nationalities)),
    )
    return entity, addresses
