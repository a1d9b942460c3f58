"""A snapshot's published roots and their digest (pure; standard library only).

The audit log records the digest of the roots, not the roots themselves (300 assets would
come near the 64 KiB entry limit); every customer proof carries the whole roots list, so
a customer sees each asset's total and checks the digest against the logged entry.

Canonical bytes, hashed with SHA-256::

    "kinko-reserves-roots/1\\n" nonce-hex "\\n"
    then per asset, sorted by asset key: asset " " height " " root-hex " " total "\\n"

with the total in decimal without leading zeros. Asset keys (``chain:SYMBOL``) have no
space or newline, so the text parses back unambiguously.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from kinko.core.errors import IntegrityError
from kinko.reserves import sumtree

FORMAT = "kinko-reserves-roots/1"
MAX_ASSET = 80


@dataclass(frozen=True, slots=True)
class AssetRoot:
    asset: str
    height: int
    root: bytes
    total: int

    def to_json(self) -> dict[str, object]:
        return {
            "asset": self.asset,
            "height": self.height,
            "root": self.root.hex(),
            "total": str(self.total),
        }


@dataclass(frozen=True, slots=True)
class Roots:
    nonce: bytes
    assets: tuple[AssetRoot, ...]

    def canonical(self) -> bytes:
        lines = [FORMAT, self.nonce.hex()]
        lines += [f"{a.asset} {a.height} {a.root.hex()} {a.total}" for a in self.assets]
        return ("\n".join(lines) + "\n").encode()

    def digest(self) -> bytes:
        return hashlib.sha256(self.canonical()).digest()

    def get(self, asset: str) -> AssetRoot:
        for root in self.assets:
            if root.asset == asset:
                return root
        raise IntegrityError(f"the snapshot's roots have no {asset}")

    def to_json(self) -> dict[str, object]:
        return {"nonce": self.nonce.hex(), "assets": [a.to_json() for a in self.assets]}


def make(nonce: bytes, assets: Sequence[AssetRoot]) -> Roots:
    """Roots sorted by asset, each checked (parse, don't validate: a Roots is sound)."""
    if len(nonce) != sumtree.NONCE_SIZE:
        raise IntegrityError(f"the nonce is {len(nonce)} bytes; it must be 16")
    ordered = tuple(sorted(assets, key=lambda a: a.asset))
    seen: set[str] = set()
    for a in ordered:
        if not a.asset or len(a.asset) > MAX_ASSET or any(ch in a.asset for ch in " \n\r\t"):
            raise IntegrityError(f"asset key {a.asset!r} is empty, too long or has a space")
        if a.asset in seen:
            raise IntegrityError(f"asset {a.asset} has two roots")
        seen.add(a.asset)
        if type(a.height) is not int or not 0 <= a.height <= sumtree.MAX_HEIGHT:
            raise IntegrityError(f"{a.asset}: height {a.height!r} is not in 0..40")
        sumtree.check_hash(a.root, f"{a.asset} root")
        sumtree.sum_bytes(a.total, f"{a.asset} total")
    return Roots(nonce, ordered)


def parse(value: object) -> Roots:
    """The roots of a proof document (``{"nonce": hex, "assets": [...]}``)."""
    doc = json_object(value, "snapshot.roots")
    nonce = hex_bytes(doc.get("nonce"), "snapshot.roots.nonce", sumtree.NONCE_SIZE)
    items = doc.get("assets")
    if not isinstance(items, list) or not items:
        raise IntegrityError("snapshot.roots.assets must be a non-empty list")
    out = []
    for i, item in enumerate(items):
        where = f"snapshot.roots.assets[{i}]"
        a = json_object(item, where)
        asset = a.get("asset")
        if not isinstance(asset, str):
            raise IntegrityError(f"{where}.asset must be a string")
        height = a.get("height")
        if type(height) is not int:
            raise IntegrityError(f"{where}.height must be an integer")
        root = hex_bytes(a.get("root"), f"{where}.root", sumtree.HASH_SIZE)
        out.append(AssetRoot(asset, height, root, decimal(a.get("total"), f"{where}.total")))
    return make(nonce, out)


def json_object(value: object, where: str) -> Mapping[str, object]:
    if not isinstance(value, dict):
        raise IntegrityError(f"{where} must be a JSON object")
    return value


def hex_bytes(value: object, where: str, size: int) -> bytes:
    """Exactly ``size`` bytes written as lower-case hex; a truncated hash is refused."""
    if not isinstance(value, str) or len(value) != 2 * size:
        raise IntegrityError(f"{where} must be {size} bytes as {2 * size} hex digits")
    if value != value.lower():
        raise IntegrityError(f"{where} must be lower-case hex")
    try:
        return bytes.fromhex(value)
    except ValueError:
        raise IntegrityError(f"{where} is not hex") from None


def decimal(value: object, where: str) -> int:
    """A base-unit amount as a decimal string: digits, no sign, no leading zero, < 2**128."""
    if isinstance(value, str) and value.startswith("-"):
        raise IntegrityError(f"{where} {value} is negative; sums are unsigned")
    if (
        not isinstance(value, str)
        or not value.isascii()
        or not value.isdigit()
        or (len(value) > 1 and value[0] == "0")
        or len(value) > 39
    ):
        raise IntegrityError(
            f"{where} must be a non-negative decimal string of base units, got {value!r}"
        )
    number = int(value)
    sumtree.sum_bytes(number, where)
    return number
