"""The inspection runs Kinko keeps, and their report files (service; docs/inspection.md,
"Runs kept by the server").

A run asked for from the console, the API or ``kinko inspect run`` is a row of
``inspection_runs``: who asked for which framework and period, and its state (``running``,
``done``, ``failed``). While it runs, its ``running_key`` (framework and period) is set and
unique, so the same run is not started twice at once — in any process, on PostgreSQL as on
SQLite; a run that has not finished after `STALE_AFTER` (its process died) no longer
blocks. Asking is audited (``inspection.run_requested``, its actor the person), a failure
too (``inspection.run_failed``); the run itself logs its report's digest as before
(``inspection.run``).

Once done, each file of the run (the JSON report, its HTML, PDF and OSCAL renderings, the
signed note and the log proof) is stored by the SHA-256 of its bytes in
``inspection_artefacts`` (content-addressed: a byte-identical rerun's report is one row),
and named per run and kind in ``inspection_run_files``. The bytes stored are the files the
run wrote and signed, checked with the offline verifier before they are kept; reading one
back checks it against its digest.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy.exc
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from kinko.context import Context
from kinko.core.errors import Conflict, IntegrityError, NotFound
from kinko.core.ids import new_id
from kinko.inspection.evaluate import Period
from kinko.store.dialect import insert_for
from kinko.store.tables.inspection import (
    InspectionArtefactRow,
    InspectionRunFileRow,
    InspectionRunRow,
)

REQUESTED = "inspection.run_requested"
FAILED_ACTION = "inspection.run_failed"
RUNNING, DONE, FAILED = "running", "done", "failed"
STALE_AFTER = timedelta(hours=2)
"""A run still ``running`` this long after it was asked for was abandoned (its process
stopped): it no longer blocks another run of its framework and period."""
MAX_RUNNING = 2
"""Runs in progress at once, whatever their framework and period (each takes a worker
thread and a core for minutes): the next is refused, ``409 runs_busy``."""
KINDS: dict[str, tuple[str, str]] = {
    "json": (".json", "application/json"),
    "html": (".html", "text/html; charset=utf-8"),
    "pdf": (".pdf", "application/pdf"),
    "oscal": (".oscal.json", "application/json"),
    "sig": (".sig", "text/plain; charset=utf-8"),
    "proof": (".proof", "application/json"),
}
"""A run's files by kind: the name's suffix and the media type it is served with."""


def kind_of(name: str) -> str:
    """The kind of a run's file from its name (``.oscal.json`` before ``.json``)."""
    for kind in ("oscal", "json", "html", "pdf", "sig", "proof"):
        if name.endswith(KINDS[kind][0]):
            return kind
    raise IntegrityError(f"{name} is not a file an inspection run writes")


@dataclass(frozen=True, slots=True)
class StoredFile:
    kind: str
    name: str
    media_type: str
    digest: str
    size: int


@dataclass(frozen=True, slots=True)
class StoredRun:
    id: str
    framework: str
    start: str
    end: str
    formats: tuple[str, ...]
    state: str
    requested_by: str
    requested_at: datetime
    finished_at: datetime | None
    report: str | None
    digest: str | None
    audit_seq: int | None
    summary: dict[str, int] | None
    error: str | None
    files: tuple[StoredFile, ...]


def _stored(row: InspectionRunRow, files: Sequence[InspectionRunFileRow]) -> StoredRun:
    order = list(KINDS)
    return StoredRun(
        row.id, row.framework, row.period_from, row.period_to, tuple(row.formats.split(",")),
        row.state, row.requested_by, row.requested_at, row.finished_at, row.report, row.digest,
        row.audit_seq, row.summary, row.error,
        tuple(StoredFile(f.kind, f.name, f.media_type, f.digest, f.size)
              for f in sorted(files, key=lambda f: order.index(f.kind))),
    )  # fmt: skip


