"""The trend across inspection runs, read from the audit log's ``inspection.run`` entries
(service): each run's time, who ran it, framework, period, catalogue, report digest and
its counts per status, with the change of each count since the previous run of the same
framework. Each entry is checked against its leaf hash (an altered entry is refused).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select

from kinko.audit import merkle
from kinko.context import Context
from kinko.core.errors import IntegrityError
from kinko.inspection.runs import ACTION
from kinko.store.tables.audit import AuditEntryRow

STATUSES = ("pass", "fail", "insufficient_evidence", "manual", "not_applicable")


@dataclass(frozen=True, slots=True)
class RunEntry:
    audit_seq: int
    time: datetime
    actor: str
    report: str
    framework: str
    start: str
    end: str
    catalogue: str
    digest: str
    summary: dict[str, int]
    change: dict[str, int] | None
    """Each count minus the previous run's of the same framework (None: the first)."""


def history(ctx: Context, framework: str | None = None, limit: int = 1000) -> list[RunEntry]:
    """The runs, oldest first (at most the last `limit`), of `framework` or all."""
    with ctx.db.reading() as session:
        rows = list(
            session.execute(
                select(AuditEntryRow)
                .where(AuditEntryRow.action == ACTION)
                .order_by(AuditEntryRow.seq)
            ).scalars()
        )
    out: list[RunEntry] = []
    last: dict[str, dict[str, int]] = {}
    for row in rows:
        if merkle.leaf_hash(row.entry) != row.leaf_hash:
            raise IntegrityError(f"audit entry {row.seq} does not hash to its leaf hash")
        details: dict[str, Any] = json.loads(row.entry).get("details", {})
        summary = {s: int(details.get("summary", {}).get(s, 0)) for s in STATUSES}
        name = str(details.get("framework", "all"))
        before = last.get(name)
        last[name] = summary
        if framework is not None and name != framework:
            continue
        out.append(
            RunEntry(
                row.seq,
                row.time,
                row.actor,
                row.subject,
                name,
                str(details.get("from")),
                str(details.get("to")),
                str(details.get("catalogue")),
                str(details.get("digest")),
                summary,
                None if before is None else {s: summary[s] - before[s] for s in STATUSES},
            )
        )
    return out[-limit:]


def as_json(run: RunEntry) -> dict[str, Any]:
    """A run as ``kinko inspect history --json`` lists it, and the trend page reads it."""
    return {
        "audit_seq": run.audit_seq,
        "time": run.time.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        "actor": run.actor,
        "report": run.report,
        "framework": run.framework,
        "from": run.start,
        "to": run.end,
        "catalogue": run.catalogue,
        "digest": run.digest,
        "summary": run.summary,
        "change": run.change,
    }
