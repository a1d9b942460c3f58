"""Customers' holdings at a snapshot, and the per-asset trees built from them (pure).

`Holdings.parse` is the only way in: once parsed, every account id is a non-empty string
of at most 200 characters, every amount an integer of base units in ``[1, 2**128)``, and
no account holds an asset twice; zero balances are dropped (the trees are sparse).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, NoReturn

from kinko.core.errors import InputError, NotFound
from kinko.reserves import roots as roots_mod
from kinko.reserves import sumtree, tree
from kinko.reserves.roots import AssetRoot, Roots
from kinko.reserves.tree import AssetTree, Path, digest_of

if TYPE_CHECKING:
    from _hashlib import HASH as Hasher

Leaf = tuple[str, int, int, Sequence[bytes]]
"""(asset, value, index, siblings as the tree keeps them): a binary proof's leaf."""

MAX_ACCOUNT = 200


@dataclass(frozen=True, slots=True)
class Holdings:
    """Asset -> (accounts, base units): two lists in the order rows came (no per-holding
    tuple, so millions of holdings stay cheap for the garbage collector)."""

    by_asset: Mapping[str, tuple[list[str], list[int]]]

    @classmethod
    def parse(
        cls, rows: Iterable[tuple[str, str, int]], *, where: str = "holdings row", start: int = 1
    ) -> Holdings:
        """From (account, asset, base units) rows; InputError names the first bad row
        (``where`` and its number, counted from ``start``: a file's line, say)."""
        by_asset: dict[str, tuple[list[str], list[int]]] = {}
        seen: dict[str, set[str]] = {}  # asset -> accounts: no tuple per row
        top = sumtree.MAX_SUM
        for number, (account, asset, units) in enumerate(rows, start=start):
            held = seen.get(asset) if type(asset) is str else None
            if held is None:
                if type(asset) is not str or not asset or len(asset) > roots_mod.MAX_ASSET:
                    _refuse(where, number, "asset", "must be an asset key such as bitcoin:BTC")
                held = seen[asset] = set()
                by_asset[asset] = ([], [])
            if type(account) is not str or not account or len(account) > MAX_ACCOUNT:
                _refuse(where, number, "account", "must be 1 to 200 characters")
            if type(units) is not int:  # bool is refused too
                _refuse(where, number, "amount", f"{units!r} is not an integer of base units")
            if not 0 <= units <= top:
                _refuse(where, number, "amount", f"{units} is outside 0..2**128-1")
            if account in held:
                _refuse(where, number, "account", f"{account} holds {asset} twice")
            held.add(account)
            if units:
                accounts, amounts = by_asset[asset]
                accounts.append(account)
                amounts.append(units)
        return cls({a: lists for a, lists in by_asset.items() if lists[0]})

    def accounts(self) -> set[str]:
        return {a for accounts, _ in self.by_asset.values() for a in accounts}


def _refuse(where: str, number: int, field: str, message: str) -> NoReturn:
    raise InputError(f"{where} {number}: {field}", message)


@dataclass(frozen=True, slots=True)
class Trees:
    """One snapshot: its nonce, the tree of each asset and each account's key."""

    nonce: bytes
    trees: Mapping[str, AssetTree]
    keys: Mapping[str, bytes]
    _prefixes: dict[str, Callable[[], Hasher]] = field(
        default_factory=dict, repr=False, compare=False
    )
    """Per asset, a copy of a hasher fed the asset's leaf prefix (made on first use)."""

    def leaves(self, account: str, held: Mapping[str, int]) -> list[Leaf]:
        """The account's leaves and siblings for what it holds (asset -> base units), by
        asset: a binary proof's content. The account's opening is made once, and each
        asset's leaf prefix once per snapshot. NotFound if a leaf is not in its tree."""
        key = self.keys.get(account)
        if key is None:
            raise NotFound(f"account {account!r} has no key in this snapshot")
        opening = sumtree.opening(key, account)
        out: list[Leaf] = []
        for asset in sorted(held):
            value, tree_ = held[asset], self.trees.get(asset)
            prefix = self._prefixes.get(asset)
            if prefix is None:
                prefix = hashlib.sha256(sumtree.leaf_prefix(self.nonce, asset)).copy
                self._prefixes[asset] = prefix
            leaf = digest_of(prefix(), opening + sumtree.sum_bytes(value, "leaf sum"))
            index = None if tree_ is None else tree_.index_of(leaf)
            if tree_ is None or index is None:
                raise NotFound(f"account {account!r} has no leaf of {value} {asset} here")
            out.append((asset, value, index, tree_.siblings_at(index)))
        return out

    def path(self, account: str, asset: str, value: int) -> Path:
        """The path of the account's leaf holding ``value`` of ``asset``; NotFound if the
        tree has no such leaf."""
        key, tree_ = self.keys.get(account), self.trees.get(asset)
        index = None
        if key is not None and tree_ is not None:
            index = tree_.index_of(sumtree.leaf_hash(self.nonce, key, asset, account, value))
        if tree_ is None or index is None:
            raise NotFound(f"account {account!r} has no leaf of {value} {asset} here")
        return tree_.path_at(index)

    def paths(self, account: str, held: Mapping[str, int]) -> list[Path]:
        """The account's paths for what it holds (asset -> base units), by asset."""
        return [self.path(account, a, held[a]) for a in sorted(held)]

    def roots(self) -> Roots:
        return roots_mod.make(
            self.nonce,
            [AssetRoot(a, t.height, t.root, t.total) for a, t in self.trees.items()],
        )


def build(
    holdings: Holdings,
    secret: bytes,
    nonce: bytes,
    *,
    floor: int = 1,
    assets: Iterable[str] = (),
) -> Trees:
    """Every asset's tree; ``assets`` adds trees (all padding) for assets nobody holds, so
    a root is published for every asset the exchange lists."""
    if len(secret) != sumtree.KEY_SIZE:
        raise InputError("secret", "the snapshot secret must be 32 random bytes")
    if len(nonce) != sumtree.NONCE_SIZE:
        raise InputError("nonce", "the snapshot nonce must be 16 random bytes")
    if type(floor) is not int or floor < 1:
        raise InputError("floor", "the padding floor must be a positive number of leaves")
    keyer = sumtree.account_keyer(secret, nonce)
    keys = {a: keyer(a) for a in holdings.accounts()}
    openings = {a: sumtree.opening(k, a) for a, k in keys.items()}
    trees = {}
    for asset in sorted({*holdings.by_asset, *assets}):
        accounts, units = holdings.by_asset.get(asset, ([], []))
        prefix = hashlib.sha256(sumtree.leaf_prefix(nonce, asset)).copy
        # Units were checked by `Holdings.parse`: each fits 16 bytes.
        encoded = [u.to_bytes(sumtree.SUM_BYTES, "big") for u in units]
        leaves = [
            digest_of(prefix(), openings[a] + e) + e for a, e in zip(accounts, encoded, strict=True)
        ]
        pad_key = sumtree.padding_key(secret, nonce, asset)
        trees[asset] = tree.build(asset, leaves, pad_key=pad_key, floor=floor)
    return Trees(nonce, trees, keys)
