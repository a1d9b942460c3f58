"""Saved incident notification drafts (service; issue #16 point 6).

A saved draft is one audit-log entry (action ``inspection.incident_draft``, subject the
alert id): the draft as `IncidentDraft.to_json` gives it (its `actions` are the alert's
responses, every field), the alert it came from (id, rule, title, level, when detected,
the evidence of the event that fired it) and the SHA-256 of the draft's canonical JSON.
The log is the store: a draft is listed and re-read from its entry, which is checked
against its leaf hash and its digest, so a saved draft cannot be altered unnoticed. An
entry is at most 64 KiB (the log's limit): a larger draft is refused, nothing is saved.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from kinko.audit import merkle
from kinko.context import Context
from kinko.core.canonical import canonical_json
from kinko.core.errors import IntegrityError, NotFound
from kinko.inspection.incident import AlertFacts, IncidentDraft
from kinko.store.tables.audit import AuditEntryRow

ACTION = "inspection.incident_draft"


@dataclass(frozen=True, slots=True)
class SavedDraft:
    audit_seq: int
    time: datetime
    actor: str
    alert_id: str
    digest: str
    draft: dict[str, Any]
    alert: dict[str, Any]


def draft_digest(document: dict[str, Any]) -> str:
    return hashlib.sha256(canonical_json(document)).hexdigest()


def _alert_json(alert: AlertFacts) -> dict[str, Any]:
    return {
        "id": alert.id,
        "rule_id": alert.rule_id,
        "title": alert.title,
        "level": alert.level,
        "detected_at": alert.created_at.isoformat().replace("+00:00", "Z"),
        "evidence": dict(alert.evidence),
    }


def save(
    ctx: Context, session: Session, found: IncidentDraft, alert: AlertFacts, *, actor: str
) -> SavedDraft:
    """Log `found` with the alert it came from, in `session`'s transaction."""
    document = found.to_json()
    digest = draft_digest(document)
    facts = _alert_json(alert)
    details = {"digest": digest, "draft": document, "alert": facts}
    entry = ctx.audit.append(
        session, actor=actor, action=ACTION, subject=found.alert_id, details=details
    )
    return SavedDraft(entry.seq, entry.time, actor, found.alert_id, digest, document, facts)


def _read(row: AuditEntryRow) -> SavedDraft:
    if merkle.leaf_hash(row.entry) != row.leaf_hash:
        raise IntegrityError(
            f"audit entry {row.seq} does not hash to its leaf hash: it was altered",
            code="entry_altered",
        )
    details: dict[str, Any] = json.loads(row.entry).get("details", {})
    document = details.get("draft")
    if not isinstance(document, dict) or draft_digest(document) != details.get("digest"):
        raise IntegrityError(f"the draft saved in audit entry {row.seq} does not match its digest")
    return SavedDraft(
        row.seq,
        row.time,
        row.actor,
        row.subject,
        str(details["digest"]),
        document,
        dict(details.get("alert") or {}),
    )


def saved_drafts(ctx: Context, alert_id: str | None = None) -> list[SavedDraft]:
    """The saved drafts, oldest first (of one alert when `alert_id` is given)."""
    query = select(AuditEntryRow).where(AuditEntryRow.action == ACTION)
    if alert_id is not None:
        query = query.where(AuditEntryRow.subject == alert_id)
    with ctx.db.reading() as session:
        rows = list(session.execute(query.order_by(AuditEntryRow.seq)).scalars())
    return [_read(r) for r in rows]


def saved_draft(ctx: Context, audit_seq: int) -> SavedDraft:
    """The draft saved in audit entry `audit_seq`; NotFound if that entry holds none."""
    with ctx.db.reading() as session:
        row = session.get(AuditEntryRow, audit_seq)
    if row is None or row.action != ACTION:
        raise NotFound(
            f"audit entry {audit_seq} holds no saved incident draft (kinko inspect incidents)"
        )
    return _read(row)
