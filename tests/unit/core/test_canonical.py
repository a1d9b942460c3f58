"""RFC 8785 canonical JSON against the RFC's Appendix B and the reference test data."""

from __future__ import annotations

import json
import struct
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kinko.core.canonical import MAX_SAFE_INTEGER, canonical_json
from kinko.core.errors import InputError

VECTORS = json.loads((Path(__file__).parents[2] / "vectors" / "rfc8785.json").read_text())


def _double(hex_bits: str) -> float:
    value: float = struct.unpack(">d", bytes.fromhex(hex_bits))[0]
    return value


@pytest.mark.parametrize(("bits", "expected"), VECTORS["numbers"])
def test_appendix_b_numbers(bits: str, expected: str) -> None:
    assert canonical_json(_double(bits)) == expected.encode()


@pytest.mark.parametrize("bits", VECTORS["non_finite"])
def test_non_finite_numbers_are_refused(bits: str) -> None:
    with pytest.raises(InputError, match="NaN and Infinity"):
        canonical_json([_double(bits)])


@pytest.mark.parametrize("name", sorted(VECTORS["documents"]))
def test_reference_documents(name: str) -> None:
    source, expected = VECTORS["documents"][name]
    assert canonical_json(json.loads(source)) == expected.encode("utf-8")


def test_keys_sort_by_utf16_code_units_not_code_points() -> None:
    # U+1F602 (surrogates D83D DE02) sorts before U+FB33 in UTF-16, after it by code point.
    out = canonical_json({"\ufb33": 1, "\U0001f602": 2})
    assert out == '{"\U0001f602":2,"\ufb33":1}'.encode()


def test_lone_surrogates_and_non_json_values_are_refused() -> None:
    with pytest.raises(InputError, match="surrogate"):
        canonical_json("\ud800")
    with pytest.raises(InputError, match="cannot be represented"):
        canonical_json({"a": b"bytes"})
    with pytest.raises(InputError, match="keys must be strings"):
        canonical_json({1: "x"})


def test_integers_beyond_double_precision_are_refused() -> None:
    assert canonical_json(MAX_SAFE_INTEGER) == str(MAX_SAFE_INTEGER).encode()
    with pytest.raises(InputError, match="decimal strings"):
        canonical_json({"amount_wei": 10**18 * 50})


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-MAX_SAFE_INTEGER, MAX_SAFE_INTEGER)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(alphabet=st.characters(exclude_categories=("Cs",))),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(
            st.text(alphabet=st.characters(exclude_categories=("Cs",))), children, max_size=4
        )
    ),
    max_leaves=20,
)


@given(json_values)
def test_canonical_form_round_trips_and_is_a_fixed_point(value: object) -> None:
    once = canonical_json(value)
    # JCS numbers are IEEE 754 doubles: integers beyond 2^53 parse back as doubles.
    parsed = json.loads(
        once, parse_int=lambda t: int(t) if abs(int(t)) <= MAX_SAFE_INTEGER else float(t)
    )
    assert canonical_json(parsed) == once
