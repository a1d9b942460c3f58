"""OFAC ``sdn_advanced.xml`` (the "advanced" / SDN XML v3 schema).

Everything is identified by ids declared in ``ReferenceValueSets``: which FeatureType ids
are digital currency addresses, which are birth dates or nationalities, which
SanctionsType is a program. Those ids are read from the file itself, never hard-coded,
because OFAC assigns them and adds new currencies over time.

The file declares reference values and locations before the parties, and the sanctions
entries (which carry the programs) after them, so programs are joined at the end.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from xml.etree.ElementTree import Element

from kinko.core.errors import InputError
from kinko.screening.loaders.xmlstream import (
    child,
    children,
    descendants,
    local,
    stream,
    text,
)
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
_ITEMS = frozenset(
    {
        "DateOfIssue",
        "FeatureType",
        "Country",
        "SanctionsType",
        "Script",
        "Location",
        "DistinctParty",
        "SanctionsEntry",
    }
)
# PartySubTypeID -> a label for display only; nothing is decided on it.
_KINDS = {"1": "vessel", "2": "aircraft", "3": "entity", "4": "individual"}


@dataclass
class _State:
    published: datetime | None = None
    feature_types: dict[str, str] = field(default_factory=dict)
    countries: dict[str, str] = field(default_factory=dict)
    location_country: dict[str, str] = field(default_factory=dict)
    program_types: set[str] = field(default_factory=set)
    latin_scripts: set[str] = field(default_factory=set)
    parties: dict[str, ListedEntity] = field(default_factory=dict)
    programs: dict[str, list[str]] = field(default_factory=dict)
    addresses: list[ListedAddress] = field(default_factory=list)


def parse(path: Path, list_name: ListName) -> ParsedList:
    state = _State()
    for elem in stream(path, _ITEMS):
        name = local(str(elem.tag))
        if name == "DateOfIssue":
            state.published = _date_of_issue(elem)
        elif name == "FeatureType":
            state.feature_types[elem.get("ID", "")] = text(elem)
        elif name == "Country":
            state.countries[elem.get("ID", "")] = text(elem)
        elif name == "SanctionsType" and text(elem) == "Program":
            state.program_types.add(elem.get("ID", ""))
        elif name == "Script" and (elem.get("ScriptCode") == "Latn" or text(elem) == "Latin"):
            state.latin_scripts.add(elem.get("ID", ""))
        elif name == "Location":
            for loc in children(elem, "LocationCountry"):
                state.location_country[elem.get("ID", "")] = loc.get("CountryID", "")
        elif name == "DistinctParty":
            _party(elem, state)
        elif name == "SanctionsEntry":
            _entry(elem, state)
    if not any(v.startswith(DCA_PREFIX) for v in state.feature_types.values()):
        raise InputError(
            "file",
            f"{path.name}: no 'Digital Currency Address' FeatureType in ReferenceValueSets; "
            "this is not a complete sdn_advanced.xml",
            code="list_incomplete",
        )
    entities = tuple(
        _with_programs(entity, state.programs.get(ref, [])) for ref, entity in state.parties.items()
    )
    return parsed_list(
        list_name, ListFormat.OFAC_ADVANCED, state.published, entities, state.addresses
    )


def _with_programs(entity: ListedEntity, programs: list[str]) -> ListedEntity:
    return ListedEntity(
        ref=entity.ref,
        name=entity.name,
        kind=entity.kind,
        aliases=entity.aliases,
        programs=tuple(sorted(set(programs))),
        birth_dates=entity.birth_dates,
        nationalities=entity.nationalities,
    )


def _date_of_issue(elem: Element) -> datetime:
    try:
        return datetime(
            int(text(child(elem, "Year"))),
            int(text(child(elem, "Month")) or 1),
            int(text(child(elem, "Day")) or 1),
            tzinfo=UTC,
        )
    except ValueError as exc:
        raise InputError("file", f"DateOfIssue is not a date: {exc}") from exc


def _party(elem: Element, state: _State) -> None:
    profile = child(elem, "Profile")
    ref = elem.get("FixedRef", "")
    if profile is None or not ref:
        raise InputError(
            "file", "a DistinctParty has no FixedRef or Profile", code="list_incomplete"
        )
    profile_id = profile.get("ID", ref)
    primary, aliases = _names(profile, state)
    birth_dates: list[str] = []
    nationalities: list[str] = []
    for feature in children(profile, "Feature"):
        kind = state.feature_types.get(feature.get("FeatureTypeID", ""), "")
        if kind.startswith(DCA_PREFIX):
            value = text(next(descendants(feature, "VersionDetail"), None))
            if not value:
                raise InputError(
                    "file",
                    f"party {ref}: a '{kind}' feature has no address",
                    code="list_incomplete",
                )
            state.addresses.append(listed_address(kind[len(DCA_PREFIX) :], value, ref))
        elif kind == "Birthdate":
            birth = _birth_date(feature)
            if birth:
                birth_dates.append(birth)
        elif "Nationality" in kind or "Citizenship" in kind:
            for loc in descendants(feature, "VersionLocation"):
                country_id = state.location_country.get(loc.get("LocationID", ""), "")
                country = state.countries.get(country_id)
                if country:
                    nationalities.append(country)
    state.parties[profile_id] = ListedEntity(
        ref=ref,
        name=primary,
        kind=_KINDS.get(profile.get("PartySubTypeID", ""), "unknown"),
        aliases=tuple(aliases),
        birth_dates=tuple(birth_dates),
        nationalities=tuple(dict.fromkeys(nationalities)),
    )


def _names(profile: Element, state: _State) -> tuple[str, list[str]]:
    primary = ""
    names: list[str] = []
    for identity in children(profile, "Identity"):
        for alias in children(identity, "Alias"):
            for documented in children(alias, "DocumentedName"):
                parts = [text(v) for v in descendants(documented, "NamePartValue")]
                full = " ".join(p for p in parts if p)
                if not full:
                    continue
                scripts = {v.get("ScriptID", "") for v in descendants(documented, "NamePartValue")}
                latin = not state.latin_scripts or bool(scripts & state.latin_scripts)
                if not primary and alias.get("Primary") == "true" and latin:
                    primary = full
                else:
                    names.append(full)
    if not primary:
        if not names:
            raise InputError("file", "a party has no name", code="list_incomplete")
        primary = names.pop(0)
    return primary, [n for n in dict.fromkeys(names) if n != primary]


def _birth_date(feature: Element) -> str:
    period = next(descendants(feature, "DatePeriod"), None)
    if period is None:
        return ""
    start = child(period, "Start")
    end = child(period, "End")
    first = _ymd(child(start, "From") if start is not None else None)
    last = _ymd(child(end, "To") if end is not None else None)
    if first is None:
        return ""
    if last == first:
        return f"{first[0]:04d}-{first[1]:02d}-{first[2]:02d}"
    return f"{first[0]:04d}"  # a year, or a range: the year is what can be compared


def _ymd(elem: Element | None) -> tuple[int, int, int] | None:
    if elem is None:
        return None
    try:
        return (
            int(text(child(elem, "Year"))),
            int(text(child(elem, "Month")) or 1),
            int(text(child(elem, "Day")) or 1),
        )
    except ValueError:
        return None


def _entry(elem: Element, state: _State) -> None:
    profile_id = elem.get("ProfileID", "")
    for measure in children(elem, "SanctionsMeasure"):
        if measure.get("SanctionsTypeID", "") in state.program_types:
            program = text(child(measure, "Comment"))
            if program:
                state.programs.setdefault(profile_id, []).append(program)