class RunRecords:
    """The rows of kept runs: claiming one, finishing or failing it, reading them back."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    def claim(
        self, framework: str, period: Period, formats: Sequence[str], *, actor: str
    ) -> StoredRun:
        """A new ``running`` run of `framework` over `period`, audited; `Conflict`
        (``run_in_progress``) when the same one is already running."""
        key = f"{framework}:{period.start.isoformat()}:{period.end.isoformat()}"
        now = self.ctx.clock.now()
        run_id = new_id("irun")
        try:
            with self.ctx.db.transaction() as session:
                session.execute(  # an abandoned run of the same key no longer blocks
                    update(InspectionRunRow)
                    .where(
                        InspectionRunRow.running_key == key,
                        InspectionRunRow.requested_at < now - STALE_AFTER,
                    )
                    .values(
                        state=FAILED,
                        running_key=None,
                        finished_at=now,
                        error=f"abandoned: not finished {STALE_AFTER} after it was asked for",
                    )
                )
                self._check_room(session, now)
                row = InspectionRunRow(
                    id=run_id, framework=framework, period_from=period.start.isoformat(),
                    period_to=period.end.isoformat(), formats=",".join(formats), state=RUNNING,
                    running_key=key, requested_by=actor, requested_at=now,
                )  # fmt: skip
                session.add(row)
                session.flush()
                self.ctx.audit.append(
                    session,
                    actor=actor,
                    action=REQUESTED,
                    subject=run_id,
                    details={
                        "framework": framework,
                        "from": period.start.isoformat(),
                        "to": period.end.isoformat(),
                        "formats": list(formats),
                    },
                )
                claimed = _stored(row, [])
        except sqlalchemy.exc.IntegrityError:
            raise self._in_progress(key) from None
        return claimed

    @staticmethod
    def _check_room(session: Session, now: datetime) -> None:
        """`Conflict` (``runs_busy``) when `MAX_RUNNING` runs not yet abandoned are in
        progress. On PostgreSQL, claims committing at the same instant do not see each
        other and may each pass: only they exceed the bound, never a stream of requests."""
        busy = list(
            session.execute(
                select(InspectionRunRow.id).where(
                    InspectionRunRow.running_key.is_not(None),
                    InspectionRunRow.requested_at >= now - STALE_AFTER,
                )
            ).scalars()
        )
        if len(busy) >= MAX_RUNNING:
            raise Conflict(
                f"{len(busy)} inspection runs are in progress ({', '.join(sorted(busy))}), "
                f"the most at once is {MAX_RUNNING}: wait for one to finish",
                code="runs_busy",
            )

    def _in_progress(self, key: str) -> Conflict:
        with self.ctx.db.reading() as session:
            held = session.execute(
                select(InspectionRunRow).where(InspectionRunRow.running_key == key)
            ).scalar_one_or_none()
        framework, start, end = key.split(":")
        since = "" if held is None else f" (run {held.id}, asked for by {held.requested_by})"
        return Conflict(
            f"a run of {framework} over {start} .. {end} is already in progress{since}; "
            "wait for it to finish, then read its report",
            code="run_in_progress",
        )

    def finish(
        self,
        run_id: str,
        files: Mapping[str, bytes],
        *,
        report: str,
        digest: str,
        audit_seq: int,
        summary: Mapping[str, int],
    ) -> StoredRun:
        """Keep the run's `files` (name -> bytes) by digest and mark it done."""
        now = self.ctx.clock.now()
        with self.ctx.db.transaction() as session:
            row = self._row(session, run_id)
            if row.state != RUNNING:  # taken over as abandoned while this process ran it
                raise Conflict(
                    f"run {run_id} is {row.state} ({row.error}): what it made is not kept",
                    code="run_abandoned",
                )
            kept = []
            for name, data in files.items():
                sha = hashlib.sha256(data).hexdigest()
                session.execute(
                    insert_for(session, InspectionArtefactRow.__table__)
                    .values(digest=sha, size=len(data), content=data, stored_at=now)
                    .on_conflict_do_nothing(index_elements=["digest"])
                )
                kind = kind_of(name)
                kept.append(InspectionRunFileRow(run_id=run_id, kind=kind, name=name,
                                                 media_type=KINDS[kind][1], digest=sha,
                                                 size=len(data)))  # fmt: skip
            session.add_all(kept)
            row.state, row.running_key, row.finished_at = DONE, None, now
            row.report, row.digest, row.audit_seq = report, digest, audit_seq
            row.summary = dict(summary)
            session.flush()
            return _stored(row, kept)

    def fail(self, run_id: str, message: str) -> None:
        """Mark the run failed with `message` (audited); nothing of it is kept."""
        with self.ctx.db.transaction() as session:
            row = self._row(session, run_id)
            row.state, row.running_key = FAILED, None
            row.finished_at, row.error = self.ctx.clock.now(), message[:2000]
            self.ctx.audit.append(
                session,
                actor=row.requested_by,
                action=FAILED_ACTION,
                subject=run_id,
                details={"framework": row.framework, "from": row.period_from,
                         "to": row.period_to, "error": message[:2000]},
            )  # fmt: skip

    @staticmethod
    def _row(session: Session, run_id: str) -> InspectionRunRow:
        row = session.get(InspectionRunRow, run_id)
        if row is None:
            raise NotFound(f"no inspection run {run_id}")
        return row

    # -- reading ------------------------------------------------------------------------

    def runs(self, limit: int = 200) -> list[StoredRun]:
        """The kept runs, newest first (at most `limit`)."""
        with self.ctx.db.reading() as session:
            rows = list(
                session.execute(
                    select(InspectionRunRow)
                    .order_by(InspectionRunRow.requested_at.desc(), InspectionRunRow.id.desc())
                    .limit(limit)
                ).scalars()
            )
            files: dict[str, list[InspectionRunFileRow]] = {}
            for f in session.execute(
                select(InspectionRunFileRow).where(
                    InspectionRunFileRow.run_id.in_([r.id for r in rows])
                )
            ).scalars():
                files.setdefault(f.run_id, []).append(f)
        return [_stored(r, files.get(r.id, [])) for r in rows]

    def get(self, run_id: str) -> StoredRun:
        with self.ctx.db.reading() as session:
            row = self._row(session, run_id)
            files = session.execute(
                select(InspectionRunFileRow).where(InspectionRunFileRow.run_id == run_id)
            ).scalars()
            return _stored(row, list(files))

    def file(self, run_id: str, kind: str) -> tuple[StoredFile, bytes]:
        """A run's file of `kind` and its bytes, checked against their digest; `NotFound`
        for an unknown run, or a kind the run did not write."""
        run = self.get(run_id)
        found = next((f for f in run.files if f.kind == kind), None)
        if found is None:
            state = "" if run.state == DONE else f" (the run is {run.state})"
            raise NotFound(f"run {run_id} has no {kind} file{state}")
        with self.ctx.db.reading() as session:
            data = session.execute(
                select(InspectionArtefactRow.content).where(
                    InspectionArtefactRow.digest == found.digest
                )
            ).scalar_one()
        if hashlib.sha256(data).hexdigest() != found.digest:
            raise IntegrityError(
                f"the stored {found.name} does not match its digest {found.digest}: "
                "it was altered after it was kept"
            )
        return found, data


def as_json(run: StoredRun) -> dict[str, Any]:
    """A kept run as the API and ``--json`` show it."""
    return {
        "id": run.id,
        "framework": run.framework,
        "from": run.start,
        "to": run.end,
        "formats": list(run.formats),
        "state": run.state,
        "requested_by": run.requested_by,
        "requested_at": run.requested_at.isoformat(),
        "finished_at": None if run.finished_at is None else run.finished_at.isoformat(),
        "report": run.report,
        "digest": run.digest,
        "audit_seq": run.audit_seq,
        "summary": run.summary,
        "error": run.error,
        "files": [
            {"kind": f.kind, "name": f.name, "media_type": f.media_type, "sha256": f.digest,
             "size": f.size}
            for f in run.files
        ],
    }  # fmt: skip
