"""Appending to the audit log inside the caller's transaction (fail closed)."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from kinko.config import Settings
from kinko.core.canonical import canonical_json
from kinko.core.clock import Clock, isoformat
from kinko.core.errors import InputError
from kinko.store.tables.audit import AuditEntryRow, AuditHead

MAX_ENTRY_BYTES = 64 * 1024


@dataclass(frozen=True, slots=True)
class AuditRecord:
    seq: int
    time: datetime
    entry: bytes
    leaf_hash: bytes


def leaf_hash(entry: bytes) -> bytes:
    """RFC 9162 §2.1.1: MTH({d0}) = SHA-256(0x00 || d0)."""
    return hashlib.sha256(b"\x00" + entry).digest()


class AuditLog:
    def __init__(self, *, settings: Settings, clock: Clock) -> None:
        self.settings = settings
        self.clock = clock

    def append(
        self,
        session: Session,
        *,
        actor: str,
        action: str,
        subject: str,
        details: Mapping[str, Any] | None = None,
    ) -> AuditRecord:
        """Append one entry in `session`'s transaction; it commits or rolls back with it.

        Never put secrets in `details`: hash or HMAC them first.
        """
        head = session.execute(
            select(AuditHead).where(AuditHead.id == 1).with_for_update()
        ).scalar_one_or_none()
        if head is None:
            head = AuditHead(id=1, size=0)
            session.add(head)
        seq = head.size
        now = self.clock.now()
        entry = canonical_json(
            {
                "sequence": seq,
                "time": isoformat(now),
                "actor": actor,
                "action": action,
                "subject": subject,
                "details": dict(details or {}),
            }
        )
        if len(entry) > MAX_ENTRY_BYTES:
            raise InputError("audit.details", f"entry is {len(entry)} bytes; the limit is 64 KiB")
        digest = leaf_hash(entry)
        session.add(
            AuditEntryRow(
                seq=seq,
                time=now,
                actor=actor,
                action=action,
                subject=subject,
                entry=entry,
                leaf_hash=digest,
            )
        )
        head.size = seq + 1
        session.flush()
        return AuditRecord(seq=seq, time=now, entry=entry, leaf_hash=digest)
