"""Values of the screening domain: parsed lists, hits and verdicts.

Everything here is frozen: a verdict that reached the withdrawal service or the audit log
must not change afterwards.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, NewType

ListName = NewType("ListName", str)
"""A list's stable name, e.g. ``ofac-sdn``, ``un-consolidated``, ``kr-mofa``."""

VersionId = NewType("VersionId", str)


class ListFormat(enum.StrEnum):
    OFAC_ADVANCED = "ofac-advanced-xml"
    OFAC_ENHANCED = "ofac-enhanced-xml"
    OFAC_LEGACY_XML = "ofac-sdn-xml"
    OFAC_CSV = "ofac-sdn-csv"
    UN_XML = "un-consolidated-xml"
    KINKO_CSV = "kinko-csv"


PUBLISHERS: dict[ListFormat, str] = {
    ListFormat.OFAC_ADVANCED: "US Treasury OFAC",
    ListFormat.OFAC_ENHANCED: "US Treasury OFAC",
    ListFormat.OFAC_LEGACY_XML: "US Treasury OFAC",
    ListFormat.OFAC_CSV: "US Treasury OFAC",
    ListFormat.UN_XML: "UN Security Council",
    ListFormat.KINKO_CSV: "operator",
}
"""Who publishes each format: OFAC and the UN publish their files; a Kinko CSV is compiled
by the operator (the exchange) from whatever sources its rows name."""

RESERVED_PUBLISHERS: dict[str, str] = {
    "ofac-sdn": "US Treasury OFAC",
    "un-consolidated": "UN Security Council",
}
"""Lists whose publisher is fixed before their first load: only OFAC publishes ofac-sdn."""


class VersionStatus(enum.StrEnum):
    ACTIVE = "active"
    REPLACED = "replaced"
    PROPOSED = "proposed"
    """Stored, not used: waiting for a second security admin (a four-eyes proposal)."""
    REFUSED = "refused"


class VerdictStatus(enum.StrEnum):
    CLEAR = "clear"
    HIT = "hit"
    STALE = "stale"
    """A required list is missing or past its maximum age: fail closed (hold, alert)."""


@dataclass(frozen=True, slots=True)
class ListedAddress:
    """One address as listed: `chain` is Kinko's chain name or ``unknown:<TICKER>``."""

    chain: str
    key: str
    """The normalised comparison key (see `kinko.screening.addresses`)."""
    raw: str
    ticker: str
    entity_ref: str
    valid: bool = True


@dataclass(frozen=True, slots=True)
class ListedEntity:
    """A listed person or organisation with every name it is known under."""

    ref: str
    """Source reference: OFAC UID / FixedRef, UN reference number, CSV source_ref."""
    name: str
    kind: str = "unknown"
    aliases: tuple[str, ...] = ()
    programs: tuple[str, ...] = ()
    birth_dates: tuple[str, ...] = ()
    """As published: ``1984``, ``1984-08-15`` or ``1984-08``."""
    nationalities: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ParsedList:
    """One list fully parsed from one file, before it is stored."""

    name: ListName
    format: ListFormat
    published: datetime | None
    entities: tuple[ListedEntity, ...]
    addresses: tuple[ListedAddress, ...]
    unknown_tickers: tuple[str, ...] = ()
    invalid_addresses: tuple[str, ...] = ()

    def counts_by_chain(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for address in self.addresses:
            counts[address.chain] = counts.get(address.chain, 0) + 1
        return dict(sorted(counts.items()))

    @property
    def size(self) -> int:
        """Entries counted for the shrink check: entities plus addresses."""
        return len(self.entities) + len(self.addresses)

    @property
    def publisher(self) -> str:
        return PUBLISHERS[self.format]


@dataclass(frozen=True, slots=True)
class ListVersion:
    """Provenance of one loaded version of a list."""

    id: VersionId
    list_name: ListName
    format: ListFormat
    source: str
    published: datetime | None
    sha256: str
    loaded_at: datetime
    entity_count: int
    address_count: int
    counts_by_chain: dict[str, int] = field(default_factory=dict)
    unknown_tickers: tuple[str, ...] = ()
    invalid_addresses: tuple[str, ...] = ()
    active: bool = True
    publisher: str = ""
    loaded_by: str = ""
    """Who loaded (or proposed) the file: ``user:<id>``, ``token:<id>``, ``cli:<login>``."""
    status: VersionStatus = VersionStatus.ACTIVE
    approved_by: str | None = None
    """The second security admin, for a version that needed four eyes."""
    proposal_id: str | None = None

    def __post_init__(self) -> None:
        if not self.publisher:  # a version built in code: its format says who publishes it
            object.__setattr__(self, "publisher", PUBLISHERS[self.format])

    @property
    def as_of(self) -> datetime:
        """The time the list's age is measured from: publication date, else load time."""
        return self.published or self.loaded_at

    @property
    def dated_by(self) -> str:
        """``publisher`` when the file carries its publication date, else ``load``: a list
        without one is dated by its load, and its age counts from then."""
        return "publisher" if self.published is not None else "load"

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "list": self.list_name,
            "format": self.format.value,
            "source": self.source,
            "publisher": self.publisher,
            "published": self.published.isoformat() if self.published else None,
            "dated_by": self.dated_by,
            "sha256": self.sha256,
            "loaded_at": self.loaded_at.isoformat(),
            "loaded_by": self.loaded_by,
            "approved_by": self.approved_by,
            "proposal": self.proposal_id,
            "status": self.status.value,
            "entities": self.entity_count,
            "addresses": self.address_count,
            "counts_by_chain": dict(self.counts_by_chain),
            "unknown_tickers": list(self.unknown_tickers),
            "invalid_addresses": list(self.invalid_addresses),
            "active": self.active,
        }


