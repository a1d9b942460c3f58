"""The governance register in the store: records, their versions, attachments by digest.

Every record change comes from an approved four-eyes proposal (kind ``register_change``,
`kinko.inspection.register_proposals`): `apply` writes the next version of each record it
changes (append-only: a removal is a version marked removed) with the proposal, its
proposer and approver, and one ``inspection.register_change`` audit entry per record
holding the record's digest. Nothing else writes records.

Attachments (a pen-test report, a ceremony's minutes) are files stored once by their
SHA-256 under the data directory (``register/attachments/<sha256>``, mode 0600, directory
0700) and listed in `register_attachments`; storing one changes no record, so one person
may upload it (audited, ``inspection.register_attachment``); a record names it by digest,
and a change naming a digest Kinko does not hold is refused.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from kinko.context import Context
from kinko.core.errors import Conflict, InputError, IntegrityError, NotFound
from kinko.core.ids import new_id
from kinko.core.secretfile import make_private_dir, write_private
from kinko.inspection.register import Kind
from kinko.inspection.register_changes import Change, Op, people_in, record_digest, record_json
from kinko.inspection.register_fields import DIGEST
from kinko.store.tables.identity import UserRow
from kinko.store.tables.inspection import RegisterAttachmentRow, RegisterRecordRow

CHANGE_ACTION = "inspection.register_change"
ATTACH_ACTION = "inspection.register_attachment"
ATTACHMENTS = Path("register") / "attachments"
MAX_ATTACHMENT = 25 * 1024 * 1024
"""The largest attachment stored (bytes)."""


@dataclass(frozen=True, slots=True)
class StoredRecord:
    """One version of a register record as the store holds it."""

    kind: str
    key: str
    version: int
    removed: bool
    document: dict[str, Any] | None
    digest: str | None
    proposal_id: str
    proposed_by: str
    approved_by: str
    recorded_at: datetime
    audit_seq: int

    @classmethod
    def of(cls, row: RegisterRecordRow) -> StoredRecord:
        return cls(
            row.kind,
            row.key,
            row.version,
            row.removed,
            None if row.document is None else dict(row.document),
            row.digest,
            row.proposal_id,
            row.proposed_by,
            row.approved_by,
            row.recorded_at,
            row.audit_seq,
        )


@dataclass(frozen=True, slots=True)
class Attachment:
    sha256: str
    size: int
    filename: str
    stored_at: datetime
    stored_by: str
    audit_seq: int

    @classmethod
    def of(cls, row: RegisterAttachmentRow) -> Attachment:
        return cls(row.sha256, row.size, row.filename, row.stored_at, row.stored_by, row.audit_seq)


def check_digest(digest: str, *, field: str = "digest") -> str:
    if not DIGEST.match(digest):
        raise InputError(field, "a SHA-256: 64 lower-case hexadecimal digits")
    return digest


class GovernanceRegister:
    """Reads and writes the governance register of one process's store."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    # --- attachments ---------------------------------------------------------------------

    def _path(self, digest: str) -> Path:
        return self.ctx.settings.data_dir / ATTACHMENTS / digest

    def attach(self, data: bytes, *, filename: str, actor: str) -> tuple[Attachment, bool]:
        """Store `data` by its SHA-256 (once); (the attachment, whether it is new)."""
        name = filename.strip().replace("/", "_").replace("\\", "_")[:255]
        if not name:
            raise InputError("filename", "give the file's name")
        if not data:
            raise InputError("content", "the file is empty")
        if len(data) > MAX_ATTACHMENT:
            raise InputError("content", f"at most {MAX_ATTACHMENT // (1024 * 1024)} MiB")
        digest = hashlib.sha256(data).hexdigest()
        with self.ctx.db.transaction() as session:
            held = session.get(RegisterAttachmentRow, digest)
            path = self._path(digest)
            if held is not None and path.is_file() and _sha256(path) == digest:
                return Attachment.of(held), False
            make_private_dir(path.parent)
            write_private(path, data)  # before the row: a row never names a missing file
            if held is not None:  # the file was lost or damaged: restored from this copy
                return Attachment.of(held), False
            entry = self.ctx.audit.append(
                session,
                actor=actor,
                action=ATTACH_ACTION,
                subject=f"attachment:{digest}",
                details={"sha256": digest, "size": len(data), "filename": name},
            )
            row = RegisterAttachmentRow(
                sha256=digest,
                size=len(data),
                filename=name,
                stored_at=self.ctx.clock.now(),
                stored_by=actor,
                audit_seq=entry.seq,
            )
            session.add(row)
            session.flush()
            return Attachment.of(row), True

    def attachment(self, session: Session, digest: str) -> Attachment:
        row = session.get(RegisterAttachmentRow, check_digest(digest))
        if row is None:
            raise NotFound(f"no attachment {digest}")
        return Attachment.of(row)

    def attachment_bytes(self, digest: str) -> bytes:
        """The stored file of `digest`, checked against it."""
        with self.ctx.db.reading() as session:
            self.attachment(session, digest)
        try:
            data = self._path(digest).read_bytes()
        except OSError:
            raise IntegrityError(f"the file of attachment {digest} is missing") from None
        if hashlib.sha256(data).hexdigest() != digest:
            raise IntegrityError(f"the file of attachment {digest} does not match its digest")
        return data

    # --- reading -------------------------------------------------------------------------

    def _latest(self, session: Session, kind: Kind | None = None) -> list[RegisterRecordRow]:
        newest = select(
            RegisterRecordRow.kind, RegisterRecordRow.key, func.max(RegisterRecordRow.version)
        ).group_by(RegisterRecordRow.kind, RegisterRecordRow.key)
        if kind is not None:
            newest = newest.where(RegisterRecordRow.kind == kind.value)
        wanted = {(k, key, v) for k, key, v in session.execute(newest)}
        query = select(RegisterRecordRow).order_by(RegisterRecordRow.kind, RegisterRecordRow.key)
        if kind is not None:
            query = query.where(RegisterRecordRow.kind == kind.value)
        rows = session.execute(query).scalars()
        return [r for r in rows if (r.kind, r.key, r.version) in wanted]

    def records(self, session: Session, kind: Kind | None = None) -> list[StoredRecord]:
        """The current records (of `kind`), removed ones left out, by kind and key."""
        return [StoredRecord.of(r) for r in self._latest(session, kind) if not r.removed]

    def history(self, session: Session, kind: Kind, key: str) -> list[StoredRecord]:
        """Every version of one record, oldest first."""
        rows = session.execute(
            select(RegisterRecordRow)
            .where(RegisterRecordRow.kind == kind.value, RegisterRecordRow.key == key)
            .order_by(RegisterRecordRow.version)
        ).scalars()
        found = [StoredRecord.of(r) for r in rows]
        if not found:
            raise NotFound(f"no {kind.value} record {key!r}")
        return found

    def version_of(self, session: Session, kind: Kind, key: str) -> tuple[int, bool]:
        """(the record's latest version, whether that version removed it); (0, True) if
        it was never recorded."""
        row = session.execute(
            select(RegisterRecordRow)
            .where(RegisterRecordRow.kind == kind.value, RegisterRecordRow.key == key)
            .order_by(RegisterRecordRow.version.desc())
            .limit(1)
        ).scalar_one_or_none()
        return (0, True) if row is None else (row.version, row.removed)

    # --- changes ------------------------------------------------------------------------

    def check(self, session: Session, changes: tuple[Change, ...]) -> list[int]:
        """Refuse a batch that cannot apply now; the version each change will write."""
        out: list[int] = []
        for i, change in enumerate(changes):
            where = f"changes[{i}]"
            version, removed = self.version_of(session, change.kind, change.key)
            if change.op == Op.REMOVE and removed:
                raise InputError(
                    f"{where}.key", f"no current {change.kind.value} record {change.key!r}"
                )
            digests = () if change.record is None else change.record.attachments
            for j, digest in enumerate(digests):
                if session.get(RegisterAttachmentRow, digest) is None:
                    raise InputError(
                        f"{where}.record.attachments[{j}]",
                        f"no attachment {digest} is stored: upload the file first "
                        "(kinko register attach FILE)",
                    )
            out.append(version + 1)
        return out

    def subjects(self, session: Session, changes: tuple[Change, ...]) -> list[str]:
        """The Kinko users (ids) the records name by username or id: they approve none."""
        named: set[str] = set()
        for change in changes:
            if change.record is not None:
                named |= people_in(change.record)
        if not named:
            return []
        rows = session.execute(
            select(UserRow.id).where(UserRow.username.in_(named) | UserRow.id.in_(named))
        ).scalars()
        return sorted(set(rows))

    def apply(
        self,
        session: Session,
        changes: tuple[Change, ...],
        expected: list[int] | None,
        *,
        proposal_id: str,
        proposer: str,
        approver: str,
    ) -> list[StoredRecord]:
        """Write the changes of an approved proposal (each record's next version)."""
        versions = self.check(session, changes)
        if expected is not None and versions != expected:
            changed = next(c for c, v, e in zip(changes, versions, expected, strict=True) if v != e)
            raise Conflict(
                f"the {changed.kind.value} record {changed.key!r} changed since this was "
                "proposed; refuse this proposal and propose the change again",
                code="register_changed",
            )
        now = self.ctx.clock.now()
        out: list[StoredRecord] = []
        for change, version in zip(changes, versions, strict=True):
            document = None if change.record is None else record_json(change.record)
            digest = None if change.record is None else record_digest(change.record)
            entry = self.ctx.audit.append(
                session,
                actor=approver,
                action=CHANGE_ACTION,
                subject=audit_subject(change),
                details={
                    "op": change.op.value,
                    "kind": change.kind.value,
                    "key": change.key,
                    "version": version,
                    "digest": digest,
                    "attachments": list(document["attachments"]) if document else [],
                    "proposal": proposal_id,
                    "proposer": proposer,
                },
            )
            row = RegisterRecordRow(
                id=new_id("reg"),
                kind=change.kind.value,
                key=change.key,
                version=version,
                removed=change.op == Op.REMOVE,
                document=document,
                digest=digest,
                proposal_id=proposal_id,
                proposed_by=proposer,
                approved_by=approver,
                recorded_at=now,
                audit_seq=entry.seq,
            )
            session.add(row)
            out.append(StoredRecord.of(row))
        session.flush()
        return out


def audit_subject(change: Change) -> str:
    """The audit entry's subject: ``register:KIND/KEY``, or for a key too long for the
    column ``register:KIND/sha256:HEX`` (the details hold the key whole)."""
    subject = f"register:{change.kind.value}/{change.key}"
    if len(subject) <= 200:
        return subject
    return f"register:{change.kind.value}/sha256:{hashlib.sha256(change.key.encode()).hexdigest()}"


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()
