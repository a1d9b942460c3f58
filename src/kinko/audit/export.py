"""Export the database log as a C2SP tlog-tiles directory for one signed checkpoint."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from sqlalchemy import select

from kinko.audit import merkle
from kinko.audit.checkpoint import Checkpoint, parse_body
from kinko.audit.keep import apply_archive, plan_keep
from kinko.audit.note import parse_note
from kinko.audit.tiles import TILE_WIDTH, TileWriter
from kinko.core.errors import IntegrityError
from kinko.store.db import Database
from kinko.store.tables.audit import AuditEntryRow

EXPORT_BATCH = 64 * TILE_WIDTH
"""Entries read per short transaction: an export never holds the writer lock for long."""


def export_tiles(db: Database, note: str, directory: Path) -> Checkpoint:
    """Write bundles and tiles for the checkpoint `note`, then the checkpoint itself.

    Entries below the checkpoint's size never change, so they are read in many short
    transactions (on SQLite every transaction takes the writer lock; appends keep going
    between batches). Each entry is re-hashed and compared with its stored leaf hash, and
    the recomputed root with the checkpoint's: a corrupted store is refused, never
    exported.

    Witness cosignatures already in the directory are kept, never dropped (on the same
    checkpoint, or the earlier checkpoint kept under ``cosigned/``); a directory that would
    lose them otherwise is refused before anything is written (`kinko.audit.keep`).
    """
    checkpoint = parse_body(parse_note(note).text)
    keep = plan_keep(directory, note)
    directory.mkdir(parents=True, exist_ok=True)

    def chunks() -> Iterator[list[bytes]]:
        for start in range(0, checkpoint.size, EXPORT_BATCH):
            end = min(start + EXPORT_BATCH, checkpoint.size)
            with db.transaction() as session:
                rows = session.execute(
                    select(AuditEntryRow.seq, AuditEntryRow.entry, AuditEntryRow.leaf_hash)
                    .where(AuditEntryRow.seq >= start, AuditEntryRow.seq < end)
                    .order_by(AuditEntryRow.seq)
                ).all()
            if len(rows) != end - start:
                raise IntegrityError(f"audit entries {start}..{end - 1} are missing from the store")
            batch = []
            for expected, (seq, entry, stored) in enumerate(rows, start):
                if seq != expected:
                    raise IntegrityError(f"audit entry {expected} is missing from the store")
                if merkle.leaf_hash(bytes(entry)) != bytes(stored):
                    raise IntegrityError(f"audit entry {seq} does not match its stored hash")
                batch.append(bytes(entry))
            for offset in range(0, len(batch), TILE_WIDTH):
                yield batch[offset : offset + TILE_WIDTH]

    writer = TileWriter(directory)
    root = writer.write_tiles(checkpoint.size, chunks())
    if root != checkpoint.root_hash:
        raise IntegrityError("the stored entries do not hash to the checkpoint's root")
    apply_archive(keep)
    writer.write_checkpoint(keep.note)
    return checkpoint
