"""Inspection runs (service): evaluate the catalogue over a period, write the JSON report
with the audit-log proofs of its evidence, and log the report's digest (docs/inspection.md).

A run reads the daily snapshots of the period (and of a trailing price window before it)
from the store, checks each against its digest, and hands them to the pure evaluator
(`kinko.inspection.evaluate`). Then, in one transaction holding the audit head: every
snapshot a finding used is proven into a signed checkpoint (its ``inspection.snapshot``
entry, the entry's leaf hash and RFC 9162 inclusion proof), the report is built and
written, and its digest is appended to the audit log (``inspection.run``). The file is
moved into place only once that entry commits; a failure leaves neither.

The checkpoint is the smallest one already signed that holds every entry used, or a new
one when none does: a rerun on the same data and period finds the same checkpoint, so
its report is byte-identical.
"""

from __future__ import annotations

import gc
import json
import os
import tempfile
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from kinko.audit import merkle
from kinko.audit.checkpoint import parse_body
from kinko.audit.note import parse_note
from kinko.context import Context
from kinko.core.deadlines import parse_deadlines
from kinko.core.errors import InputError, IntegrityError
from kinko.identity.sod import ConflictMatrix
from kinko.inspection import catalogue as catalogues
from kinko.inspection import records as kept
from kinko.inspection import register_proofs
from kinko.inspection import report as reports
from kinko.inspection.catalogue import Framework
from kinko.inspection.evaluate import Evidence, Held, Period, evaluate, first_needed
from kinko.inspection.snapshot import Snapshot, digest_of
from kinko.inspection.snapshots import ACTION as SNAPSHOT_ACTION
from kinko.reserves.outcomes import outcomes as reserves_outcomes
from kinko.store.tables.audit import AuditCheckpointRow
from kinko.store.tables.custody import AssetRow
from kinko.store.tables.inspection import InspectionSnapshotRow

ACTION = "inspection.run"
DEFAULT_DAYS = 365
STREAM_BATCH = 8
"""Snapshots read per query while a run walks its days (their compressed documents)."""


@dataclass(frozen=True, slots=True)
class Logged:
    """What a run keeps of a stored snapshot for its proofs (not the document)."""

    day: str
    digest: str
    origin: str
    audit_seq: int


@dataclass(frozen=True, slots=True)
class RunResult:
    path: Path
    digest: str
    size: int
    summary: dict[str, int]
    audit_seq: int
    period: Period


def default_period(today: date, start: date | None, end: date | None) -> Period:
    """`start`..`end`; by default the 365 days ending today (UTC). Not after today."""
    last = end or today
    if last > today:
        raise InputError("--to", f"{last} is after today ({today}, UTC): no evidence yet")
    first = start or last - timedelta(days=DEFAULT_DAYS - 1)
    if start is not None and end is None and start > today:
        raise InputError("--from", f"{start} is after today ({today}, UTC)")
    return Period(first, last)


def report_name(framework: Framework | None, period: Period) -> str:
    name = "all" if framework is None else framework.value
    return f"inspection-{name}-{period.start.isoformat()}-{period.end.isoformat()}.json"


