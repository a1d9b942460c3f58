"""Recursive Length Prefix encoding (Ethereum Yellow Paper, appendix B), strict.

The decoder accepts only the canonical encoding: a single byte below 0x80 must not be
wrapped, lengths must be minimal, and nothing may follow the top-level item. A transaction
that can be spelled two ways could hide a difference between what is shown and signed.

Why ours and not pyrlp (`rlp`, a web3 dependency): this decoder sits on the signing path,
so it is kept small enough to review whole; its errors name the field; and it refuses
lists nested deeper than MAX_DEPTH, where pyrlp recurses until Python's RecursionError.
On everything else it agrees with pyrlp's strict decoding byte for byte, canonical-form
refusals included: tests/unit/codecs/test_rlp.py checks that, differentially.
"""

from __future__ import annotations

from kinko.core.errors import InputError

Item = bytes | list["Item"]
# Kinko's payloads nest four lists at most (an EIP-1559 access list's storage keys); a
# limit turns a hostile, deeply nested payload into an InputError, not a RecursionError.
MAX_DEPTH = 32


def encode(item: Item) -> bytes:
    if isinstance(item, bytes):
        if len(item) == 1 and item[0] < 0x80:
            return item
        return _length(len(item), 0x80) + item
    payload = b"".join(encode(child) for child in item)
    return _length(len(payload), 0xC0) + payload


def encode_int(value: int) -> bytes:
    """Scalars are big-endian with no leading zeros; zero is the empty string."""
    if value < 0:
        raise InputError("rlp", "negative integers cannot be encoded")
    return value.to_bytes((value.bit_length() + 7) // 8, "big") if value else b""


def _length(length: int, offset: int) -> bytes:
    if length < 56:
        return bytes([offset + length])
    raw = encode_int(length)
    return bytes([offset + 55 + len(raw)]) + raw


def decode(data: bytes, *, field: str = "payload") -> Item:
    item, end = _decode_at(data, 0, field, 0)
    if end != len(data):
        raise InputError(field, f"{len(data) - end} trailing bytes after the RLP item")
    return item


def decode_int(raw: Item, field: str) -> int:
    if not isinstance(raw, bytes):
        raise InputError(field, "expected an integer, found a list")
    if raw[:1] == b"\x00":
        raise InputError(field, "integer has leading zero bytes (non-canonical RLP)")
    return int.from_bytes(raw, "big")


def _decode_at(data: bytes, pos: int, field: str, depth: int) -> tuple[Item, int]:
    if pos >= len(data):
        raise InputError(field, "RLP data ends early")
    prefix = data[pos]
    if prefix < 0x80:
        return data[pos : pos + 1], pos + 1
    if prefix < 0xB8:
        start, length = pos + 1, prefix - 0x80
        _check(data, start, length, field)
        if length == 1 and data[start] < 0x80:
            raise InputError(field, "single byte wrapped in a string prefix (non-canonical RLP)")
        return data[start : start + length], start + length
    if prefix < 0xC0:
        start, length = _long(data, pos, prefix - 0xB7, field)
        return data[start : start + length], start + length
    if prefix < 0xF8:
        start, length = pos + 1, prefix - 0xC0
    else:
        start, length = _long(data, pos, prefix - 0xF7, field)
    _check(data, start, length, field)
    if depth >= MAX_DEPTH:
        raise InputError(field, f"RLP lists nested deeper than {MAX_DEPTH}")
    items: list[Item] = []
    cursor, end = start, start + length
    while cursor < end:
        child, cursor = _decode_at(data[:end], cursor, field, depth + 1)
        items.append(child)
    return items, end


def _long(data: bytes, pos: int, size: int, field: str) -> tuple[int, int]:
    _check(data, pos + 1, size, field)
    raw = data[pos + 1 : pos + 1 + size]
    if raw[0] == 0:
        raise InputError(field, "RLP length has leading zeros (non-canonical)")
    length = int.from_bytes(raw, "big")
    if length < 56:
        raise InputError(field, "long-form RLP length below 56 (non-canonical)")
    _check(data, pos + 1 + size, length, field)
    return pos + 1 + size, length


def _check(data: bytes, start: int, length: int, field: str) -> None:
    if start + length > len(data):
        raise InputError(field, "RLP data ends early")
