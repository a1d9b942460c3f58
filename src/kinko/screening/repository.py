"""Reading and writing list versions and their entries (the only module with SQL)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import Row, insert, select, update
from sqlalchemy.orm import Session

from kinko.screening.model import (
    AddressHit,
    ListFormat,
    ListName,
    ListVersion,
    ParsedList,
    VersionId,
    VersionStatus,
)
from kinko.screening.name_index import IndexedEntity
from kinko.store.tables.screening import (
    ScreeningAddressRow,
    ScreeningEntityRow,
    ScreeningListVersionRow,
)

_BATCH = 5000


def _version(row: ScreeningListVersionRow | Row[Any]) -> ListVersion:
    return ListVersion(
        id=VersionId(row.id),
        list_name=ListName(row.list_name),
        format=ListFormat(row.format),
        source=row.source,
        published=row.published,
        sha256=row.sha256,
        loaded_at=row.loaded_at,
        entity_count=row.entity_count,
        address_count=row.address_count,
        counts_by_chain=dict(row.counts_by_chain),
        unknown_tickers=tuple(row.unknown_tickers),
        invalid_addresses=tuple(row.invalid_addresses),
        active=row.active,
        publisher=row.publisher,
        loaded_by=row.loaded_by,
        status=VersionStatus(row.status),
        approved_by=row.approved_by,
        proposal_id=row.proposal_id,
    )


# Read on every screening: built once, and a Core query (rows, not ORM objects: the
# identity map and its bookkeeping cost more than the query on this path).
_VERSIONS = ScreeningListVersionRow.__table__
_ACTIVE = select(_VERSIONS).where(_VERSIONS.c.active.is_(True))


def active_versions(session: Session) -> dict[ListName, ListVersion]:
    rows = session.connection().execute(_ACTIVE)
    return {ListName(row.list_name): _version(row) for row in rows}


def all_versions(session: Session) -> list[ListVersion]:
    rows = session.scalars(
        select(ScreeningListVersionRow).order_by(
            ScreeningListVersionRow.list_name, ScreeningListVersionRow.loaded_at
        )
    )
    return [_version(row) for row in rows]


def active_version_for_update(session: Session, name: ListName) -> ListVersion | None:
    row = session.scalars(
        select(ScreeningListVersionRow)
        .where(ScreeningListVersionRow.list_name == name)
        .where(ScreeningListVersionRow.active.is_(True))
        .with_for_update()
    ).one_or_none()
    return _version(row) if row is not None else None


def insert_version(
    session: Session,
    parsed: ParsedList,
    *,
    version_id: VersionId,
    source: str,
    sha256: str,
    loaded_at: datetime,
    loaded_by: str,
    proposed: bool = False,
) -> ListVersion:
    """Store `parsed` as the new active version of its list (the old one is marked
    replaced), or with `proposed` as a version that waits for a second person's approval."""
    if not proposed:
        _retire_active(session, parsed.name)
    row = ScreeningListVersionRow(
        id=version_id,
        list_name=parsed.name,
        format=parsed.format.value,
        source=source[:500],
        published=parsed.published,
        sha256=sha256,
        loaded_at=loaded_at,
        entity_count=len(parsed.entities),
        address_count=len(parsed.addresses),
        counts_by_chain=parsed.counts_by_chain(),
        unknown_tickers=list(parsed.unknown_tickers),
        invalid_addresses=list(parsed.invalid_addresses),
        active=not proposed,
        publisher=parsed.publisher,
        loaded_by=loaded_by[:200],
        status=(VersionStatus.PROPOSED if proposed else VersionStatus.ACTIVE).value,
    )
    session.add(row)
    session.flush()
    entities = [
        {
            "version_id": version_id,
            "ref": e.ref,
            "name": e.name,
            "kind": e.kind,
            "aliases": list(e.aliases),
            "programs": list(e.programs),
            "birth_dates": list(e.birth_dates),
            "nationalities": list(e.nationalities),
        }
        for e in parsed.entities
    ]
    addresses = [
        {
            "version_id": version_id,
            "chain": a.chain,
            "key": a.key,
            "raw": a.raw,
            "ticker": a.ticker,
            "entity_ref": a.entity_ref,
            "valid": a.valid,
        }
        for a in parsed.addresses
    ]
    for start in range(0, len(entities), _BATCH):
        session.execute(insert(ScreeningEntityRow), entities[start : start + _BATCH])
    for start in range(0, len(addresses), _BATCH):
        session.execute(insert(ScreeningAddressRow), addresses[start : start + _BATCH])
    return _version(row)


