"""CashAddr decoding for Bitcoin Cash (spec: bitcoincash.org ``spec/cashaddr.md``, v1.0).

Only decoding and checksum verification: screening needs the hash inside the address so
that a CashAddr destination and a legacy base58 listing of the same hash compare equal.
embit has no CashAddr codec, so the few steps of the spec are written out here.

Why ours: no well-kept Python CashAddr library exists (`cashaddress` was last released in
2019; `bitcash` is a whole wallet with network clients). tests/unit/codecs/test_cashaddr.py
checks it against an encoder written from the spec and anchored to the spec's examples.
Token-aware addresses (CashTokens, type bits 2 and 3) are not decoded: they return None.
"""

from __future__ import annotations

CHARSET = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"
_PREFIXES = ("bitcoincash", "bchtest", "bchreg")
# Spec, "Checksum": generator of the BCH code over GF(2^5).
_GENERATOR = (0x98F2BC8E61, 0x79B76D99E2, 0xF33E5FB3C4, 0xAE2EABE2A8, 0x1E4F43E470)
_HASH_BITS = (160, 192, 224, 256, 320, 384, 448, 512)
_TYPES = {0: "p2pkh", 1: "p2sh"}


def _polymod(values: list[int]) -> int:
    """Spec, "Checksum": the 40-bit BCH checksum polynomial modulus."""
    c = 1
    for d in values:
        c0 = c >> 35
        c = ((c & 0x07FFFFFFFF) << 5) ^ d
        for i, gen in enumerate(_GENERATOR):
            if (c0 >> i) & 1:
                c ^= gen
    return c ^ 1


def decode_cashaddr(text: str) -> tuple[str, bytes] | None:
    """Return (``p2pkh``/``p2sh``, hash) for a valid CashAddr, or None.

    The prefix may be omitted (then ``bitcoincash`` is assumed, as the spec allows).
    """
    if text != text.lower() and text != text.upper():
        return None  # spec, "Uppercase/lowercase": mixed case is rejected
    lowered = text.lower()
    prefix, sep, payload = lowered.rpartition(":")
    if not sep:
        prefix = "bitcoincash"
    if prefix not in _PREFIXES or not payload or any(ch not in CHARSET for ch in payload):
        return None
    data = [CHARSET.index(ch) for ch in payload]
    # Spec, "Checksum": the lower 5 bits of each prefix character, a zero for the
    # separator, then the payload including its 8 checksum characters must give 0.
    if _polymod([ord(ch) & 0x1F for ch in prefix] + [0] + data) != 0:
        return None
    decoded = _convert_5_to_8(data[:-8])
    if decoded is None or not decoded:
        return None
    version, digest = decoded[0], bytes(decoded[1:])
    # Spec, "Version byte": high bit reserved, 4 type bits, 3 size bits.
    if version & 0x80:
        return None
    kind = _TYPES.get((version >> 3) & 0x0F)
    if kind is None or len(digest) * 8 != _HASH_BITS[version & 0x07]:
        return None
    return kind, digest


def _convert_5_to_8(data: list[int]) -> list[int] | None:
    acc = 0
    bits = 0
    out: list[int] = []
    for value in data:
        acc = (acc << 5) | value
        bits += 5
        while bits >= 8:
            bits -= 8
            out.append((acc >> bits) & 0xFF)
    if bits >= 5 or (acc << (8 - bits)) & 0xFF:
        return None  # padding longer than 4 bits, or non-zero padding
    return out
