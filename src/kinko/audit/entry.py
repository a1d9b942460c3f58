"""Encoding audit entries as RFC 8785 canonical JSON, quickly.

`kinko.core.canonical.canonical_json` is the reference. For the values audit details
almost always hold (no floats, integers within ±(2^53 - 1), string keys within the
Basic Multilingual Plane, no lone surrogates) Python's own
``json.dumps(sort_keys=True, ensure_ascii=False)`` emits the same bytes, several times
faster: JCS escapes exactly what ``json`` escapes, and for BMP keys UTF-16 code-unit
order equals code-point order (RFC 8785 §3.2.3). Anything else goes through the
reference encoder, which also refuses what JCS cannot represent. A property test holds
the two equal.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from kinko.core.canonical import MAX_SAFE_INTEGER, canonical_json

_dumps = json.JSONEncoder(
    ensure_ascii=False, sort_keys=True, separators=(",", ":"), allow_nan=False
).encode


def _plain_string(text: str) -> bool:
    return text.isascii() or all(ord(ch) < 0xD800 or 0xE000 <= ord(ch) < 0x10000 for ch in text)


def _simple(value: Any) -> bool:
    """True when `json` and RFC 8785 agree on `value` (see the module docstring)."""
    kind = type(value)
    if kind is str:
        return _plain_string(value)
    if kind is int:
        return bool(-MAX_SAFE_INTEGER <= value <= MAX_SAFE_INTEGER)
    if kind is bool or value is None:
        return True
    if kind is dict:
        return all(type(k) is str and _plain_string(k) and _simple(v) for k, v in value.items())
    if kind is list or kind is tuple:
        return all(_simple(v) for v in value)
    return False


def encode_canonical(value: Mapping[str, Any]) -> bytes:
    if _simple(value):
        return _dumps(value).encode("utf-8")
    return canonical_json(value)


def encode_entry(
    seq: int, stamp: str, *, actor: str, action: str, subject: str, details: dict[str, Any]
) -> bytes:
    """The audit entry object, canonical; only `details` needs the compatibility walk."""
    value = {
        "action": action,
        "actor": actor,
        "details": details,
        "sequence": seq,
        "subject": subject,
        "time": stamp,
    }
    top = (action, actor, subject, stamp)
    if all(_plain_string(t) for t in top) and _simple(details):
        return _dumps(value).encode("utf-8")
    return canonical_json(value)
