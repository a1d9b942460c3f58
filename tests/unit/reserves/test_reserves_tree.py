"""The Merkle-sum tree: properties over random holdings, and what it refuses."""

from __future__ import annotations

import hashlib
import hmac
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kinko.core.errors import InputError, IntegrityError
from kinko.reserves import sumtree, tree
from kinko.reserves.proof import steps_json
from kinko.reserves.roots import AssetRoot
from kinko.reserves.snapshot import Holdings, build
from kinko.reserves.verify import verify_path

SECRET = bytes(32)
NONCE = bytes(16)
ASSETS = ["bitcoin:BTC", "ethereum:ETH", "ethereum:USDC"]
TWO = [b"\x01" * 32, b"\x02" * 32]

holdings_rows = st.lists(
    st.tuples(
        st.sampled_from([f"acct-{i}" for i in range(40)]),
        st.sampled_from(ASSETS),
        st.integers(min_value=0, max_value=sumtree.MAX_SUM >> 8),
    ),
    max_size=60,
    unique_by=lambda r: (r[0], r[1]),
)


@settings(max_examples=60, derandomize=True, deadline=None)
@given(rows=holdings_rows, floor=st.integers(min_value=1, max_value=40))
def test_every_holder_proves_their_value_and_totals_add_up(
    rows: list[tuple[str, str, int]], floor: int
) -> None:
    trees = build(Holdings.parse(rows), SECRET, NONCE, floor=floor)
    for asset, t in trees.trees.items():
        held = {a: u for a, s, u in rows if s == asset and u}
        assert t.total == sum(held.values())
        assert 1 << t.height == max(1 << (max(len(held), floor) - 1).bit_length(), 1)
        root = AssetRoot(asset, t.height, t.root, t.total)
        mine = set()
        for account, units in held.items():
            path = trees.path(account, asset, units)
            assert path.value == units
            verify_path(root, path.leaf, units, path.index, _json_steps(path))
            mine.add(path.index)
        padding = [i for i in range(1 << t.height) if i not in mine]
        assert all(t.sums[0][i] == 0 for i in padding)
        pad_key = sumtree.padding_key(SECRET, NONCE, asset)
        assert {t.nodes[0][i][:32] for i in padding} == {
            sumtree.padding_leaf(pad_key, j) for j in range(len(padding))
        }


@settings(max_examples=40, derandomize=True, deadline=None)
@given(rows=holdings_rows.filter(bool), data=st.data())
def test_any_change_to_one_holding_changes_the_root(
    rows: list[tuple[str, str, int]], data: st.DataObject
) -> None:
    rows = [r for r in rows if r[2]] or [("acct-0", ASSETS[0], 1)]
    before = build(Holdings.parse(rows), SECRET, NONCE).roots()
    i = data.draw(st.integers(min_value=0, max_value=len(rows) - 1))
    account, asset, units = rows[i]
    changed = [*rows[:i], (account, asset, units + 1), *rows[i + 1 :]]
    after = build(Holdings.parse(changed), SECRET, NONCE).roots()
    assert before.get(asset).root != after.get(asset).root
    assert before.digest() != after.digest()


def test_the_trees_do_not_depend_on_the_order_of_rows() -> None:
    rows = [(f"a{i}", ASSETS[i % 3], i + 1) for i in range(50)]
    shuffled = rows[:]
    random.Random(7).shuffle(shuffled)
    one = build(Holdings.parse(rows), SECRET, NONCE).roots()
    two = build(Holdings.parse(shuffled), SECRET, NONCE).roots()
    assert one == two


def test_a_new_nonce_leaves_no_leaf_in_common() -> None:
    rows = [(f"a{i}", "bitcoin:BTC", 100) for i in range(20)]
    first = build(Holdings.parse(rows), SECRET, NONCE).trees["bitcoin:BTC"]
    second = build(Holdings.parse(rows), SECRET, b"\x01" * 16).trees["bitcoin:BTC"]
    assert not set(first.nodes[0]) & set(second.nodes[0])


def test_padding_to_a_floor_hides_the_number_of_holders() -> None:
    few = build(Holdings.parse([("a", "bitcoin:BTC", 1)]), SECRET, NONCE, floor=1024)
    many = build(
        Holdings.parse([(f"a{i}", "bitcoin:BTC", 1) for i in range(1000)]),
        SECRET,
        NONCE,
        floor=1024,
    )
    assert few.trees["bitcoin:BTC"].height == many.trees["bitcoin:BTC"].height == 10


def test_an_asset_nobody_holds_still_gets_a_root() -> None:
    trees = build(Holdings.parse([("a", "bitcoin:BTC", 1)]), SECRET, NONCE, assets=ASSETS)
    assert trees.roots().get("ethereum:ETH").total == 0


def test_two_identical_leaves_are_refused() -> None:
    same = tree.leaf(b"\x07" * 32, 5)
    with pytest.raises(IntegrityError, match="two leaves are the same"):
        tree.build("bitcoin:BTC", [same, same], pad_key=bytes(32))