@dataclass(frozen=True, slots=True)
class AddressHit:
    list_name: ListName
    version_id: VersionId
    entity_ref: str
    entity_name: str
    programs: tuple[str, ...]
    listed_as: str
    """The address exactly as the list wrote it."""
    ticker: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "list": self.list_name,
            "version": self.version_id,
            "entity": self.entity_name,
            "source_ref": self.entity_ref,
            "programs": list(self.programs),
            "listed_as": self.listed_as,
            "ticker": self.ticker,
        }


@dataclass(frozen=True, slots=True)
class AddressVerdict:
    status: VerdictStatus
    chain: str
    address: str
    key: str
    hits: tuple[AddressHit, ...]
    list_versions: tuple[VersionId, ...]
    reasons: tuple[str, ...] = ()
    """Why the verdict is STALE (which list is missing or too old)."""

    def to_dict(self) -> dict[str, Any]:
        return {
            "status": self.status.value,
            "chain": self.chain,
            "address": self.address,
            "key": self.key,
            "hits": [h.to_dict() for h in self.hits],
            "list_versions": list(self.list_versions),
            "reasons": list(self.reasons),
        }


@dataclass(frozen=True, slots=True)
class NameHit:
    """A list name that matched above the review threshold, with why."""

    list_name: ListName
    version_id: VersionId
    entity_ref: str
    entity_name: str
    matched_name: str
    """The list name or alias that matched best."""
    score: float
    components: tuple[tuple[str, float], ...]
    explanation: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "list": self.list_name,
            "version": self.version_id,
            "entity": self.entity_name,
            "source_ref": self.entity_ref,
            "matched_name": self.matched_name,
            "score": round(self.score, 4),
            "components": {k: round(v, 4) for k, v in self.components},
            "explanation": self.explanation,
        }


@dataclass(frozen=True, slots=True)
class NameVerdict:
    status: VerdictStatus
    name: str
    hits: tuple[NameHit, ...]
    list_versions: tuple[VersionId, ...]
    threshold: float
    reasons: tuple[str, ...] = ()
    case_id: str | None = None
    """The review case a HIT opened (or found): kinko.screening.cases."""

    def to_dict(self) -> dict[str, Any]:
        return {
            "status": self.status.value,
            "name": self.name,
            "threshold": self.threshold,
            "hits": [h.to_dict() for h in self.hits],
            "list_versions": list(self.list_versions),
            "reasons": list(self.reasons),
            "case": self.case_id,
        }


def parsed_list(
    name: ListName,
    fmt: ListFormat,
    published: datetime | None,
    entities: list[ListedEntity] | tuple[ListedEntity, ...],
    addresses: list[ListedAddress] | tuple[ListedAddress, ...],
) -> ParsedList:
    """Build a `ParsedList`, reporting unknown tickers and addresses that did not validate."""
    return ParsedList(
        name=name,
        format=fmt,
        published=published,
        entities=tuple(entities),
        addresses=tuple(addresses),
        unknown_tickers=tuple(
            sorted({a.ticker for a in addresses if a.chain.startswith("unknown:")})
        ),
        invalid_addresses=tuple(sorted(f"{a.ticker} {a.raw}" for a in addresses if not a.valid)),
    )
