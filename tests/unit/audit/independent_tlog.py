"""A deliberately separate, minimal tlog-tiles writer used to test interoperability.

It shares no code with `kinko.audit`: recursive RFC 6962 MTH straight from the RFC's
definition, its own path encoding, its own signed-note signing with `cryptography`.
"""

from __future__ import annotations

import base64
import hashlib
import struct
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat


def mth(leaves: list[bytes]) -> bytes:
    n = len(leaves)
    if n == 0:
        return hashlib.sha256().digest()
    if n == 1:
        return hashlib.sha256(b"\x00" + leaves[0]).digest()
    k = 1
    while k * 2 < n:
        k *= 2
    return hashlib.sha256(b"\x01" + mth(leaves[:k]) + mth(leaves[k:])).digest()


def _index_path(n: int) -> str:
    text = str(n)
    text = "0" * (-len(text) % 3) + text
    parts = [text[i : i + 3] for i in range(0, len(text), 3)]
    return "/".join(["x" + p for p in parts[:-1]] + [parts[-1]])


def _path(kind: str, index: int, width: int) -> str:
    return f"tile/{kind}/{_index_path(index)}" + ("" if width == 256 else f".p/{width}")


class Key:
    def __init__(self, name: str) -> None:
        self.name = name
        self.private = Ed25519PrivateKey.generate()
        public = self.private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        self.key_id = hashlib.sha256(name.encode() + b"\n\x01" + public).digest()[:4]
        material = base64.b64encode(b"\x01" + public).decode()
        self.vkey = f"{name}+{self.key_id.hex()}+{material}"

    def sign(self, text: str) -> str:
        sig = base64.b64encode(self.key_id + self.private.sign(text.encode())).decode()
        return f"{text}\n\u2014 {self.name} {sig}\n"


def write_log(
    root: Path,
    entries: list[bytes],
    key: Key,
    *,
    tiles_for: int | None = None,
    partials: bool = True,
) -> str:
    """Write tiles for `tiles_for` entries (default all) and a checkpoint for all entries.

    With tiles_for > len(entries) and partials=False the directory looks like a log that
    grew after the checkpoint and deleted its partial tiles, as the spec allows.
    """
    size = len(entries)
    tiled = (
        entries
        if tiles_for is None
        else entries + [b'{"sequence":%d}' % i for i in range(size, tiles_for)]
    )
    level_hashes = [hashlib.sha256(b"\x00" + e).digest() for e in tiled]
    level = 0
    span = 1
    while len(tiled) // span:
        count = len(tiled) // span
        hashes = [mth(tiled[i * span : (i + 1) * span]) for i in range(count)]
        if level == 0:
            assert hashes == level_hashes
        for t in range(0, count, 256):
            chunk = hashes[t : t + 256]
            path = root / _path(str(level), t // 256, len(chunk))
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(b"".join(chunk))
            if level == 0:
                bundle = b"".join(struct.pack(">H", len(e)) + e for e in tiled[t : t + len(chunk)])
                bpath = root / _path("entries", t // 256, len(chunk))
                bpath.parent.mkdir(parents=True, exist_ok=True)
                bpath.write_bytes(bundle)
        level += 1
        span *= 256
    text = f"{key.name}\n{size}\n{base64.b64encode(mth(entries)).decode()}\n"
    note = key.sign(text)
    (root / "checkpoint").write_text(note, encoding="utf-8")
    return note