def test_a_total_beyond_128_bits_is_refused() -> None:
    big = sumtree.MAX_SUM
    with pytest.raises(IntegrityError, match="overflows 128 bits"):
        tree.build("bitcoin:BTC", [tree.leaf(TWO[0], big), tree.leaf(TWO[1], 1)], pad_key=bytes(32))


def test_a_leaf_outside_128_bits_or_a_short_entry_is_refused() -> None:
    with pytest.raises(IntegrityError, match="negative"):
        tree.leaf(TWO[0], -1)
    with pytest.raises(IntegrityError, match="overflows 128 bits"):
        tree.leaf(TWO[0], 1 << 128)
    with pytest.raises(IntegrityError, match="not a 32-byte hash"):
        tree.build("bitcoin:BTC", [TWO[0] + b"\x01"], pad_key=bytes(32))


def test_many_keys_are_the_same_hmac_as_one() -> None:
    keyer = sumtree.account_keyer(SECRET, NONCE)
    for account in ["a", "acct-0000001", "ü" * 200]:
        assert keyer(account) == sumtree.account_key(SECRET, NONCE, account)


@pytest.mark.parametrize(
    ("row", "field"),
    [
        (("", "bitcoin:BTC", 1), "account"),
        (("a", "", 1), "asset"),
        (("a", "bitcoin:BTC", -1), "amount"),
        (("a", "bitcoin:BTC", True), "amount"),
        (("a", "bitcoin:BTC", 1.5), "amount"),
        (("a", "bitcoin:BTC", 1 << 128), "amount"),
    ],
)
def test_holdings_refuse_bad_rows_naming_the_field(row: tuple[str, str, int], field: str) -> None:
    with pytest.raises(InputError) as caught:
        Holdings.parse([row])
    assert caught.value.field == f"holdings row 1: {field}"


def test_holdings_refuse_an_account_holding_an_asset_twice() -> None:
    with pytest.raises(InputError, match="holds bitcoin:BTC twice"):
        Holdings.parse([("a", "bitcoin:BTC", 1), ("a", "bitcoin:BTC", 2)])


def test_hashes_are_domain_separated_and_fixed_width() -> None:
    key = b"\x05" * 32
    leaf = sumtree.leaf_hash(NONCE, key, "bitcoin:BTC", "a", 1)
    assert leaf not in {sumtree.padding_leaf(key, 0), sumtree.node_hash(key, 0, key, 1)}
    assert sumtree.sum_bytes(1) == b"\x00" * 15 + b"\x01"
    with pytest.raises(IntegrityError, match="negative"):
        sumtree.sum_bytes(-1)


def test_the_root_matches_the_encoding_docs_reserves_md_describes() -> None:
    """Written from the documented format with hashlib and hmac alone, not the module."""

    def lp(text: str) -> bytes:
        return len(text.encode()).to_bytes(2, "big") + text.encode()

    def u128(value: int) -> bytes:
        return value.to_bytes(16, "big")

    asset, held = "bitcoin:BTC", {"alice": 5, "bob": 7, "carol": 1}
    leaves = []
    for account, units in held.items():
        key = hmac.new(
            SECRET, b"kinko reserves v1 account key\x00" + NONCE + lp(account), "sha256"
        ).digest()
        leaf_input = b"R0" + NONCE + lp(asset) + key + lp(account) + u128(units)
        leaves.append((hashlib.sha256(leaf_input).digest(), units))
    pad_key = hmac.new(
        SECRET, b"kinko reserves v1 padding key\x00" + NONCE + lp(asset), "sha256"
    ).digest()
    leaves.append((hashlib.sha256(b"R3" + pad_key + (0).to_bytes(8, "big")).digest(), 0))
    level = sorted(leaves)
    while len(level) > 1:
        level = [
            (hashlib.sha256(b"R1" + lh + u128(ls) + rh + u128(rs)).digest(), ls + rs)
            for (lh, ls), (rh, rs) in zip(level[0::2], level[1::2], strict=True)
        ]
    rows = [(a, asset, u) for a, u in held.items()]
    built = build(Holdings.parse(rows), SECRET, NONCE).trees[asset]
    assert (built.root, built.total) == level[0]


def _json_steps(path: tree.Path) -> list[object]:
    return list(steps_json(path))


def test_holdings_refuse_an_asset_that_is_not_a_string() -> None:
    with pytest.raises(InputError) as caught:
        Holdings.parse([("a", "bitcoin:BTC", 1), ("b", ["bitcoin:BTC"], 1)])  # type: ignore[list-item]
    assert caught.value.field == "holdings row 2: asset"


def test_a_paths_sibling_sums_are_the_ones_the_sibling_nodes_hold() -> None:
    rows = [(f"a{i}", "bitcoin:BTC", 10 * i + 1) for i in range(37)]
    trees = build(Holdings.parse(rows), SECRET, NONCE, floor=64)
    for account, _, units in rows:
        path = trees.path(account, "bitcoin:BTC", units)
        stored = [int.from_bytes(node[32:], "big") for node in path.siblings]
        assert [s for _, s, _ in path.steps()] == stored
