"""Running an inspection for a person, and keeping what it produced (service).

`ask` checks what was asked for (framework, period, formats), naming the field of a bad
value. `InspectionJobs.start` claims the run (`kinko.inspection.stored_runs`: audited, not
twice at once); `execute` performs a claimed run — `InspectionRuns.run`, then `publish` —
in a private temporary directory, checks every file with the offline verifier
(`kinko.inspection.signing.verify`, with the log's own verifier key) and keeps the bytes
it checked. It never raises: a failure is recorded on the run, with its reason. The
server calls it after answering (a year of a large exchange's snapshots takes about a
minute: docs/benchmarks.md), the CLI through `run_here`, which writes to ``--out`` as it
always has and keeps the same files.
"""

from __future__ import annotations

import hashlib
import logging
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from sqlalchemy.orm import Session

from kinko.context import Context
from kinko.core.errors import InputError, IntegrityError, KinkoError
from kinko.identity.sod import ConflictMatrix
from kinko.inspection import signing
from kinko.inspection.catalogue import Framework
from kinko.inspection.evaluate import Period
from kinko.inspection.publish import Published, publish
from kinko.inspection.runs import InspectionRuns, RunResult, default_period
from kinko.inspection.stored_runs import RunRecords, StoredRun

FRAMEWORKS = ("jp", "kr", "ccss", "all")
REPORT_FORMATS = ("json", "html", "pdf", "oscal")
_FIELDS = {"--from": "from", "--to": "to"}
log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Asked:
    framework: str
    period: Period
    formats: tuple[str, ...]
    """json first (always written), then the others asked for, each once."""


def _day(value: object, field: str) -> date | None:
    if value is None or value == "":
        return None
    if isinstance(value, str) and len(value) == 10:
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    raise InputError(field, f"{value!r} is not a day like 2026-12-06 (YYYY-MM-DD, UTC)")


def ask(framework: object, start: object, end: object, formats: object, *, today: date) -> Asked:
    """What was asked for, checked: `InputError` naming ``framework``, ``from``, ``to`` or
    ``formats``. The period defaults as ``kinko inspect run``'s (the 365 days to today)."""
    if not isinstance(framework, str) or framework not in FRAMEWORKS:
        raise InputError("framework", f"{framework!r} is not one of: {', '.join(FRAMEWORKS)}")
    first, last = _day(start, "from"), _day(end, "to")
    try:
        period = default_period(today, first, last)
    except InputError as exc:
        field = _FIELDS.get(exc.field, exc.field)
        raise InputError(field, exc.message.split(": ", 1)[-1].replace("--from", "from")) from None
    names = formats.split(",") if isinstance(formats, str) else formats
    if not isinstance(names, (list, tuple)) or not all(isinstance(n, str) for n in names):
        raise InputError("formats", f"a list of: {', '.join(REPORT_FORMATS)}")
    chosen = ["json"]
    for name in (n.strip().lower() for n in names if n.strip()):
        if name not in REPORT_FORMATS:
            raise InputError(
                "formats", f"{name!r} is not a report format; use {', '.join(REPORT_FORMATS)}"
            )
        if name not in chosen:
            chosen.append(name)
    return Asked(framework, period, tuple(chosen))


def reason_of(exc: BaseException) -> str:
    """Why a run failed, in words (a KinkoError's own message)."""
    if isinstance(exc, KinkoError):
        return exc.message
    return f"internal error ({type(exc).__name__}); the server's log has the details"


class InspectionJobs:
    def __init__(
        self, ctx: Context, *, conflict_matrix: Callable[[Session], ConflictMatrix]
    ) -> None:
        self.ctx = ctx
        self.records = RunRecords(ctx)
        self.runs = InspectionRuns(ctx, conflict_matrix=conflict_matrix)

    def start(self, asked: Asked, *, actor: str) -> StoredRun:
        """Claim the run for `actor` (audited); `Conflict` when the same one is running."""
        return self.records.claim(asked.framework, asked.period, asked.formats, actor=actor)

    def execute(self, run_id: str) -> StoredRun:
        """Perform the claimed run `run_id` and keep its files; a failure is recorded on
        the run (state ``failed``, the reason) and never raised."""
        try:
            run = self.records.get(run_id)
            with tempfile.TemporaryDirectory(prefix="kinko-inspection-") as directory:
                return self.perform(run, Path(directory))[2]
        except Exception as exc:
            log.exception("inspection run %s failed", run_id)
            self.records.fail(run_id, reason_of(exc))
            return self.records.get(run_id)

    def run_here(
        self, asked: Asked, out: Path, *, actor: str
    ) -> tuple[RunResult, Published, StoredRun]:
        """Claim, perform into `out` and keep (``kinko inspect run``): raises what the run
        raised, after recording it on the run."""
        if out.exists() and not out.is_dir():
            raise InputError("--out", f"{out} is not a directory")
        run = self.start(asked, actor=actor)
        try:
            return self.perform(run, out)
        except BaseException as exc:
            self.records.fail(run.id, reason_of(exc))
            raise

    def perform(self, run: StoredRun, out: Path) -> tuple[RunResult, Published, StoredRun]:
        chosen = None if run.framework == "all" else Framework(run.framework)
        result = self.runs.run(
            chosen,
            out,
            actor=run.requested_by,
            start=date.fromisoformat(run.start),
            end=date.fromisoformat(run.end),
        )
        published = publish(self.ctx, result, run.formats)
        files = _checked(self.ctx, published, result.digest)
        stored = self.records.finish(
            run.id,
            files,
            report=result.path.name,
            digest=result.digest,
            audit_seq=result.audit_seq,
            summary=result.summary,
        )
        return result, published, stored


def _checked(ctx: Context, published: Published, digest: str) -> dict[str, bytes]:
    """The run's files as read, once each report file passed the offline verifier with
    the log's verifier key and the bytes read are the ones its signed note names."""
    paths: Sequence[Path] = (*published.files, published.signature, published.proof)
    data = {p.name: p.read_bytes() for p in paths}
    vkey = ctx.audit.signer().verifier().text()
    for path in published.files:
        verified = signing.verify(path, vkey)
        signed = {s.name: s.digest for s in verified.signed}
        if hashlib.sha256(data[path.name]).hexdigest() != signed.get(path.name):
            raise IntegrityError(f"{path.name} changed while the run kept it")
    if hashlib.sha256(data[published.files[0].name]).hexdigest() != digest:
        raise IntegrityError(f"{published.files[0].name} is not the report the run logged")
    return data
