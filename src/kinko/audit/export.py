"""Export the database log as a C2SP tlog-tiles directory for one signed checkpoint."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from kinko.audit import merkle
from kinko.audit.checkpoint import Checkpoint, parse_body
from kinko.audit.note import parse_note
from kinko.audit.tiles import TILE_WIDTH, TileWriter
from kinko.core.errors import IntegrityError
from kinko.store.tables.audit import AuditEntryRow


def export_tiles(session: Session, note: str, directory: Path) -> Checkpoint:
    """Write bundles and tiles for the checkpoint `note`, then the checkpoint itself.

    Each entry is re-hashed and compared with its stored leaf hash, and the recomputed
    root with the checkpoint's: a corrupted store is refused, never exported.
    """
    checkpoint = parse_body(parse_note(note).text)
    directory.mkdir(parents=True, exist_ok=True)
    stmt = (
        select(AuditEntryRow.seq, AuditEntryRow.entry, AuditEntryRow.leaf_hash)
        .where(AuditEntryRow.seq < checkpoint.size)
        .order_by(AuditEntryRow.seq)
    )
    result = session.execute(stmt, execution_options={"yield_per": 4 * TILE_WIDTH})

    def chunks() -> Iterator[list[bytes]]:
        expected = 0
        for part in result.partitions(TILE_WIDTH):
            entries = []
            for seq, entry, stored in part:
                if seq != expected:
                    raise IntegrityError(f"audit entry {expected} is missing from the store")
                if merkle.leaf_hash(bytes(entry)) != bytes(stored):
                    raise IntegrityError(f"audit entry {seq} does not match its stored hash")
                entries.append(bytes(entry))
                expected += 1
            yield entries

    writer = TileWriter(directory)
    root = writer.write_tiles(checkpoint.size, chunks())
    if root != checkpoint.root_hash:
        raise IntegrityError("the stored entries do not hash to the checkpoint's root")
    writer.write_checkpoint(note)
    return checkpoint
