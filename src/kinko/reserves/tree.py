"""Building one asset's Merkle-sum tree and reading a leaf's path out of it (pure).

Sparse per asset: an asset's tree has a leaf for each account that holds it, not one per
account of the exchange, so the work grows with holdings, not accounts x assets. The leaf
count is padded with zero-sum leaves up to a power of two (at least ``floor``), so the
tree shows only the power of two above the number of holders (DAPOL+'s padding, CCS 2021
§4; BitMEX pads its published tree the same way); hashing rules in `kinko.reserves.sumtree`.

Every node, leaves included, is kept as its hash followed by its sum in 16 bytes: exactly
what its parent hashes. Sorting the leaves' bytes orders the leaves by hash.
"""

from __future__ import annotations

import hashlib
from bisect import bisect_left
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from itertools import islice
from operator import eq
from typing import TYPE_CHECKING

from kinko.core.errors import IntegrityError
from kinko.reserves import sumtree
from kinko.reserves.sumtree import HASH_SIZE, MAX_SUM, NODE_TAG, PADDING_TAG, SUM_BYTES

if TYPE_CHECKING:
    from _hashlib import HASH as Hasher

_sha256 = hashlib.sha256
_from_bytes = int.from_bytes


@dataclass(frozen=True, slots=True)
class Path:
    """A leaf and, level by level from the leaf up, its sibling node as the tree keeps it
    (hash, then the 16-byte sum) and its parent's sum (two sequences of ``height`` items)."""

    asset: str
    index: int
    leaf: bytes
    value: int
    siblings: Sequence[bytes]
    parent_sums: Sequence[int]

    def steps(self) -> Iterator[tuple[bytes, int, int]]:
        """(sibling's hash, sibling's sum, parent's sum) from the leaf up; the tree made
        every parent's sum as its children's, so the sibling's is the parent's less ours."""
        running = self.value
        for node, parent in zip(self.siblings, self.parent_sums, strict=True):
            yield node[:HASH_SIZE], parent - running, parent
            running = parent


@dataclass(frozen=True, slots=True)
class AssetTree:
    """Every level's nodes and sums, leaves first; the root is the last level's one node."""

    asset: str
    height: int
    nodes: tuple[list[bytes], ...]
    sums: tuple[list[int], ...]

    @property
    def root(self) -> bytes:
        return self.nodes[-1][0][:HASH_SIZE]

    @property
    def total(self) -> int:
        return self.sums[-1][0]

    def index_of(self, leaf: bytes) -> int | None:
        """The index of the leaf with this hash, if any (binary search: leaves are sorted)."""
        leaves = self.nodes[0]
        i = bisect_left(leaves, leaf)
        if i < len(leaves) and leaves[i][:HASH_SIZE] == leaf:
            return i
        return None

    def siblings_at(self, index: int) -> list[bytes]:
        """The leaf's sibling at each level, from the leaf up, as the tree keeps it (hash,
        then the 16-byte sum): a binary proof's path, with no integer made."""
        nodes = self.nodes
        return [nodes[h][(index >> h) ^ 1] for h in range(self.height)]

    def path_at(self, index: int) -> Path:
        levels = range(self.height)
        nodes, sums = self.nodes, self.sums
        return Path(
            self.asset,
            index,
            nodes[0][index][:HASH_SIZE],
            sums[0][index],
            [nodes[h][(index >> h) ^ 1] for h in levels],
            [sums[h + 1][index >> (h + 1)] for h in levels],
        )


def leaf(hash_: bytes, value: int) -> bytes:
    """A leaf as the tree keeps it; IntegrityError for a value outside ``[0, 2**128)``."""
    return sumtree.check_hash(hash_, "leaf hash") + sumtree.sum_bytes(value, "leaf sum")


def build(asset: str, leaves: list[bytes], *, pad_key: bytes, floor: int = 1) -> AssetTree:
    """The tree of the accounts' ``leaves`` (see `leaf`), padded and ordered; the list is
    extended and sorted in place and becomes the tree's first level.

    Refuses a total that overflows 128 bits and two identical leaves (each account must
    have its own).
    """
    n = len(leaves)
    height = sumtree.padded_height(n, floor)
    size = 1 << height
    zero = bytes(SUM_BYTES)
    pad = _sha256(PADDING_TAG + pad_key).copy
    leaves.extend(digest_of(pad(), i.to_bytes(8, "big")) + zero for i in range(size - n))
    leaves.sort()
    if set(map(len, leaves)) != {HASH_SIZE + SUM_BYTES}:
        raise IntegrityError(f"{asset}: a leaf is not a 32-byte hash and a 16-byte sum")
    # Sorted, so equal leaves are neighbours: one pass of byte comparisons finds them.
    if any(map(eq, leaves, islice(leaves, 1, None))):
        raise IntegrityError(f"{asset}: two leaves are the same (duplicated account)")
    sums = [_from_bytes(e[HASH_SIZE:], "big") for e in leaves]
    total = sum(sums)
    if total > MAX_SUM:
        raise IntegrityError(f"{asset}: the total {total} overflows 128 bits")
    level = leaves
    nodes, all_sums = [level], [sums]
    while len(level) > 1:
        level, sums = _up(level, sums)
        nodes.append(level)
        all_sums.append(sums)
    return AssetTree(asset, height, tuple(nodes), tuple(all_sums))


def digest_of(hasher: Hasher, data: bytes) -> bytes:
    """``hasher`` (a copy of a hasher fed a fixed prefix) after ``data``."""
    hasher.update(data)
    return hasher.digest()


def _up(nodes: list[bytes], sums: list[int]) -> tuple[list[bytes], list[int]]:
    """The level above: each node hashes both children's hashes and sums, i.e. both
    children's stored bytes (no overflow: the caller checked the total, and no node's sum
    exceeds it). A copy of the tagged hasher saves hashing the tag and a concatenation."""
    out_n: list[bytes] = []
    out_s: list[int] = []
    add_n, add_s = out_n.append, out_s.append
    node = _sha256(NODE_TAG).copy
    for left, left_sum, right, right_sum in zip(
        nodes[0::2], sums[0::2], nodes[1::2], sums[1::2], strict=True
    ):
        total = left_sum + right_sum
        hasher = node()
        hasher.update(left)
        hasher.update(right)
        add_n(hasher.digest() + total.to_bytes(SUM_BYTES, "big"))
        add_s(total)
    return out_n, out_s
