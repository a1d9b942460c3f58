"""Kinko's strict RLP against pyrlp (`rlp`), the Ethereum Foundation's codec (differential).

On every item both encode the same bytes; on every byte string, canonical or not, Kinko
accepts exactly what pyrlp's strict `decode` accepts and returns the same item. Kinko's
`decode_int` refuses exactly what pyrlp's `big_endian_int` sedes refuses. The one place
Kinko is stricter: lists nested deeper than `MAX_DEPTH`, which pyrlp follows until
Python raises RecursionError.
"""

from __future__ import annotations

import sys
from typing import Any

import pytest
import rlp as pyrlp
from hypothesis import given, settings
from hypothesis import strategies as st
from rlp.exceptions import DecodingError, DeserializationError
from rlp.sedes import big_endian_int

from kinko.chains import rlp
from kinko.core.errors import InputError

# Strings around the 55/56-byte switch to long form, lists of any width.
strings = (
    st.binary(max_size=8)
    | st.binary(min_size=50, max_size=70)
    | st.integers(0, 255).map(lambda b: bytes([b]))
)
items = st.recursive(strings, lambda children: st.lists(children, max_size=12), max_leaves=30)


@settings(max_examples=300, derandomize=True, deadline=None)
@given(items)
def test_encode_and_decode_agree_with_pyrlp(item: rlp.Item) -> None:
    encoded = rlp.encode(item)
    assert encoded == pyrlp.encode(item)
    assert rlp.decode(encoded) == pyrlp.decode(encoded) == item


@settings(max_examples=200, derandomize=True, deadline=None)
@given(st.integers(0, 2**256 - 1))
def test_integers_agree_with_pyrlp(value: int) -> None:
    raw = rlp.encode_int(value)
    assert raw == big_endian_int.serialize(value)
    assert rlp.encode(raw) == pyrlp.encode(value)
    assert rlp.decode_int(raw, "x") == big_endian_int.deserialize(raw) == value


@settings(max_examples=200, derandomize=True, deadline=None)
@given(st.binary(max_size=6))
def test_decode_int_refuses_what_the_sedes_refuses(raw: bytes) -> None:
    try:
        expected: int | None = big_endian_int.deserialize(raw)
    except DeserializationError:
        expected = None
    try:
        ours: int | None = rlp.decode_int(raw, "x")
    except InputError:
        ours = None
    assert ours == expected


@st.composite
def damaged(draw: Any) -> bytes:
    """A valid encoding after one typical corruption, or a non-canonical spelling."""
    item = draw(items)
    data = bytearray(rlp.encode(item))
    change = draw(
        st.sampled_from(
            ["flip", "insert", "delete", "truncate", "append", "wrap-byte", "long-form", "zero-len"]
        )
    )
    at = draw(st.integers(0, max(len(data) - 1, 0)))
    if change == "flip" and data:
        data[at] = draw(st.integers(0, 255))
    elif change == "insert":
        data.insert(at, draw(st.integers(0, 255)))
    elif change == "delete" and data:
        del data[at]
    elif change == "truncate":
        del data[at:]
    elif change == "append":
        data += draw(st.binary(min_size=1, max_size=3))
    elif change == "wrap-byte":  # a single byte below 0x80 written as a 1-byte string
        data = bytearray(b"\x81" + bytes([draw(st.integers(0, 0x7F))]))
    elif change == "long-form":  # a short length written in long form
        body = draw(st.binary(max_size=55))
        data = bytearray(bytes([0xB8, len(body)]) + body)
    elif change == "zero-len":  # a long-form length with a leading zero byte
        body = draw(st.binary(min_size=56, max_size=60))
        data = bytearray(bytes([0xB9, 0, len(body)]) + body)
    return bytes(data)


def _ours(data: bytes) -> rlp.Item | None:
    try:
        return rlp.decode(data)
    except InputError:
        return None


def _reference(data: bytes) -> rlp.Item | None:
    try:
        result: rlp.Item = pyrlp.decode(data, strict=True)
    except DecodingError:
        return None
    return result


@settings(max_examples=600, derandomize=True, deadline=None)
@given(damaged() | st.binary(max_size=40))
def test_decode_accepts_exactly_what_strict_pyrlp_accepts(data: bytes) -> None:
    assert _ours(data) == _reference(data)


def _nested(depth: int) -> bytes:
    """`depth` + 1 lists, each holding the next; the innermost is empty."""
    data = b"\xc0"
    for _ in range(depth):
        if len(data) < 56:
            data = bytes([0xC0 + len(data)]) + data
        else:
            size = len(data).to_bytes((len(data).bit_length() + 7) // 8, "big")
            data = bytes([0xF7 + len(size)]) + size + data
    return data


def test_deep_nesting_is_an_input_error_where_pyrlp_overflows_the_stack() -> None:
    # Regression: a 3 KB payload of nested lists made rlp.decode raise RecursionError.
    hostile = _nested(sys.getrecursionlimit() + 100)
    with pytest.raises(InputError, match="nested deeper"):
        rlp.decode(hostile)
    with pytest.raises(RecursionError):
        pyrlp.decode(hostile)
    within = _nested(rlp.MAX_DEPTH - 1)  # MAX_DEPTH lists in all
    assert rlp.decode(within) == pyrlp.decode(within)
