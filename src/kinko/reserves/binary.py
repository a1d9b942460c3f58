"""The compact binary proof (pure; standard library only): the format of docs/reserves.md.

The same content as the JSON proof document, in fixed-width fields: a path's step is the
sibling as the tree keeps it (32-byte hash, then its sum in 16 big-endian bytes), so a
proof of one asset at 2^20 leaves is 20 x 48 + 23 = 983 bytes. Parents' sums are not
carried: the decoder derives each as the running sum plus the sibling's, and the verifier
(`kinko.reserves.verify`, which reads the decoded document) checks every sum's range and
the node hashes, which commit to both children's sums. Decoding is strict: a truncated
field, a count that does not match, an unknown version or a trailing byte is refused.

Layout (integers big-endian; ``lp`` = 2-byte length, then UTF-8)::

    "KRP" 0x01
    lp(snapshot id)  nonce[16]
    u16 assets,   each: lp(asset) u8 height  root[32]  total[16]
    u16 controls, each: lp(chain), then for ethereum (EIP-191) address[20] public key[64]
                        signature[65]; for bitcoin (BIP-322) lp(address) lp(signature text)
    lp(account)  key[32]
    u16 leaves,   each: u16 asset (its position in the roots)  value[16]  index[5]
                        then height x (sibling hash[32] sibling sum[16])
    u32 len, audit entry  u64 entry index  u8 n, n x hash[32]  lp(checkpoint note)
"""

from __future__ import annotations

import base64
from collections.abc import Sequence

from kinko.core.errors import IntegrityError
from kinko.reserves.ownership import SCHEMES, Control

MAGIC = b"KRP\x01"
STEP = 48
INDEX_BYTES = 5


def lp(text: str) -> bytes:
    data = text.encode()
    if len(data) > 0xFFFF:
        raise IntegrityError("a text field is longer than 65535 bytes")
    return len(data).to_bytes(2, "big") + data


def control(proof: Control) -> bytes:
    """One proof of control as the binary proof carries it (per chain, above)."""
    if proof.chain == "bitcoin":
        return lp(proof.chain) + lp(proof.address) + lp(proof.signature.decode("ascii"))
    return lp(proof.chain) + bytes.fromhex(proof.address[2:]) + proof.public_key + proof.signature


def leaf(position: int, value: int, index: int, siblings: Sequence[bytes]) -> bytes:
    """One asset's leaf and path; ``siblings`` as the tree keeps them (hash + 16-byte sum)."""
    return (
        position.to_bytes(2, "big")
        + value.to_bytes(16, "big")
        + index.to_bytes(INDEX_BYTES, "big")
        + b"".join(siblings)
    )


class _Reader:
    def __init__(self, data: bytes) -> None:
        self.data, self.at = data, 0

    def take(self, size: int, what: str) -> bytes:
        end = self.at + size
        if end > len(self.data):
            raise IntegrityError(f"the binary proof is truncated in {what}")
        out, self.at = self.data[self.at : end], end
        return out

    def int(self, size: int, what: str) -> int:
        return int.from_bytes(self.take(size, what), "big")

    def text(self, what: str) -> str:
        raw = self.take(self.int(2, what), what)
        try:
            return raw.decode()
        except UnicodeDecodeError:
            raise IntegrityError(f"{what} is not UTF-8") from None


def decode(data: bytes) -> dict[str, object]:
    """The proof document (the JSON value `kinko.reserves.verify.verify_document` reads)."""
    if data[:4] != MAGIC:
        raise IntegrityError("not a Kinko binary proof (it must start with KRP and version 1)")
    r = _Reader(data)
    r.take(4, "the header")
    snapshot_id = r.text("snapshot.id")
    nonce = r.take(16, "snapshot.roots.nonce")
    assets = []
    for i in range(r.int(2, "the number of assets")):
        where = f"snapshot.roots.assets[{i}]"
        assets.append(
            {
                "asset": r.text(f"{where}.asset"),
                "height": r.int(1, f"{where}.height"),
                "root": r.take(32, f"{where}.root").hex(),
                "total": str(r.int(16, f"{where}.total")),
            }
        )
    controls = []
    for i in range(r.int(2, "the number of controls")):
        where = f"controls[{i}]"
        chain = r.text(f"{where}.chain")
        if chain == "bitcoin":
            controls.append(
                {
                    "chain": chain,
                    "address": r.text(f"{where}.address"),
                    "scheme": SCHEMES[chain],
                    "signature": r.text(f"{where}.signature"),
                }
            )
            continue
        controls.append(
            {
                "chain": chain,
                "address": "0x" + r.take(20, f"{where}.address").hex(),
                "scheme": SCHEMES["ethereum"],
                "public_key": r.take(64, f"{where}.public_key").hex(),
                "signature": r.take(65, f"{where}.signature").hex(),
            }
        )
    account = r.text("account")
    key = r.take(32, "key").hex()
    leaves = []
    for i in range(r.int(2, "the number of leaves")):
        where = f"leaves[{i}]"
        position = r.int(2, f"{where}.asset")
        if position >= len(assets):
            raise IntegrityError(f"{where}.asset is not one of the snapshot's assets")
        root = assets[position]
        running = value = r.int(16, f"{where}.value")
        index = r.int(INDEX_BYTES, f"{where}.index")
        steps = []
        for level in range(int(str(root["height"]))):
            sibling = r.take(STEP, f"{where}.path[{level}]")
            sibling_sum = int.from_bytes(sibling[32:], "big")
            running += sibling_sum
            steps.append(
                {"hash": sibling[:32].hex(), "sum": str(sibling_sum), "parent": str(running)}
            )
        leaves.append({"asset": root["asset"], "value": str(value), "index": index, "path": steps})
    entry = r.take(r.int(4, "audit.entry"), "audit.entry")
    audit_index = r.int(8, "audit.index")
    hashes = [r.take(32, "audit.hashes").hex() for _ in range(r.int(1, "audit.hashes"))]
    checkpoint = r.text("audit.checkpoint")
    if r.at != len(data):
        raise IntegrityError(f"the binary proof has {len(data) - r.at} bytes after its end")
    return {
        "format": "kinko-reserves-proof/1",
        "snapshot": {"id": snapshot_id, "roots": {"nonce": nonce.hex(), "assets": assets}},
        "controls": controls,
        "account": account,
        "key": key,
        "leaves": leaves,
        "audit": {
            "entry": base64.b64encode(entry).decode(),
            "index": audit_index,
            "hashes": hashes,
            "checkpoint": checkpoint,
        },
    }
