"""Building one asset's Merkle-sum tree and reading a leaf's path out of it (pure).

Sparse per asset: an asset's tree has a leaf for each account that holds it, not one per
account of the exchange, so the work grows with holdings, not accounts x assets. The leaf
count is padded with zero-sum leaves up to a power of two (at least ``floor``), so the
tree shows only the power of two above the number of holders (DAPOL+'s padding, CCS 2021
§4; BitMEX pads its published tree the same way); hashing rules in `kinko.reserves.sumtree`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from kinko.core.errors import IntegrityError, NotFound

if TYPE_CHECKING:
    from _hashlib import HASH as Hasher
from kinko.reserves import sumtree
from kinko.reserves.sumtree import HASH_SIZE, LEAF_TAG, MAX_SUM, NODE_TAG, PADDING_TAG, SUM_BYTES

_sha256 = hashlib.sha256


@dataclass(frozen=True, slots=True)
class Path:
    """A leaf and, level by level from the leaf up, its sibling's hash and sum and its
    parent's sum (three sequences of ``height`` items)."""

    asset: str
    index: int
    commitment: bytes
    value: int
    siblings: Sequence[bytes]
    sibling_sums: Sequence[int]
    parent_sums: Sequence[int]


@dataclass(frozen=True, slots=True)
class AssetTree:
    """Every level's nodes and sums, leaves first; the root is the last level's one node.

    A node is stored as its hash followed by its sum in 16 bytes (the very bytes its parent
    hashes), so building a level concatenates two children and hashes them once."""

    asset: str
    height: int
    nodes: tuple[list[bytes], ...]
    sums: tuple[list[int], ...]
    commitments: list[bytes]
    positions: dict[str, int]
    """Account -> leaf index (padding has none)."""

    @property
    def root(self) -> bytes:
        return self.nodes[-1][0][:HASH_SIZE]

    @property
    def total(self) -> int:
        return self.sums[-1][0]

    def path(self, account: str) -> Path:
        index = self.positions.get(account)
        if index is None:
            raise NotFound(f"account {account!r} holds no {self.asset} in this snapshot")
        return self.path_at(index)

    def path_at(self, index: int) -> Path:
        levels = range(self.height)
        nodes, sums = self.nodes, self.sums
        return Path(
            self.asset,
            index,
            self.commitments[index],
            sums[0][index],
            [nodes[h][(index >> h) ^ 1][:HASH_SIZE] for h in levels],
            [sums[h][(index >> h) ^ 1] for h in levels],
            [sums[h + 1][index >> (h + 1)] for h in levels],
        )


def build(
    asset: str,
    commitments: Sequence[bytes],
    values: Sequence[int],
    accounts: Sequence[str],
    *,
    pad_key: bytes,
    floor: int = 1,
) -> AssetTree:
    """The tree of the accounts' leaves (same order in the three lists), padded, ordered.

    Refuses a sum outside ``[0, 2**128)``, a total that overflows 128 bits and two leaves
    with one commitment (each account must have its own leaf).
    """
    n = len(commitments)
    if not n == len(values) == len(accounts):
        raise IntegrityError(f"{asset}: one value and one account per commitment are needed")
    height = sumtree.padded_height(n, floor)
    size = 1 << height
    pad = _sha256(PADDING_TAG + pad_key).copy
    everything = [*commitments, *(digest_of(pad(), i.to_bytes(8, "big")) for i in range(size - n))]
    order = sorted(range(size), key=everything.__getitem__)
    ordered = [everything[i] for i in order]
    if len(set(ordered)) != size:
        raise IntegrityError(f"{asset}: two leaves share one commitment (duplicated account)")
    amounts = [*values, *([0] * (size - n))]
    sums = [amounts[i] for i in order]
    total = sum(sums)
    if total > MAX_SUM:
        raise IntegrityError(f"{asset}: the total {total} overflows 128 bits")
    try:
        encoded = [v.to_bytes(SUM_BYTES, "big") for v in sums]
    except (OverflowError, AttributeError):
        bad = next(v for v in sums if type(v) is not int or v < 0)
        raise IntegrityError(f"{asset}: leaf sum {bad!r} is not in [0, 2**128)") from None
    leaf = _sha256(LEAF_TAG).copy
    level = [digest_of(leaf(), c + e) + e for c, e in zip(ordered, encoded, strict=True)]
    nodes, all_sums = [level], [sums]
    while len(level) > 1:
        level, sums = _up(level, sums)
        nodes.append(level)
        all_sums.append(sums)
    positions = {accounts[i]: rank for rank, i in enumerate(order) if i < n}
    if len(positions) != n:
        raise IntegrityError(f"{asset}: an account appears twice")
    return AssetTree(asset, height, tuple(nodes), tuple(all_sums), ordered, positions)


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
