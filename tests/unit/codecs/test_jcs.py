"""Kinko's RFC 8785 canonical JSON against Trail of Bits' `rfc8785` (differential).

Both Kinko encoders are checked: `kinko.core.canonical.canonical_json` and the audit
log's fast path `kinko.audit.entry.encode_canonical`. On every valid JSON value they emit
the same bytes as `rfc8785.dumps`; on every value JCS cannot hold both refuse, Kinko with
an InputError. Kinko is more permissive in one place only: any Mapping/Sequence (e.g. a
MappingProxyType) is taken as the object/array it reads as, with the same bytes.
"""

from __future__ import annotations

import array
import math
import struct
from collections import OrderedDict
from decimal import Decimal
from types import MappingProxyType
from typing import Any

import pytest
import rfc8785
from hypothesis import given, settings
from hypothesis import strategies as st

from kinko.audit.entry import encode_canonical
from kinko.core.canonical import MAX_SAFE_INTEGER, canonical_json
from kinko.core.errors import InputError

# Whole-Unicode text without lone surrogates (category Cs): control characters, the BMP
# private use area and astral characters, whose UTF-16 order differs from code points.
text = st.text(alphabet=st.characters(exclude_categories=("Cs",)), max_size=8)


def _double(bits: int) -> float:
    value: float = struct.unpack(">d", bits.to_bytes(8, "big"))[0]
    return value


doubles = st.integers(0, 2**64 - 1).map(_double)
scalars = (
    st.none()
    | st.booleans()
    | st.integers(-MAX_SAFE_INTEGER, MAX_SAFE_INTEGER)
    | st.floats(allow_nan=False, allow_infinity=False)
    | doubles.filter(math.isfinite)
    | text
)
values = st.recursive(
    scalars,
    lambda children: (
        st.lists(children, max_size=4)
        | st.lists(children, max_size=3).map(tuple)
        | st.dictionaries(text, children, max_size=4)
    ),
    max_leaves=16,
)


@settings(max_examples=400, derandomize=True, deadline=None)
@given(values)
def test_same_bytes_as_rfc8785(value: Any) -> None:
    expected = rfc8785.dumps(value)
    assert canonical_json(value) == expected
    assert encode_canonical({"v": value}) == rfc8785.dumps({"v": value})


@settings(max_examples=400, derandomize=True, deadline=None)
@given(doubles)
def test_every_double_formats_like_rfc8785(number: float) -> None:
    # The whole IEEE 754 bit space: subnormals, the 1e21 and 1e-7 switches, NaN payloads.
    if math.isfinite(number):
        assert canonical_json(number) == rfc8785.dumps(number)
    else:
        with pytest.raises(InputError, match="NaN and Infinity"):
            canonical_json(number)
        with pytest.raises(rfc8785.FloatDomainError):
            rfc8785.dumps(number)


lone_surrogate = st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF)
with_surrogate = st.tuples(text, lone_surrogate, text).map("".join)
unrepresentable = st.one_of(
    st.integers(MAX_SAFE_INTEGER + 1, 2**80),
    st.integers(-(2**80), -MAX_SAFE_INTEGER - 1),
    st.sampled_from([math.nan, math.inf, -math.inf]),
    with_surrogate,
    # A lone surrogate as a key, alone and beside other keys (which makes both sort).
    st.builds(lambda k, others: {k: 1, **others}, with_surrogate, st.dictionaries(text, scalars)),
    st.builds(lambda k: {k: 1}, st.integers() | st.binary(max_size=3) | st.none()),
    st.sampled_from([b"\x00", bytearray(b"a"), {1, 2}, Decimal("1.5"), 1j, object()]),
)


@settings(max_examples=300, derandomize=True, deadline=None)
@given(st.lists(values, max_size=3), unrepresentable, st.integers(0, 3))
def test_both_refuse_what_jcs_cannot_hold(before: list[Any], bad: Any, depth: int) -> None:
    document: Any = bad
    for _ in range(depth):
        document = {"inner": [*before, document]}
    with pytest.raises(InputError):
        canonical_json(document)
    with pytest.raises((ValueError, TypeError)):  # rfc8785's CanonicalizationError etc.
        rfc8785.dumps(document)


def test_lone_surrogate_key_beside_another_is_an_input_error() -> None:
    # Regression: sorting keys by UTF-16 raised a bare UnicodeEncodeError (a traceback
    # instead of a message) when a key held a lone surrogate and the object had 2+ keys.
    with pytest.raises(InputError, match="lone surrogates"):
        canonical_json({"\ud800": 1, "a": 2})
    with pytest.raises(InputError, match="lone surrogates"):
        encode_canonical({"details": {"\udfff": 1, "b": 2}})


def test_binary_sequences_are_refused_like_bytes() -> None:
    # Regression: memoryview and array.array are Sequences in Python, so they were
    # written as arrays of small integers; rfc8785 refuses them, and so does Kinko now.
    for binary in (memoryview(b"ab"), array.array("B", b"ab")):
        with pytest.raises(InputError, match="cannot be represented"):
            canonical_json({"raw": binary})
        with pytest.raises(ValueError, match="unsupported type"):
            rfc8785.dumps({"raw": binary})


@settings(max_examples=100, derandomize=True, deadline=None)
@given(st.dictionaries(text, scalars, max_size=5), st.lists(scalars, max_size=5))
def test_other_mappings_and_sequences_read_as_objects_and_arrays(
    mapping: dict[str, Any], items: list[Any]
) -> None:
    # Where Kinko is wider than rfc8785: read-only and ordered views give the same bytes.
    reference = rfc8785.dumps({"m": mapping, "l": items})
    for view in (MappingProxyType(mapping), OrderedDict(reversed(mapping.items()))):
        assert canonical_json({"m": view, "l": tuple(items)}) == reference
