"""RFC 9162 Merkle tree hashing, proof generation and proof verification.

Standard library only: the offline verifier imports this module on an air-gapped machine.

Proofs are generated per RFC 6962 §2.1.1 (PATH) and §2.1.2 (SUBPROOF) as lists of
*ranges* ``[start, end)`` of leaves whose Merkle Tree Hash is needed; a store then resolves
each range from the full-subtree node hashes it keeps (`range_nodes` names them), so a
proof costs one lookup of at most ~2·log2(n) stored hashes and no re-hashing of leaves.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Mapping, Sequence

from kinko.core.errors import IntegrityError

HASH_SIZE = 32
EMPTY_ROOT = hashlib.sha256(b"").digest()
NodeId = tuple[int, int]
"""(height, index): the full subtree of 2**height leaves starting at leaf index * 2**height."""


def leaf_hash(entry: bytes) -> bytes:
    """RFC 9162 §2.1.1: MTH({d0}) = SHA-256(0x00 || d0)."""
    return hashlib.sha256(b"\x00" + entry).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """RFC 9162 §2.1.1: MTH(D[n]) = SHA-256(0x01 || MTH(D[0:k]) || MTH(D[k:n]))."""
    return hashlib.sha256(b"\x01" + left + right).digest()


def split_point(n: int) -> int:
    """The largest power of two strictly smaller than n (n > 1)."""
    return 1 << ((n - 1).bit_length() - 1)


def root_of(leaf_hashes: Sequence[bytes]) -> bytes:
    """MTH of a whole list of leaf hashes (iterative; used for tiles and tests)."""
    if not leaf_hashes:
        return EMPTY_ROOT
    return fold_right(compact_range(leaf_hashes))


def compact_range(leaf_hashes: Sequence[bytes]) -> list[bytes]:
    """Roots of the maximal full subtrees covering the leaves, largest first."""
    edge: list[bytes] = []
    for size, leaf in enumerate(leaf_hashes):
        append_to_edge(edge, size, leaf)
    return edge


def append_to_edge(
    edge: list[bytes], size: int, leaf: bytes, created: list[tuple[int, int, bytes]] | None = None
) -> None:
    """Add `leaf` to the compact range of a tree of `size` leaves, in place.

    Every full subtree completed by the append is reported in `created` as
    (height, index, hash) so that a store can keep it for proofs.
    """
    value = leaf
    height = 0
    new_size = size + 1
    while size >> height & 1:
        value = node_hash(edge.pop(), value)
        height += 1
        if created is not None:
            created.append((height, (new_size >> height) - 1, value))
    edge.append(value)


def fold_right(hashes: Sequence[bytes]) -> bytes:
    """Root from a compact range: node(c0, node(c1, ... node(ck-1, ck)))."""
    acc = hashes[-1]
    for value in reversed(hashes[:-1]):
        acc = node_hash(value, acc)
    return acc


def inorder_index(height: int, index: int) -> int:
    """Position of node (height, index) in an in-order walk of an unbounded tree.

    Leaves take the even numbers, nodes of height h the numbers = 2**h - 1 (mod 2**(h+1));
    distinct nodes get distinct integers, so a store can key them by one column.
    """
    return (index << (height + 1)) + (1 << height) - 1


def range_nodes(start: int, end: int) -> list[NodeId]:
    """Full subtrees whose fold is MTH(D[start:end]) for ranges that occur in proofs.

    Proof ranges are either aligned full subtrees or a right edge ``[a, n)`` whose start
    is aligned to a power of two at least as large as its length, so the greedy split
    into powers of two (largest first) reproduces RFC 9162's split at the largest power
    of two.
    """
    nodes: list[NodeId] = []
    length = end - start
    pos = start
    for height in range(length.bit_length() - 1, -1, -1):
        if length >> height & 1:
            if pos % (1 << height):
                raise ValueError(f"range [{start}, {end}) is not a proof range")
            nodes.append((height, pos >> height))
            pos += 1 << height
    return nodes


def inclusion_ranges(index: int, size: int) -> list[tuple[int, int]]:
    """RFC 6962 §2.1.1 PATH(m, D[n]) as leaf ranges, leaf-side first."""
    if not 0 <= index < size:
        raise ValueError(f"index {index} is not below size {size}")
    ranges: list[tuple[int, int]] = []
    lo, hi, m = 0, size, index
    while hi - lo > 1:
        k = split_point(hi - lo)
        if m < k:
            ranges.append((lo + k, hi))
            hi = lo + k
        else:
            ranges.append((lo, lo + k))
            lo += k
            m -= k
    ranges.reverse()
    return ranges


def consistency_ranges(first: int, second: int) -> list[tuple[int, int]]:
    """RFC 6962 §2.1.2 PROOF(m, D[n]) = SUBPROOF(m, D[n], true) as leaf ranges."""
    if not 0 <= first <= second:
        raise ValueError(f"sizes must satisfy 0 <= first <= second, got {first}, {second}")
    if first in (0, second):
        return []
    ranges: list[tuple[int, int]] = []
    lo, hi, m, whole = 0, second, first, True
    while True:
        if m == hi - lo:
            if not whole:
                ranges.append((lo, hi))
            break
        k = split_point(hi - lo)
        if m <= k:
            ranges.append((lo + k, hi))
            hi = lo + k
        else:
            ranges.append((lo, lo + k))
            lo += k
            m -= k
            whole = False
    ranges.reverse()
    return ranges


def nodes_for(ranges: Iterable[tuple[int, int]]) -> set[NodeId]:
    """Every stored node needed to resolve `ranges`."""
    needed: set[NodeId] = set()
    for start, end in ranges:
        needed.update(range_nodes(start, end))
    return needed


def assemble(ranges: Iterable[tuple[int, int]], nodes: Mapping[NodeId, bytes]) -> list[bytes]:
    """Turn proof ranges into hashes from looked-up full-subtree nodes."""
    return [fold_right([nodes[n] for n in range_nodes(a, b)]) for a, b in ranges]


def build_proof(
    ranges: list[tuple[int, int]], lookup: Callable[[set[NodeId]], Mapping[NodeId, bytes]]
) -> list[bytes]:
    return assemble(ranges, lookup(nodes_for(ranges)))


def inclusion_proof_length(index: int, size: int) -> int:
    return len(inclusion_ranges(index, size))


def _check_hash(name: str, value: bytes) -> None:
    if len(value) != HASH_SIZE:
        raise IntegrityError(f"{name} is {len(value)} bytes; a SHA-256 hash is 32")


def root_from_inclusion(leaf: bytes, index: int, size: int, proof: Sequence[bytes]) -> bytes:
    """RFC 9162 §2.1.3.2 steps 1-4: the root implied by an inclusion proof."""
    # Step 1: the index must lie inside the tree.
    if not 0 <= index < size:
        raise IntegrityError(f"inclusion proof: index {index} is not below tree size {size}")
    _check_hash("leaf hash", leaf)
    expected = inclusion_proof_length(index, size)
    if len(proof) != expected:
        raise IntegrityError(
            f"inclusion proof for index {index} in size {size} has {len(proof)} hashes; "
            f"it must have exactly {expected}"
        )
    # Steps 2-3.
    fn, sn, r = index, size - 1, leaf
    # Step 4.
    for i, p in enumerate(proof):
        _check_hash(f"inclusion proof hash {i}", p)
        if sn == 0:
            raise IntegrityError("inclusion proof is longer than the path to the root")
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    # Step 5 (first half): the path must end at the root.
    if sn != 0:
        raise IntegrityError("inclusion proof is shorter than the path to the root")
    return r


def verify_inclusion(
    leaf: bytes, index: int, size: int, proof: Sequence[bytes], root: bytes
) -> None:
    """RFC 9162 §2.1.3.2: raise `IntegrityError` unless `proof` shows leaf `index` in `root`."""
    _check_hash("root hash", root)
    computed = root_from_inclusion(leaf, index, size, proof)
    # Step 5: compare r against the root hash.
    if computed != root:
        raise IntegrityError(
            f"inclusion proof for entry {index} does not lead to the root of tree size {size}"
        )


def verify_consistency(
    size1: int, size2: int, proof: Sequence[bytes], root1: bytes, root2: bytes
) -> None:
    """RFC 9162 §2.1.4.2: raise `IntegrityError` unless tree `size1` is a prefix of `size2`."""
    _check_hash("first root hash", root1)
    _check_hash("second root hash", root2)
    if not 0 <= size1 <= size2:
        raise IntegrityError(f"consistency: size {size1} is larger than size {size2}")
    if size1 in (0, size2):
        if proof:
            raise IntegrityError("consistency proof must be empty for these sizes")
        if size1 == size2 and root1 != root2:
            raise IntegrityError(f"two different roots for the same tree size {size1}")
        return
    expected = len(consistency_ranges(size1, size2))
    # Step 1 (and the exact length): an empty or wrongly sized proof fails.
    if len(proof) != expected:
        raise IntegrityError(
            f"consistency proof {size1}->{size2} has {len(proof)} hashes; "
            f"it must have exactly {expected}"
        )
    for i, p in enumerate(proof):
        _check_hash(f"consistency proof hash {i}", p)
    path = list(proof)
    # Step 2: if first is an exact power of 2, prepend first_hash.
    if size1 & (size1 - 1) == 0:
        path.insert(0, root1)
    # Step 3.
    fn, sn = size1 - 1, size2 - 1
    # Step 4.
    while fn & 1:
        fn >>= 1
        sn >>= 1
    # Step 5.
    fr = sr = path[0]
    # Step 6.
    for c in path[1:]:
        if sn == 0:
            raise IntegrityError("consistency proof is longer than the path to the root")
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    # Step 7.
    if sn != 0:
        raise IntegrityError("consistency proof is shorter than the path to the root")
    if fr != root1:
        raise IntegrityError(f"consistency proof does not lead to the root of size {size1}")
    if sr != root2:
        raise IntegrityError(f"consistency proof does not lead to the root of size {size2}")
