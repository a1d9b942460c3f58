"""A customer's proof document (pure; standard library only): the format of docs/reserves.md.

One JSON object per account: its key, per asset its leaf (value, index) and path (each
sibling's hash and sum, and the parent's sum), the snapshot's roots, and the audit-log
entry recording those roots with its inclusion proof into a signed checkpoint. Amounts are
decimal strings of base units (they exceed JSON's safe integers), hashes lower-case hex.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from kinko.reserves import binary
from kinko.reserves.ownership import Control
from kinko.reserves.roots import Roots
from kinko.reserves.snapshot import Leaf, Trees
from kinko.reserves.tree import Path
from kinko.reserves.verify import AUDIT_ACTION, FORMAT

_dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode

__all__ = [
    "AUDIT_ACTION",
    "FORMAT",
    "AuditInclusion",
    "Envelope",
    "account_paths",
    "document",
    "steps_json",
]


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
        "path": steps_json(path),
    }


def steps_json(path: Path) -> list[dict[str, str]]:
    return [{"hash": h.hex(), "sum": str(s), "parent": str(p)} for h, s, p in path.steps()]


@dataclass(frozen=True, slots=True)
class Envelope:
    """What every proof of one snapshot shares (its roots, its audit entry), encoded once:
    a proof is then the account's part between the two halves."""

    head: str
    tail: str
    binary_head: bytes
    binary_tail: bytes
    positions: Mapping[str, int]
    """Each asset's position in the roots (a binary leaf names its asset by it)."""

    @classmethod
    def of(
        cls,
        snapshot_id: str,
        roots: Roots,
        audit: AuditInclusion,
        controls: Sequence[Control] = (),
    ) -> Envelope:
        snapshot = _dumps({"id": snapshot_id, "roots": roots.to_json()})
        proven = _dumps([c.to_json() for c in controls])
        head = f'{{"format":{_dumps(FORMAT)},"snapshot":{snapshot},"controls":{proven},'
        tail = f',"audit":{_dumps(audit.to_json())}}}'
        assets = b"".join(
            binary.lp(a.asset) + bytes([a.height]) + a.root + a.total.to_bytes(16, "big")
            for a in roots.assets
        )
        proofs = b"".join(binary.control(c) for c in controls)
        binary_head = (
            binary.MAGIC
            + binary.lp(snapshot_id)
            + roots.nonce
            + len(roots.assets).to_bytes(2, "big")
            + assets
            + len(controls).to_bytes(2, "big")
            + proofs
        )
        binary_tail = (
            len(audit.entry).to_bytes(4, "big")
            + audit.entry
            + audit.index.to_bytes(8, "big")
            + bytes([len(audit.hashes)])
            + b"".join(audit.hashes)
            + binary.lp(audit.checkpoint)
        )
        positions = {a.asset: i for i, a in enumerate(roots.assets)}
        return cls(head, tail, binary_head, binary_tail, positions)

    def encode(self, account: str, key: bytes, paths: Sequence[Path]) -> bytes:
        """The proof document, as UTF-8 JSON (docs/reserves.md)."""
        middle = f'"account":{_dumps(account)},"key":"{key.hex()}","leaves":'
        leaves = "[" + ",".join(_leaf_text(p) for p in paths) + "]"
        return (self.head + middle + leaves + self.tail).encode()

    def encode_binary(self, account: str, key: bytes, leaves: Sequence[Leaf]) -> bytes:
        """The compact binary proof (`kinko.reserves.binary`) of the account's leaves
        (`Trees.leaves`: asset, value, index, siblings as the tree keeps them)."""
        positions = self.positions
        return b"".join(
            [
                self.binary_head,
                binary.lp(account),
                key,
                len(leaves).to_bytes(2, "big"),
                *(binary.leaf(positions[a], v, i, s) for a, v, i, s in leaves),
                self.binary_tail,
            ]
        )


def _leaf_text(path: Path) -> str:
    """`path_json` written straight as JSON text (the same value; several times faster)."""
    steps = ",".join(
        f'{{"hash":"{h.hex()}","sum":"{s}","parent":"{p}"}}' for h, s, p in path.steps()
    )
    asset = _dumps(path.asset)
    return f'{{"asset":{asset},"value":"{path.value}","index":{path.index},"path":[{steps}]}}'


def document(
    snapshot_id: str,
    *,
    roots: Roots,
    account: str,
    key: bytes,
    paths: Sequence[Path],
    audit: AuditInclusion,
    controls: Sequence[Control] = (),
) -> dict[str, object]:
    """The proof document as a JSON value (tests and callers that edit it)."""
    encoded = Envelope.of(snapshot_id, roots, audit, controls).encode(account, key, paths)
    value: dict[str, object] = json.loads(encoded)
    return value


def account_paths(trees: Trees, account: str, held: Mapping[str, int]) -> list[Path]:
    """The account's path for each asset it holds (asset -> base units), by asset."""
    return trees.paths(account, held)
