"""RFC 9162 tree: transparency-dev vectors, pymerkle cross-check, property tests."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pymerkle import InmemoryTree

from kinko.audit import merkle
from kinko.audit.memtree import MemoryTree
from kinko.core.errors import IntegrityError

VECTORS = json.loads(
    (Path(__file__).parents[2] / "vectors" / "merkle_transparency_dev.json").read_text()
)
LEAVES = [bytes.fromhex(h) for h in VECTORS["leaves_hex"]]


def _hx(values: list[str]) -> list[bytes]:
    return [bytes.fromhex(v) for v in values]


def _tree(n: int) -> MemoryTree:
    tree = MemoryTree()
    tree.extend(f"entry {i}".encode() for i in range(n))
    return tree


def test_leaf_and_node_hashes_match_vectors() -> None:
    tree = MemoryTree()
    tree.extend(LEAVES)
    assert tree.levels[0] == _hx(VECTORS["leaf_hashes_hex"])
    assert tree.levels[1] == _hx(VECTORS["level1_hex"])
    assert tree.levels[2] == _hx(VECTORS["level2_hex"])


def test_roots_for_every_size_match_vectors() -> None:
    tree = MemoryTree()
    tree.extend(LEAVES)
    for size, root in enumerate(_hx(VECTORS["roots_by_size_hex"])):
        assert tree.root(size) == root
        assert merkle.root_of(tree.levels[0][:size]) == root


@pytest.mark.parametrize(
    "case", VECTORS["inclusion"], ids=lambda c: f"{c['leaf_index']}-{c['size']}"
)
def test_inclusion_proofs_match_vectors(case: dict[str, object]) -> None:
    tree = MemoryTree()
    tree.extend(LEAVES)
    index, size = int(case["leaf_index"]), int(case["size"])  # type: ignore[call-overload]
    expected = _hx(case["proof_hex"])  # type: ignore[arg-type]
    assert tree.inclusion_proof(index, size) == expected
    merkle.verify_inclusion(tree.levels[0][index], index, size, expected, tree.root(size))


@pytest.mark.parametrize("case", VECTORS["consistency"], ids=lambda c: f"{c['size1']}-{c['size2']}")
def test_consistency_proofs_match_vectors(case: dict[str, object]) -> None:
    tree = MemoryTree()
    tree.extend(LEAVES)
    m, n = int(case["size1"]), int(case["size2"])  # type: ignore[call-overload]
    expected = _hx(case["proof_hex"])  # type: ignore[arg-type]
    assert tree.consistency_proof(m, n) == expected
    merkle.verify_consistency(m, n, expected, tree.root(m), tree.root(n))


def test_roots_and_proofs_agree_with_pymerkle() -> None:
    entries = [f"e{i}".encode() for i in range(70)]
    ours = MemoryTree()
    ours.extend(entries)
    theirs = InmemoryTree(algorithm="sha256")
    for entry in entries:
        theirs.append_entry(entry)
    for size in range(1, 71):
        assert ours.root(size) == theirs.get_root(size)
    proof = theirs.prove_inclusion(6, 70)  # pymerkle indexes leaves from 1
    # pymerkle's path starts with the leaf itself and lists siblings bottom-up.
    path = [bytes.fromhex(h) for h in proof.serialize()["path"]]
    assert path[0] == ours.levels[0][5]
    assert set(path[1:]) == set(ours.inclusion_proof(5, 70))


def test_inclusion_rejects_index_outside_tree_and_wrong_lengths() -> None:
    tree = _tree(5)
    root, proof = tree.root(), tree.inclusion_proof(2)
    leaf = tree.levels[0][2]
    with pytest.raises(IntegrityError, match="not below tree size"):
        merkle.verify_inclusion(leaf, 5, 5, proof, root)
    with pytest.raises(IntegrityError, match="exactly 3"):
        merkle.verify_inclusion(leaf, 2, 5, [*proof, root], root)
    with pytest.raises(IntegrityError, match="exactly 3"):
        merkle.verify_inclusion(leaf, 2, 5, proof[:-1], root)
    with pytest.raises(IntegrityError, match="32"):
        merkle.verify_inclusion(leaf[:31], 2, 5, proof, root)
    with pytest.raises(IntegrityError, match="does not lead"):
        merkle.verify_inclusion(tree.levels[0][3], 2, 5, proof, root)


def test_consistency_edge_cases() -> None:
    tree = _tree(8)
    r = tree.root
    merkle.verify_consistency(0, 8, [], r(0), r(8))
    merkle.verify_consistency(8, 8, [], r(8), r(8))
    with pytest.raises(IntegrityError, match="two different roots"):
        merkle.verify_consistency(8, 8, [], r(7), r(8))
    with pytest.raises(IntegrityError, match="larger"):
        merkle.verify_consistency(5, 4, [], r(5), r(4))
    with pytest.raises(IntegrityError, match="exactly"):
        merkle.verify_consistency(3, 8, [], r(3), r(8))
    proof = tree.consistency_proof(3, 8)
    with pytest.raises(IntegrityError, match="root of size 8"):
        merkle.verify_consistency(3, 8, proof, r(3), r(7))
    with pytest.raises(IntegrityError):
        merkle.verify_consistency(3, 8, proof, r(8), r(3))


def _flip(data: bytes, bit: int) -> bytes:
    buf = bytearray(data)
    buf[bit // 8 % len(buf)] ^= 1 << (bit % 8)
    return bytes(buf)


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 300), st.data())
def test_every_inclusion_proof_verifies_and_any_flip_fails(size: int, data: st.DataObject) -> None:
    tree = _tree(size)
    index = data.draw(st.integers(0, size - 1))
    root, proof, leaf = tree.root(), tree.inclusion_proof(index), tree.levels[0][index]
    merkle.verify_inclusion(leaf, index, size, proof, root)
    bit = data.draw(st.integers(0, 255))
    with pytest.raises(IntegrityError):
        merkle.verify_inclusion(_flip(leaf, bit), index, size, proof, root)
    with pytest.raises(IntegrityError):
        merkle.verify_inclusion(leaf, index, size, proof, _flip(root, bit))
    if proof:
        which = data.draw(st.integers(0, len(proof) - 1))
        bad = [*proof]
        bad[which] = _flip(bad[which], bit)
        with pytest.raises(IntegrityError):
            merkle.verify_inclusion(leaf, index, size, bad, root)


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 300), st.data())
def test_every_consistency_proof_verifies_and_any_flip_fails(
    second: int, data: st.DataObject
) -> None:
    tree = _tree(second)
    first = data.draw(st.integers(1, second))
    proof = tree.consistency_proof(first, second)
    merkle.verify_consistency(first, second, proof, tree.root(first), tree.root(second))
    bit = data.draw(st.integers(0, 255))
    with pytest.raises(IntegrityError):
        merkle.verify_consistency(
            first, second, proof, _flip(tree.root(first), bit), tree.root(second)
        )
    if proof:
        which = data.draw(st.integers(0, len(proof) - 1))
        bad = [*proof]
        bad[which] = _flip(bad[which], bit)
        with pytest.raises(IntegrityError):
            merkle.verify_consistency(first, second, bad, tree.root(first), tree.root(second))


def test_memory_tree_compact_range_matches_append_to_edge() -> None:
    edge: list[bytes] = []
    created: list[tuple[int, int, bytes]] = []
    tree = _tree(37)
    for size, leaf in enumerate(tree.levels[0]):
        merkle.append_to_edge(edge, size, leaf, created)
    assert merkle.fold_right(edge) == tree.root()
    for height, index, value in created:
        assert tree.levels[height][index] == value
    assert len(created) == sum(len(level) for level in tree.levels[1:])


def test_inorder_index_is_unique_and_orders_nodes_between_their_children() -> None:
    seen = {}
    for height in range(13):
        for index in range(2 ** (12 - height)):
            key = merkle.inorder_index(height, index)
            assert key not in seen, (height, index, seen.get(key))
            seen[key] = (height, index)
            if height:
                left = merkle.inorder_index(height - 1, 2 * index)
                right = merkle.inorder_index(height - 1, 2 * index + 1)
                assert left < key < right
    assert sorted(seen) == list(range(len(seen)))
