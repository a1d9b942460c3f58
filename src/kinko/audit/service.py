"""The audit log on the database: appends inside the caller's transaction (fail closed),
proofs from stored subtree hashes, and signed checkpoints.

Every append locks the single `audit_head` row (FOR UPDATE on PostgreSQL; SQLite
serialises writers at BEGIN IMMEDIATE), extends the compact range stored in it, and
inserts the entry plus every full subtree of 32 leaves or more that the append completes
into `audit_nodes`, all in the caller's transaction: if any of it cannot be written, the
caller's change rolls back.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, cast

from sqlalchemy import Table, bindparam, select, update
from sqlalchemy.orm import Session

from kinko.audit import merkle
from kinko.audit.checkpoint import Checkpoint, parse_body, sign_checkpoint
from kinko.audit.entry import encode_entry
from kinko.audit.merkle import NodeId
from kinko.audit.note import Signer, parse_note
from kinko.audit.tiles import MAX_ENTRY_BYTES
from kinko.config import Settings
from kinko.core.clock import Clock, isoformat
from kinko.core.errors import ConfigError, InputError, IntegrityError, NotFound, Unavailable
from kinko.core.secretfile import read_private
from kinko.store.db import Database
from kinko.store.dialect import insert_for, locks_rows
from kinko.store.tables.audit import AuditCheckpointRow, AuditEntryRow, AuditHead, AuditNodeRow
from kinko.store.work import LockStep, UnitOfWork

leaf_hash = merkle.leaf_hash
MIN_STORED_HEIGHT = 5
"""Subtrees of 32 leaves and up are stored (one row per 16 entries, amortised); lower
nodes are rehashed from at most 32 consecutive leaf hashes when a proof needs them."""
ENTRIES = cast(Table, AuditEntryRow.__table__)
NODES = cast(Table, AuditNodeRow.__table__)
LEAVES_BY_SEQ = select(AuditEntryRow.seq, AuditEntryRow.leaf_hash).where(
    AuditEntryRow.seq.in_(bindparam("seqs", expanding=True))
)
NODES_BY_ID = select(AuditNodeRow.id, AuditNodeRow.hash).where(
    AuditNodeRow.id.in_(bindparam("ids", expanding=True))
)
HEAD_SIZE = select(AuditHead.size).where(AuditHead.id == 1)
HEAD_LOCK = select(AuditHead.id).where(AuditHead.id == 1).with_for_update()
HEAD_FOR_UPDATE = select(AuditHead.size, AuditHead.edge).where(AuditHead.id == 1).with_for_update()
HEAD_UPDATE = (
    update(cast(Table, AuditHead.__table__))
    .where(AuditHead.id == 1)
    .values(size=bindparam("new_size"), edge=bindparam("new_edge"))
)
FIELD_LIMITS = {"actor": 200, "action": 100, "subject": 200}


@dataclass(frozen=True, slots=True)
class AuditRecord:
    seq: int
    time: datetime
    entry: bytes
    leaf_hash: bytes


@dataclass(frozen=True, slots=True)
class AuditItem:
    """One entry for `append_many`."""

    actor: str
    action: str
    subject: str
    details: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class _Deferred:
    item: AuditItem
    on_record: Callable[[AuditRecord], None] | None


def queue_deferred(
    session: Session, item: AuditItem, on_record: Callable[[AuditRecord], None] | None = None
) -> bool:
    """Queue `item` on a session opened with `AuditLog.begin_deferred`; False if it was not."""
    return UnitOfWork.of(session).queue_audit(_Deferred(item, on_record))


class AuditLog:
    def __init__(self, *, settings: Settings, clock: Clock) -> None:
        self.settings = settings
        self.clock = clock
        self._signer: Signer | None = None

    # -- appending ---------------------------------------------------------------------

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
        item = AuditItem(actor=actor, action=action, subject=subject, details=details or {})
        return self.append_many(session, [item])[0]

    def append_many(self, session: Session, items: Sequence[AuditItem]) -> list[AuditRecord]:
        """Append several entries under one head lock (group commit); all or none."""
        if not items:
            return []
        size, edge = self._lock_head(session)
        now = self.clock.now()
        stamp = isoformat(now)
        entry_rows: list[dict[str, Any]] = []
        node_rows: list[dict[str, Any]] = []
        created: list[tuple[int, int, bytes]] = []
        records = []
        for offset, item in enumerate(items):
            seq = size + offset
            entry = _encode(item, seq, stamp)
            digest = merkle.leaf_hash(entry)
            created.clear()
            merkle.append_to_edge(edge, seq, digest, created)
            node_rows.extend(
                {"id": merkle.inorder_index(h, i), "hash": v}
                for h, i, v in created
                if h >= MIN_STORED_HEIGHT
            )
            entry_rows.append(
                {
                    "seq": seq,
                    "time": now,
                    "actor": item.actor,
                    "action": item.action,
                    "subject": item.subject,
                    "entry": entry,
                    "leaf_hash": digest,
                }
            )
            records.append(AuditRecord(seq=seq, time=now, entry=entry, leaf_hash=digest))
        # Core executemany: about twice as fast as ORM bulk inserts for these rows.
        connection = session.connection()
        connection.execute(ENTRIES.insert(), entry_rows)
        if node_rows:
            connection.execute(NODES.insert(), node_rows)
        connection.execute(HEAD_UPDATE, {"new_size": size + len(items), "new_edge": b"".join(edge)})
        return records

    # -- deferring to the end of a unit of work ------------------------------------------

    @staticmethod
    def begin_deferred(session: Session) -> None:
        """From now on `defer` queues this session's entries until `flush_deferred`."""
        UnitOfWork.of(session).defer_audit()

    def defer(
        self,
        session: Session,
        item: AuditItem,
        on_record: Callable[[AuditRecord], None] | None = None,
    ) -> None:
        """Queue `item` for `flush_deferred` (one head lock for the whole transaction), or
        append it at once when the session was not opened with `begin_deferred`."""
        if queue_deferred(session, item, on_record):
            return
        record = self.append_many(session, [item])[0]
        if on_record is not None:
            on_record(record)

    def flush_deferred(self, session: Session) -> None:
        """Append the queued entries in this transaction, before it commits."""
        pending: list[_Deferred] = UnitOfWork.of(session).take_audit()
        if not pending:
            return
        records = self.append_many(session, [p.item for p in pending])
        for deferred, record in zip(pending, records, strict=True):
            if deferred.on_record is not None:
                deferred.on_record(record)

    def hold_head(self, session: Session) -> None:
        """Take the audit head's lock now, before anything else this transaction locks.

        The lock order, everywhere: the audit head, then velocity counters (sorted). Every
        transaction that appends holds the head until it ends, so one that locks other rows
        first and appends later could deadlock against an appender; such a transaction
        calls this first. Where the transaction already holds the database's single write
        lock (SQLite), there is nothing to take.
        """
        UnitOfWork.of(session).took(LockStep.AUDIT_HEAD)
        connection = session.connection()
        if locks_rows(connection):
            connection.execute(HEAD_LOCK)

    def _lock_head(self, session: Session) -> tuple[int, list[bytes]]:
        UnitOfWork.of(session).took(LockStep.AUDIT_HEAD)
        # Core on the session's connection (same transaction), without ORM overhead.
        connection = session.connection()
        row = connection.execute(HEAD_FOR_UPDATE).one_or_none()
        if row is None:
            connection.execute(
                insert_for(connection, AuditHead)
                .values(id=1, size=0, edge=b"")
                .on_conflict_do_nothing()
            )
            row = connection.execute(HEAD_FOR_UPDATE).one()
        size, raw = int(row[0]), bytes(row[1])
        edge = [raw[i : i + merkle.HASH_SIZE] for i in range(0, len(raw), merkle.HASH_SIZE)]
        if len(edge) != size.bit_count():
            raise IntegrityError(f"audit_head is corrupt: {len(edge)} edge hashes for size {size}")
        return size, edge

    # -- reading and proofs ------------------------------------------------------------

    def size(self, session: Session) -> int:
        value = session.connection().execute(HEAD_SIZE).scalar()
        return int(value or 0)

    def entry(self, session: Session, seq: int) -> AuditRecord:
        row = session.get(AuditEntryRow, seq)
        if row is None:
            raise NotFound(f"audit entry {seq} does not exist")
        return AuditRecord(seq=row.seq, time=row.time, entry=row.entry, leaf_hash=row.leaf_hash)

    def lookup(self, session: Session, needed: set[NodeId]) -> dict[NodeId, bytes]:
        """Full-subtree hashes: stored ones from `audit_nodes`, low ones from leaf hashes."""
        found: dict[NodeId, bytes] = {}
        low = [(h, i) for h, i in needed if h < MIN_STORED_HEIGHT]
        inner = [(h, i) for h, i in needed if h >= MIN_STORED_HEIGHT]
        if low:
            seqs = {seq for h, i in low for seq in range(i << h, (i + 1) << h)}
            leaf_rows = session.connection().execute(LEAVES_BY_SEQ, {"seqs": sorted(seqs)})
            leaves = {int(seq): bytes(h) for seq, h in leaf_rows}
            if len(leaves) != len(seqs):
                missing_seqs = sorted(seqs - leaves.keys())[:3]
                raise IntegrityError(f"audit store is missing entries {missing_seqs}")
            for h, i in low:
                start = i << h
                found[(h, i)] = merkle.root_of([leaves[s] for s in range(start, start + (1 << h))])
        if inner:
            by_id = {merkle.inorder_index(h, i): (h, i) for h, i in inner}
            params = {"ids": sorted(by_id)}
            for node_id, value in session.connection().execute(NODES_BY_ID, params):
                found[by_id[int(node_id)]] = bytes(value)
        missing = needed - found.keys()
        if missing:
            raise IntegrityError(f"audit store is missing subtree hashes {sorted(missing)[:3]}")
        return found

    def _check_size(self, session: Session, size: int, name: str = "size") -> None:
        current = self.size(session)
        if not 0 <= size <= current:
            raise InputError(name, f"{size} is outside the log's sizes 0..{current}")

    def root(self, session: Session, size: int | None = None) -> bytes:
        size = self.size(session) if size is None else size
        self._check_size(session, size)
        if size == 0:
            return merkle.EMPTY_ROOT
        nodes = merkle.range_nodes(0, size)
        found = self.lookup(session, set(nodes))
        return merkle.fold_right([found[n] for n in nodes])

    def inclusion_proof(self, session: Session, index: int, size: int) -> list[bytes]:
        """RFC 6962 audit path for entry `index` in the tree of `size` entries."""
        self._check_size(session, size)
        if not 0 <= index < size:
            raise InputError("index", f"{index} is not below the tree size {size}")
        ranges = merkle.inclusion_ranges(index, size)
        return merkle.build_proof(ranges, lambda needed: self.lookup(session, needed))

    def consistency_proof(self, session: Session, first: int, second: int) -> list[bytes]:
        """RFC 6962 consistency proof from the tree of `first` entries to `second`."""
        self._check_size(session, second, "second")
        if not 0 <= first <= second:
            raise InputError("first", f"{first} must be between 0 and {second}")
        ranges = merkle.consistency_ranges(first, second)
        return merkle.build_proof(ranges, lambda needed: self.lookup(session, needed))

    # -- checkpoints -------------------------------------------------------------------

    def signer(self) -> Signer:
        if self._signer is None:
            path = self.settings.resolved_audit_key_path
            if not path.exists():
                raise Unavailable(f"audit-log signing key {path} is missing: run 'kinko init'")
            try:
                text = read_private(path, field="audit_key_path").decode("utf-8")
            except UnicodeDecodeError:
                raise ConfigError("audit_key_path", f"{path} is not a signing key") from None
            signer = Signer.parse(text)
            if signer.name != self.settings.audit_origin:
                raise ConfigError(
                    "audit_origin",
                    f"is {self.settings.audit_origin!r} but the signing key is for "
                    f"{signer.name!r}; they must match",
                )
            self._signer = signer
        return self._signer

    def checkpoint(self, session: Session) -> str:
        """Sign and store a checkpoint of the current tree, or return the latest one if
        the log has not grown. Before signing, the new tree is proven consistent with
        the previous checkpoint, so the log never signs two inconsistent checkpoints."""
        size, edge = self._lock_head(session)
        root = merkle.fold_right(edge) if edge else merkle.EMPTY_ROOT
        if self.root(session, size) != root:
            raise IntegrityError(
                f"stored subtree hashes disagree with the head at size {size}: refusing to sign"
            )
        latest = self._latest_row(session)
        if latest is not None:
            if latest.size > size:
                raise IntegrityError(
                    f"latest checkpoint has size {latest.size} but the log has {size} entries"
                )
            if latest.size == size:
                if latest.root_hash != root:
                    raise IntegrityError(f"stored tree differs from checkpoint at size {size}")
                return latest.note
            proof = self.consistency_proof(session, latest.size, size)
            merkle.verify_consistency(latest.size, size, proof, latest.root_hash, root)
        note = sign_checkpoint(Checkpoint(self.settings.audit_origin, size, root), self.signer())
        session.add(
            AuditCheckpointRow(size=size, root_hash=root, note=note, issued_at=self.clock.now())
        )
        session.flush()
        return note

    def _latest_row(self, session: Session) -> AuditCheckpointRow | None:
        stmt = select(AuditCheckpointRow).order_by(AuditCheckpointRow.size.desc()).limit(1)
        return session.execute(stmt).scalar_one_or_none()

    def latest_checkpoint(self, session: Session) -> str | None:
        row = self._latest_row(session)
        return None if row is None else row.note

    def latest_checkpoint_value(self, session: Session) -> Checkpoint | None:
        text = self.latest_checkpoint(session)
        return None if text is None else parse_body(parse_note(text).text)

    def export(self, db: Database, directory: Path) -> Checkpoint:
        """Write a C2SP tlog-tiles directory for the latest checkpoint (issued if needed)."""
        from kinko.audit.export import export_tiles

        with db.transaction() as session:
            note = self.checkpoint(session)
        return export_tiles(db, note, directory)


def _encode(item: AuditItem, seq: int, stamp: str) -> bytes:
    for name, limit in FIELD_LIMITS.items():
        value = getattr(item, name)
        if not isinstance(value, str) or not value or len(value) > limit:
            raise InputError(f"audit.{name}", f"must be a non-empty string of at most {limit}")
    if not isinstance(item.details, Mapping):
        raise InputError("audit.details", "must be a JSON object (a mapping)")
    entry = encode_entry(
        seq,
        stamp,
        actor=item.actor,
        action=item.action,
        subject=item.subject,
        details=dict(item.details),
    )
    if len(entry) > MAX_ENTRY_BYTES:
        raise InputError(
            "audit.details",
            f"entry is {len(entry)} bytes; the limit is {MAX_ENTRY_BYTES} (the tlog-tiles "
            "16-bit length prefix): store large data elsewhere and log its hash",
        )
    return entry
