"""A customer's proof document (pure; standard library only): the format of docs/reserves.md.

One JSON object per account: its key, per asset its leaf (value, index) and path (each
sibling's hash and sum, and the parent's sum), the snapshot's roots, and the audit-log
entry recording those roots with its inclusion proof into a signed checkpoint. Amounts are
decimal strings of base units (they exceed JSON's safe integers), hashes lower-case hex.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from dataclasses import dataclass

from kinko.reserves.roots import Roots
from kinko.reserves.snapshot import Trees
from kinko.reserves.tree import Path
from kinko.reserves.verify import AUDIT_ACTION, FORMAT

__all__ = ["AUDIT_ACTION", "FORMAT", "AuditInclusion", "account_paths", "document"]


@dataclass(frozen=True, slots=True)
class AuditInclusion:
    """The audit entry that records a snapshot's roots, proven into a signed checkpoint."""

    entry: bytes
    index: int
    hashes: tuple[bytes, ...]
    checkpoint: str

    def to_json(self) -> dict[str, object]:
        return {
            "entry": base64.b64encode(self.entry).decode(),
            "index": self.index,
            "hashes": [h.hex() for h in self.hashes],
            "checkpoint": self.checkpoint,
        }


def path_json(path: Path) -> dict[str, object]:
    return {
        "asset": path.asset,
        "value": str(path.value),
        "index": path.index,
        "path": [
            {"hash": s.sibling.hex(), "sum": str(s.sibling_sum), "parent": str(s.parent_sum)}
            for s in path.steps
        ],
    }


def document(
    snapshot_id: str,
    *,
    roots: Roots,
    account: str,
    key: bytes,
    paths: Sequence[Path],
    audit: AuditInclusion,
) -> dict[str, object]:
    return {
        "format": FORMAT,
        "snapshot": {"id": snapshot_id, "roots": roots.to_json()},
        "account": account,
        "key": key.hex(),
        "leaves": [path_json(p) for p in paths],
        "audit": audit.to_json(),
    }


def account_paths(trees: Trees, account: str) -> list[Path]:
    """The account's path in each tree that has a leaf of it, by asset."""
    return [t.path(account) for _, t in sorted(trees.trees.items()) if account in t.positions]
