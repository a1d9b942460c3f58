"""An in-memory RFC 9162 tree that keeps every full-subtree hash.

The same layout the database store uses (`audit_nodes`), held in Python lists: used by
the benchmarks, the exporter's tests and the witness, and as the reference the
database-backed proofs are checked against. Standard library only.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from kinko.audit import merkle
from kinko.audit.merkle import NodeId


class MemoryTree:
    """Append leaf hashes; ask for roots and proofs at any size up to the current one."""

    def __init__(self) -> None:
        # levels[h][i] is the hash of the full subtree of 2**h leaves starting at i * 2**h.
        self.levels: list[list[bytes]] = [[]]

    @property
    def size(self) -> int:
        return len(self.levels[0])

    def append_entry(self, entry: bytes) -> bytes:
        digest = merkle.leaf_hash(entry)
        self.append_leaf(digest)
        return digest

    def append_leaf(self, digest: bytes) -> None:
        levels = self.levels
        levels[0].append(digest)
        height = 0
        node_hash = merkle.node_hash
        while not len(levels[height]) & 1:
            below = levels[height]
            value = node_hash(below[-2], below[-1])
            height += 1
            if height == len(levels):
                levels.append([])
            levels[height].append(value)

    def extend(self, entries: Iterable[bytes]) -> None:
        for entry in entries:
            self.append_entry(entry)

    def lookup(self, needed: Iterable[NodeId]) -> Mapping[NodeId, bytes]:
        return {(h, i): self.levels[h][i] for h, i in needed}

    def root(self, size: int | None = None) -> bytes:
        size = self.size if size is None else size
        self._check_size(size)
        if size == 0:
            return merkle.EMPTY_ROOT
        return merkle.fold_right([self.levels[h][i] for h, i in merkle.range_nodes(0, size)])

    def inclusion_proof(self, index: int, size: int | None = None) -> list[bytes]:
        size = self.size if size is None else size
        self._check_size(size)
        return merkle.build_proof(merkle.inclusion_ranges(index, size), self.lookup)

    def consistency_proof(self, first: int, second: int | None = None) -> list[bytes]:
        second = self.size if second is None else second
        self._check_size(second)
        return merkle.build_proof(merkle.consistency_ranges(first, second), self.lookup)

    def _check_size(self, size: int) -> None:
        if not 0 <= size <= self.size:
            raise ValueError(f"size {size} is outside 0..{self.size}")
