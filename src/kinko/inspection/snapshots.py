"""Daily evidence snapshots, kept (service): take, back-fill, import, list (docs/inspection.md).

A UTC day has one snapshot. Each is stored with its canonical JSON (compressed) and its
digest, and the digest goes into the audit log (action ``inspection.snapshot``) in the same
transaction: either both are recorded or neither.

- `take` reads the store as it is now (`kinko.inspection.evidence.current`). Taking a day
  that already has a snapshot returns the one recorded first, unchanged (``new`` is
  false), even if the evidence has changed since: the day's evidence is what it was when
  first taken. ``kinko serve`` calls `take_daily` every few minutes under the periodic
  jobs' lease (kinko.api.background), so the first call of each day takes it.
- `backfill` rebuilds past days from the store's history
  (`kinko.inspection.evidence.historical`, origin ``backfilled``), skipping days that
  have one and days before the audit log's first entry (the store held nothing then).
- `import_documents` records snapshots from a file (another Kinko's, a backup): each is
  parsed, must be in canonical form and match its digest, else the whole file is refused
  (InputError naming the field). A day already held with the same digest is left as it
  is; with another digest it is an `IntegrityError` and nothing is imported.
"""

from __future__ import annotations

import json
import re
import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError as DatabaseIntegrityError
from sqlalchemy.orm import Session

from kinko.context import Context
from kinko.core.errors import InputError, IntegrityError, NotFound
from kinko.inspection import evidence
from kinko.inspection.snapshot import Snapshot, digest_of
from kinko.store.tables.audit import AuditEntryRow
from kinko.store.tables.inspection import InspectionSnapshotRow

ACTION = "inspection.snapshot"
SYSTEM_ACTOR = "system:inspection"
FIRST_DAY = date(2009, 1, 3)  # the first Bitcoin block: nothing to inspect before
MAX_BACKFILL_DAYS = 3660
_HEX64 = re.compile(r"^[0-9a-f]{64}$")


@dataclass(frozen=True, slots=True)
class SnapshotRecord:
    """A stored snapshot, without its document."""

    day: date
    digest: str
    origin: str
    as_of: datetime
    size: int
    recorded_at: datetime
    recorded_by: str
    imported_from: str | None
    audit_seq: int

    @classmethod
    def of(cls, row: InspectionSnapshotRow) -> SnapshotRecord:
        return cls(
            date.fromisoformat(row.day),
            row.digest,
            row.origin,
            row.as_of,
            row.size,
            row.recorded_at,
            row.recorded_by,
            row.imported_from,
            row.audit_seq,
        )


@dataclass(frozen=True, slots=True)
class Taken:
    record: SnapshotRecord
    new: bool
    """False: the day already had this snapshot (nothing was written)."""


@dataclass(frozen=True, slots=True)
class Filled:
    recorded: tuple[SnapshotRecord, ...]
    skipped: tuple[tuple[date, str], ...]
    """Days not filled, each with why."""


