"""A small snapshot and an in-memory audit log that records its roots, for the tests."""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from kinko.audit.checkpoint import Checkpoint, sign_checkpoint
from kinko.audit.entry import encode_entry
from kinko.audit.memtree import MemoryTree
from kinko.audit.note import Signer, generate_signer
from kinko.reserves import proof
from kinko.reserves.ownership import Control
from kinko.reserves.roots import Roots
from kinko.reserves.snapshot import Holdings, Trees, build

SECRET = bytes(range(32))
NONCE = bytes(range(100, 116))
ORIGIN = "example.com/kinko-audit"
ROWS = [
    ("alice", "bitcoin:BTC", 150_000_000),
    ("alice", "ethereum:ETH", 2 * 10**18),
    ("bob", "bitcoin:BTC", 150_000_000),  # the same balance as alice's
    ("carol", "bitcoin:BTC", 7),
    ("dave", "ethereum:USDC", 5_000_000),
    ("erin", "bitcoin:BTC", 0),  # dropped: the trees are sparse
]


@dataclass(frozen=True)
class Sample:
    trees: Trees
    roots: Roots
    vkey: str
    audit: proof.AuditInclusion

    def document(self, account: str, controls: Sequence[Control] = ()) -> dict[str, Any]:
        return copy.deepcopy(
            proof.document(
                "snap-1",
                roots=self.roots,
                account=account,
                key=self.trees.keys[account],
                paths=proof.account_paths(self.trees, account, held(account)),
                audit=self.audit,
                controls=controls,
            )
        )


def held(account: str) -> dict[str, int]:
    return {asset: units for a, asset, units in ROWS if a == account and units}


def log_roots(
    roots: Roots, snapshot_id: str = "snap-1", *, digest: str | None = None
) -> tuple[str, proof.AuditInclusion]:
    """An audit log of three entries, the middle one recording the roots; signed."""
    skey, vkey = generate_signer(ORIGIN)
    tree = MemoryTree()
    details = {"nonce": roots.nonce.hex(), "roots": digest or roots.digest().hex()}
    entries = [
        encode_entry(0, "2026-01-01T00:00:00Z", actor="a", action="x.y", subject="s", details={}),
        encode_entry(
            1,
            "2026-01-01T00:00:01Z",
            actor="kinko",
            action=proof.AUDIT_ACTION,
            subject=snapshot_id,
            details=details,
        ),
        encode_entry(2, "2026-01-01T00:00:02Z", actor="a", action="x.y", subject="s", details={}),
    ]
    tree.extend(entries)
    note = sign_checkpoint(Checkpoint(ORIGIN, 3, tree.root()), Signer.parse(skey))
    return vkey, proof.AuditInclusion(entries[1], 1, tuple(tree.inclusion_proof(1, 3)), note)


def sample(floor: int = 1) -> Sample:
    trees = build(Holdings.parse(ROWS), SECRET, NONCE, floor=floor)
    roots = trees.roots()
    vkey, audit = log_roots(roots)
    return Sample(trees, roots, vkey, audit)
