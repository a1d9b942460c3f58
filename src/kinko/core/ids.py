"""Identifiers: time-ordered, random, URL-safe."""

from __future__ import annotations

import secrets
import time


def new_id(prefix: str) -> str:
    """A sortable id like ``wd_01J...``: 48-bit millisecond time + 80 random bits, base32."""
    millis = int(time.time() * 1000)
    raw = millis.to_bytes(6, "big") + secrets.token_bytes(10)
    return f"{prefix}_{_b32(raw)}"


_ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"


def _b32(data: bytes) -> str:
    n = int.from_bytes(data, "big")
    out = []
    for _ in range((len(data) * 8 + 4) // 5):
        out.append(_ALPHABET[n & 31])
        n >>= 5
    return "".join(reversed(out))