class SnapshotService:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    # -- writing ---------------------------------------------------------------------

    def take(self, *, actor: str, now: datetime | None = None) -> Taken:
        """Today's snapshot (today: the UTC day of `now`, default the context's clock)."""
        when = (now or self.ctx.clock.now()).astimezone(UTC)
        try:
            with self.ctx.db.transaction() as session:
                self.ctx.audit.hold_head(session)  # one taker at a time, then look
                row = session.get(InspectionSnapshotRow, when.date().isoformat())
                if row is not None:
                    return Taken(SnapshotRecord.of(row), new=False)
                record = self._store(session, evidence.current(session, when), actor, None)
            return Taken(record, new=True)
        except DatabaseIntegrityError:
            # Another process recorded the day between our look and our insert.
            return Taken(self.record(when.date()), new=False)

    def take_daily(self) -> Taken:
        """`take` as ``kinko serve`` does it, each few minutes (`SYSTEM_ACTOR`)."""
        return self.take(actor=SYSTEM_ACTOR)

    def backfill(self, start: date, end: date, *, actor: str) -> Filled:
        """Fill `start`..`end` (inclusive, before today) from the store's history."""
        today = self.ctx.clock.now().astimezone(UTC).date()
        if start < FIRST_DAY:
            raise InputError("--from", f"{start} is before {FIRST_DAY}: give a later day")
        if end < start:
            raise InputError("--to", f"{end} is before --from {start}")
        if end >= today:
            raise InputError(
                "--to",
                f"{end} is not before today ({today}, UTC): a day is back-filled once over; "
                "take today's with `kinko inspect snapshot`",
            )
        if (end - start).days >= MAX_BACKFILL_DAYS:
            raise InputError("--from", f"at most {MAX_BACKFILL_DAYS} days at once")
        recorded: list[SnapshotRecord] = []
        skipped: list[tuple[date, str]] = []
        with self.ctx.db.transaction() as session:
            self.ctx.audit.hold_head(session)
            first = session.execute(select(func.min(AuditEntryRow.time))).scalar()
            held = set(
                session.execute(
                    select(InspectionSnapshotRow.day).where(
                        InspectionSnapshotRow.day >= start.isoformat(),
                        InspectionSnapshotRow.day <= end.isoformat(),
                    )
                ).scalars()
            )
            day = start
            while day <= end:
                if first is None or day < first.astimezone(UTC).date():
                    since = "it is empty" if first is None else f"it starts {first.date()}"
                    skipped.append((day, f"the store holds no history of this day ({since})"))
                elif day.isoformat() in held:
                    skipped.append((day, "already has a snapshot"))
                else:
                    snap = evidence.historical(session, day)
                    recorded.append(self._store(session, snap, actor, None))
                day += timedelta(days=1)
        return Filled(tuple(recorded), tuple(skipped))

    def import_documents(self, doc: object, *, actor: str, source: str) -> Filled:
        """Record the snapshots of an import file (docs/inspection.md); all or none.

        `skipped` lists the days already held with the same digest."""
        parsed = parse_import(doc, today=self.ctx.clock.now().astimezone(UTC).date())
        recorded: list[SnapshotRecord] = []
        skipped: list[tuple[date, str]] = []
        with self.ctx.db.transaction() as session:
            self.ctx.audit.hold_head(session)
            for snap in parsed:
                row = session.get(InspectionSnapshotRow, snap.day.isoformat())
                if row is not None and row.digest == snap.digest:
                    skipped.append((snap.day, "already recorded with the same digest"))
                    continue
                recorded.append(self._store(session, snap, actor, source))
        return Filled(tuple(recorded), tuple(skipped))

    def _store(
        self, session: Session, snap: Snapshot, actor: str, imported_from: str | None
    ) -> SnapshotRecord:
        encoded = snap.encode()
        digest = digest_of(encoded)
        key = snap.day.isoformat()
        existing = session.get(InspectionSnapshotRow, key)
        if existing is not None and existing.digest != digest:
            raise IntegrityError(
                f"{key} already has a snapshot with digest {existing.digest}; this one's is "
                f"{digest}: a day has one snapshot, nothing was recorded"
            )
        if existing is not None:
            return SnapshotRecord.of(existing)
        as_of = datetime.strptime(snap.as_of, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)
        details: dict[str, object] = {
            "digest": digest,
            "origin": snap.origin.value,
            "as_of": snap.as_of,
            "size": len(encoded),
        }
        if imported_from is not None:
            details["imported_from"] = imported_from
        audit = self.ctx.audit.append(
            session, actor=actor, action=ACTION, subject=key, details=details
        )
        row = InspectionSnapshotRow(
            day=key,
            digest=digest,
            origin=snap.origin.value,
            as_of=as_of,
            size=len(encoded),
            document=zlib.compress(encoded, 6),
            recorded_at=self.ctx.clock.now(),
            recorded_by=actor,
            imported_from=imported_from,
            audit_seq=audit.seq,
        )
        session.add(row)
        session.flush()
        return SnapshotRecord.of(row)

    # -- reading ---------------------------------------------------------------------

    def list(self, start: date | None = None, end: date | None = None) -> list[SnapshotRecord]:
        if start is not None and end is not None and end < start:
            raise InputError("--to", f"{end} is before --from {start}")
        query = select(InspectionSnapshotRow).order_by(InspectionSnapshotRow.day)
        if start is not None:
            query = query.where(InspectionSnapshotRow.day >= start.isoformat())
        if end is not None:
            query = query.where(InspectionSnapshotRow.day <= end.isoformat())
        with self.ctx.db.reading() as session:
            return [SnapshotRecord.of(r) for r in session.execute(query).scalars()]

    def record(self, day: date) -> SnapshotRecord:
        with self.ctx.db.reading() as session:
            row = session.get(InspectionSnapshotRow, day.isoformat())
            if row is None:
                raise NotFound(f"no snapshot of {day}")
            return SnapshotRecord.of(row)

    def document(self, day: date) -> Snapshot:
        """The stored snapshot of `day`, checked against its digest."""
        with self.ctx.db.reading() as session:
            row = session.get(InspectionSnapshotRow, day.isoformat())
            if row is None:
                raise NotFound(f"no snapshot of {day}")
            encoded, digest = zlib.decompress(row.document), row.digest
        if digest_of(encoded) != digest:
            raise IntegrityError(f"the stored snapshot of {day} does not match its digest")
        return Snapshot.from_json(json.loads(encoded), where=f"snapshot {day}")


def parse_import(doc: object, *, today: date) -> list[Snapshot]:
    """The snapshots of an import file ``{"snapshots": [{"digest", "document"}, ...]}``
    (what ``kinko inspect snapshots --json --documents`` prints), each checked."""
    if not isinstance(doc, Mapping) or not isinstance(doc.get("snapshots"), list):
        raise InputError("snapshots", 'the file must be a JSON object {"snapshots": [...]}')
    out: list[Snapshot] = []
    seen: set[date] = set()
    for i, item in enumerate(doc["snapshots"]):
        where = f"snapshots[{i}]"
        if not isinstance(item, Mapping) or "document" not in item or "digest" not in item:
            raise InputError(where, "each snapshot is an object with its digest and document")
        snap = Snapshot.from_json(item["document"], where=f"{where}.document")
        if snap.to_json() != item["document"]:
            raise InputError(f"{where}.document", "is not in the snapshot's canonical form")
        given = item["digest"]
        if not isinstance(given, str) or not _HEX64.match(given):
            raise InputError(f"{where}.digest", "must be 64 lower-case hexadecimal digits")
        if given != snap.digest:
            raise InputError(
                f"{where}.digest",
                f"the snapshot of {snap.day} does not match its digest (its canonical JSON "
                f"hashes to {snap.digest}): it was altered or damaged; nothing was imported",
            )
        if "day" in item and item["day"] != snap.day.isoformat():
            raise InputError(f"{where}.day", f"says {item['day']!r}, its document {snap.day}")
        if snap.day > today:
            raise InputError(f"{where}.document.day", f"{snap.day} is after today ({today})")
        if snap.day in seen:
            raise InputError(f"{where}.document.day", f"{snap.day} is in the file twice")
        seen.add(snap.day)
        out.append(snap)
    return out
