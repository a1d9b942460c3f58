"""The fast entry encoder must equal the RFC 8785 reference encoder byte for byte."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kinko.audit.entry import encode_canonical, encode_entry
from kinko.core.canonical import canonical_json
from kinko.core.errors import InputError

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**70), 2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=6), children, max_size=4)
    ),
    max_leaves=12,
)


@settings(max_examples=150, deadline=None)
@given(st.dictionaries(st.text(max_size=6), json_values, max_size=5))
def test_fast_encoder_equals_reference(value: dict[str, Any]) -> None:
    try:
        expected = canonical_json(value)
    except InputError:
        with pytest.raises(InputError):
            encode_canonical(value)
        return
    assert encode_canonical(value) == expected


@pytest.mark.parametrize(
    "value",
    [
        {"\ue000": 1, "\U0001f600": 2},  # UTF-16 order differs from code-point order
        {"f": 1.0, "g": 1e21, "h": -0.0},
        {"ctl": "\x00\x1f\u2028\x7f", "q": '"\\'},
        {"nested": {"b": [1, {"z": None, "a": True}], "a": "é"}},
    ],
)
def test_known_tricky_values(value: dict[str, Any]) -> None:
    assert encode_canonical(value) == canonical_json(value)


@settings(max_examples=100, deadline=None)
@given(
    st.text(min_size=1),
    st.text(min_size=1),
    st.dictionaries(st.text(max_size=4), json_values, max_size=3),
)
def test_entry_encoder_equals_reference(actor: str, subject: str, details: dict[str, Any]) -> None:
    value = {
        "sequence": 7,
        "time": "2026-11-21T09:00:00.000000Z",
        "actor": actor,
        "action": "a.b",
        "subject": subject,
        "details": details,
    }
    try:
        expected = canonical_json(value)
    except InputError:
        with pytest.raises(InputError):
            encode_entry(
                7, value["time"], actor=actor, action="a.b", subject=subject, details=details
            )
        return
    assert (
        encode_entry(7, value["time"], actor=actor, action="a.b", subject=subject, details=details)
        == expected
    )


def test_bad_values_are_refused_like_the_reference() -> None:
    for bad in ({"x": b"bytes"}, {"x": "\ud800"}, {"x": float("nan")}, {"x": {1: 2}}):
        with pytest.raises(InputError):
            encode_canonical(bad)