def _retire_active(session: Session, name: ListName) -> None:
    session.execute(
        update(ScreeningListVersionRow)
        .where(ScreeningListVersionRow.list_name == name)
        .where(ScreeningListVersionRow.active.is_(True))
        .values(active=False, status=VersionStatus.REPLACED.value)
    )
    session.flush()


def version_for_update(session: Session, version_id: str) -> ScreeningListVersionRow | None:
    return session.get(ScreeningListVersionRow, version_id, with_for_update=True)


def proposed_version(session: Session, name: ListName, sha256: str) -> ListVersion | None:
    """A version of this file waiting for approval (the same file proposed again)."""
    row = session.scalars(
        select(ScreeningListVersionRow)
        .where(ScreeningListVersionRow.list_name == name)
        .where(ScreeningListVersionRow.sha256 == sha256)
        .where(ScreeningListVersionRow.status == VersionStatus.PROPOSED.value)
    ).first()
    return _version(row) if row is not None else None


def proposed_versions(session: Session) -> list[ListVersion]:
    rows = session.scalars(
        select(ScreeningListVersionRow)
        .where(ScreeningListVersionRow.status == VersionStatus.PROPOSED.value)
        .order_by(ScreeningListVersionRow.loaded_at, ScreeningListVersionRow.id)
    )
    return [_version(row) for row in rows]


def attach_proposal(session: Session, version_id: VersionId, proposal_id: str) -> None:
    row = session.get(ScreeningListVersionRow, version_id)
    assert row is not None
    row.proposal_id = proposal_id


def activate(session: Session, row: ScreeningListVersionRow, *, approved_by: str) -> ListVersion:
    """Make a proposed version the active one (its list's active version is replaced)."""
    _retire_active(session, ListName(row.list_name))
    row.active, row.status, row.approved_by = True, VersionStatus.ACTIVE.value, approved_by
    session.flush()
    return _version(row)


def refuse(session: Session, row: ScreeningListVersionRow) -> None:
    row.status = VersionStatus.REFUSED.value


def address_entries(
    session: Session, versions: Iterable[ListVersion]
) -> list[tuple[str, AddressHit]]:
    by_id = {v.id: v for v in versions}
    if not by_id:
        return []
    entity_rows = session.execute(
        select(
            ScreeningEntityRow.version_id,
            ScreeningEntityRow.ref,
            ScreeningEntityRow.name,
            ScreeningEntityRow.programs,
        ).where(ScreeningEntityRow.version_id.in_(list(by_id)))
    )
    entities = {(r.version_id, r.ref): (r.name, tuple(r.programs)) for r in entity_rows}
    rows = session.execute(
        select(
            ScreeningAddressRow.version_id,
            ScreeningAddressRow.key,
            ScreeningAddressRow.raw,
            ScreeningAddressRow.ticker,
            ScreeningAddressRow.entity_ref,
        ).where(ScreeningAddressRow.version_id.in_(list(by_id)))
    )
    out = []
    for r in rows:
        version = by_id[VersionId(r.version_id)]
        name, programs = entities.get((r.version_id, r.entity_ref), (r.entity_ref, ()))
        hit = AddressHit(
            list_name=version.list_name,
            version_id=version.id,
            entity_ref=r.entity_ref,
            entity_name=name,
            programs=programs,
            listed_as=r.raw,
            ticker=r.ticker,
        )
        out.append((r.key, hit))
    return out


def name_entities(session: Session, versions: Iterable[ListVersion]) -> list[IndexedEntity]:
    by_id = {v.id: v for v in versions}
    if not by_id:
        return []
    rows = session.scalars(
        select(ScreeningEntityRow).where(ScreeningEntityRow.version_id.in_(list(by_id)))
    )
    return [
        IndexedEntity(
            list_name=by_id[VersionId(r.version_id)].list_name,
            version_id=VersionId(r.version_id),
            ref=r.ref,
            name=r.name,
            names=(r.name, *r.aliases),
            birth_dates=tuple(r.birth_dates),
            nationalities=tuple(r.nationalities),
        )
        for r in rows
    ]