class InspectionRuns:
    def __init__(
        self, ctx: Context, *, conflict_matrix: Callable[[Session], ConflictMatrix]
    ) -> None:
        self.ctx = ctx
        self.conflict_matrix = conflict_matrix

    def run(
        self,
        framework: Framework | None,
        out: Path,
        *,
        actor: str,
        start: date | None = None,
        end: date | None = None,
    ) -> RunResult:
        today = self.ctx.clock.now().astimezone(UTC).date()
        period = default_period(today, start, end)
        if out.exists() and not out.is_dir():
            raise InputError("--out", f"{out} is not a directory")
        catalogue = catalogues.packaged()
        evidence, records = self._evidence(first_needed(catalogue, framework, period), period)
        gc.freeze()  # what is alive now (modules, the register) is not walked by each of the
        try:  # walk's collections (each day's parse makes many): ~8% less CPU
            findings = evaluate(catalogue, framework, period, evidence)
        finally:
            gc.unfreeze()
        used = sorted({d for f in findings for d in f.evidence})
        out.mkdir(parents=True, exist_ok=True)
        name = report_name(framework, period)
        temp: Path | None = None
        try:
            with self.ctx.db.transaction() as session:
                self.ctx.audit.hold_head(session)
                rows = register_proofs.cited(session, register_proofs.cited_paths(findings))
                log, proven, proven_rows = self._prove(session, [records[d] for d in used], rows)
                built = reports.build(catalogue, framework, period, findings, evidence, proven,
                                      log, proven_rows)  # fmt: skip
                encoded = reports.encode(built)
                digest = reports.digest_of(encoded)
                temp = _write_temp(out, name, encoded)
                entry = self.ctx.audit.append(
                    session,
                    actor=actor,
                    action=ACTION,
                    subject=name,
                    details={
                        "digest": digest,
                        "size": len(encoded),
                        "framework": built["framework"],
                        "from": period.start.isoformat(),
                        "to": period.end.isoformat(),
                        "catalogue": catalogue.version,
                        "summary": built["summary"],
                        "checkpoint_size": None if log is None else log.size,
                    },
                )
            os.replace(temp, out / name)
            temp = None
        finally:
            if temp is not None:
                temp.unlink(missing_ok=True)
        return RunResult(out / name, digest, len(encoded), built["summary"], entry.seq, period)

    # -- reading the evidence ---------------------------------------------------------

    def _evidence(self, first: date, period: Period) -> tuple[Evidence, dict[date, Logged]]:
        """The evidence of a run; its snapshots a stream (`stream`), each read, checked and
        parsed when the evaluation reaches its day, then dropped: a run holds one parsed
        day at a time, whatever the period. The rows' day, digest, origin and audit entry
        (what the proofs need) are read at once; they are small."""
        with self.ctx.db.reading() as session:
            logged = {
                date.fromisoformat(r.day): Logged(r.day, r.digest, r.origin, r.audit_seq)
                for r in session.execute(
                    select(
                        InspectionSnapshotRow.day,
                        InspectionSnapshotRow.digest,
                        InspectionSnapshotRow.origin,
                        InspectionSnapshotRow.audit_seq,
                    )
                    .where(
                        InspectionSnapshotRow.day >= first.isoformat(),
                        InspectionSnapshotRow.day <= period.end.isoformat(),
                    )
                    .order_by(InspectionSnapshotRow.day)
                )
            }
            began = session.execute(select(func.min(InspectionSnapshotRow.day))).scalar()
            decimals = {
                f"{a.chain}:{a.symbol}": a.decimals
                for a in session.execute(select(AssetRow)).scalars()
            }
            matrix = self.conflict_matrix(session)
            register = kept.register_history(session, period.end)
            people = kept.accounts(session, period.end)
            signed = kept.signatures(session, period.end)
            proofs = reserves_outcomes(session, period.start, period.end)
        setting = self.ctx.settings.incident_report_deadlines
        evidence = Evidence(
            self.stream(list(logged.values())),
            decimals,
            matrix,
            None if began is None else date.fromisoformat(began),
            register,
            people,
            signed,
            parse_deadlines(setting, "incident_report_deadlines"),
            reserves=proofs,
        )
        return evidence, logged

    def stream(self, logged: list[Logged]) -> Iterator[Held]:
        """The snapshots of `logged` (in day order), each read when it is reached, checked
        against the digest listed when the run began, and parsed."""
        for at in range(0, len(logged), STREAM_BATCH):
            batch = logged[at : at + STREAM_BATCH]
            with self.ctx.db.reading() as session:
                documents: dict[str, bytes] = {
                    day: document
                    for day, document in session.execute(
                        select(InspectionSnapshotRow.day, InspectionSnapshotRow.document).where(
                            InspectionSnapshotRow.day.in_([r.day for r in batch])
                        )
                    )
                }
            for r in batch:
                stored = documents.pop(r.day, None)
                if stored is None:
                    raise IntegrityError(f"the stored snapshot of {r.day} vanished during the run")
                encoded = zlib.decompress(stored)
                del stored
                if digest_of(encoded) != r.digest:
                    raise IntegrityError(
                        f"the stored snapshot of {r.day} does not match its digest"
                    )
                snap = Snapshot.from_json(json.loads(encoded), f"snapshot {r.day}", {})
                del encoded
                yield Held(snap, r.digest)

    # -- proving it -----------------------------------------------------------------------

    def _prove(
        self, session: Session, used: list[Logged], rows: list[register_proofs.Cited]
    ) -> tuple[reports.Log | None, list[reports.Proven], list[reports.ProvenRow]]:
        if not used and not rows:
            return None, [], []
        need = max([r.audit_seq for r in used] + [c.audit_seq for c in rows]) + 1
        signed = session.execute(
            select(AuditCheckpointRow)
            .where(AuditCheckpointRow.size >= need)
            .order_by(AuditCheckpointRow.size)
            .limit(1)
        ).scalar_one_or_none()
        note = signed.note if signed is not None else self.ctx.audit.checkpoint(session)
        checkpoint = parse_body(parse_note(note).text)
        root = self.ctx.audit.root(session, checkpoint.size)
        if root != checkpoint.root_hash:
            raise IntegrityError(
                f"the stored audit tree of size {checkpoint.size} does not match the checkpoint "
                "signed at that size: the log was altered after it was signed"
            )

        def proof_of(seq: int) -> tuple[bytes, bytes, tuple[bytes, ...]]:
            record = self.ctx.audit.entry(session, seq)
            if merkle.leaf_hash(record.entry) != record.leaf_hash:
                raise IntegrityError(
                    f"audit entry {seq} does not hash to its leaf hash: it was altered "
                    "after it was logged",
                    code="entry_altered",
                )
            proof = self.ctx.audit.inclusion_proof(session, seq, checkpoint.size)
            merkle.verify_inclusion(record.leaf_hash, seq, checkpoint.size, proof, root)
            return record.entry, record.leaf_hash, tuple(proof)

        proven = []
        for r in used:
            entry, leaf, proof = proof_of(r.audit_seq)
            _check_entry(r, entry)
            proven.append(reports.Proven(date.fromisoformat(r.day), r.digest, r.origin,
                                         r.audit_seq, entry, leaf, proof))  # fmt: skip
        proven_rows = []
        for c in rows:
            entry, leaf, proof = proof_of(c.audit_seq)
            register_proofs.check_entry(c, entry)
            proven_rows.append(reports.ProvenRow(c.path, c.digest, c.audit_seq, entry, leaf, proof))
        log = reports.Log(checkpoint.origin, checkpoint.size, checkpoint.root_hash, note)
        return log, proven, proven_rows


def _check_entry(row: Logged, entry: bytes) -> None:
    """The snapshot's audit entry is the one that logged this digest."""
    value: Any = json.loads(entry)
    details = value.get("details", {}) if isinstance(value, dict) else {}
    if (
        value.get("action") != SNAPSHOT_ACTION
        or value.get("subject") != row.day
        or details.get("digest") != row.digest
    ):
        raise IntegrityError(
            f"audit entry {row.audit_seq} is not the {SNAPSHOT_ACTION} entry of {row.day} "
            f"with digest {row.digest}: the snapshot does not match the log"
        )


def _write_temp(directory: Path, name: str, data: bytes) -> Path:
    handle, path = tempfile.mkstemp(prefix=f".{name}.", suffix=".tmp", dir=directory)
    with os.fdopen(handle, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    return Path(path)
