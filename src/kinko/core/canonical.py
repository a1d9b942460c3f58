"""Canonical JSON per RFC 8785 (JSON Canonicalization Scheme).

Used for audit entries, approval bundles and everything that is hashed or signed.

Why ours and not the `rfc8785` package: these bytes are hashed into the audit chain and
signed approvals, so they must not move with a dependency upgrade (`rfc8785` is 0.1.x and
calls its implementation unstable); ours also takes any Mapping/Sequence (such as
MappingProxyType views) and refuses what JCS cannot hold with an InputError that says how
to fix it. tests/unit/codecs/test_jcs.py holds the two byte-for-byte equal.
"""

from __future__ import annotations

import array
import json
import math
from collections.abc import Mapping, Sequence

from kinko.core.errors import InputError

MAX_SAFE_INTEGER = 2**53 - 1
# Binary data has no JSON form; memoryview and array.array count as Sequences in Python.
_BINARY = (bytes, bytearray, memoryview, array.array)


def canonical_json(value: object) -> bytes:
    """Serialise `value` as RFC 8785 canonical JSON, UTF-8 encoded."""
    out: list[str] = []
    _emit(value, out)
    return "".join(out).encode("utf-8")


def _emit(value: object, out: list[str]) -> None:
    if value is None:
        out.append("null")
    elif value is True:
        out.append("true")
    elif value is False:
        out.append("false")
    elif isinstance(value, int):
        if not -MAX_SAFE_INTEGER <= value <= MAX_SAFE_INTEGER:
            raise InputError(
                "json",
                f"integer {value} is outside ±2^53; write large amounts as decimal strings "
                "(RFC 8785 treats numbers as IEEE 754 doubles, RFC 7493 §2.2)",
            )
        out.append(str(value))
    elif isinstance(value, float):
        out.append(_number(value))
    elif isinstance(value, str):
        out.append(_string(value))
    elif isinstance(value, Mapping):
        items = []
        for key in value:
            if not isinstance(key, str):
                raise InputError("json", f"object keys must be strings, got {key!r}")
            _refuse_lone_surrogates(key)  # before sorting: UTF-16 cannot encode them
            items.append(key)
        # RFC 8785 §3.2.3: sort by UTF-16 code units.
        items.sort(key=lambda k: k.encode("utf-16-be"))
        out.append("{")
        for i, key in enumerate(items):
            if i:
                out.append(",")
            out.append(_string(key))
            out.append(":")
            _emit(value[key], out)
        out.append("}")
    elif isinstance(value, Sequence) and not isinstance(value, _BINARY):
        out.append("[")
        for i, item in enumerate(value):
            if i:
                out.append(",")
            _emit(item, out)
        out.append("]")
    else:
        raise InputError("json", f"{type(value).__name__} cannot be represented in JSON")


def _refuse_lone_surrogates(text: str) -> None:
    for ch in text:
        if 0xD800 <= ord(ch) <= 0xDFFF:
            raise InputError("json", "strings must not contain lone surrogates")


def _string(text: str) -> str:
    # RFC 8785 §3.2.2.2: JSON.stringify escaping; lone surrogates are not allowed.
    _refuse_lone_surrogates(text)
    return json.dumps(text, ensure_ascii=False)


def _number(value: float) -> str:
    """ECMAScript Number.prototype.toString for finite doubles (RFC 8785 §3.2.2.3)."""
    if math.isnan(value) or math.isinf(value):
        raise InputError("json", "NaN and Infinity are not JSON numbers")
    if value == 0:
        return "0"
    sign = "-" if value < 0 else ""
    digits, exponent = _shortest(abs(value))
    k = len(digits)
    n = exponent + k  # position of the decimal point relative to the digits
    if k <= n <= 21:
        return sign + digits + "0" * (n - k)
    if 0 < n <= 21:
        return sign + digits[:n] + "." + digits[n:]
    if -6 < n <= 0:
        return sign + "0." + "0" * (-n) + digits
    e = n - 1
    mantissa = digits[0] + ("." + digits[1:] if k > 1 else "")
    return f"{sign}{mantissa}e{'+' if e >= 0 else '-'}{abs(e)}"


def _shortest(value: float) -> tuple[str, int]:
    """Shortest round-tripping digits and exponent: value == int(digits) * 10**exponent."""
    mantissa, _, exp = repr(value).partition("e")
    whole, _, frac = mantissa.partition(".")
    digits = (whole + frac).lstrip("0")
    exponent = (int(exp) if exp else 0) - len(frac)
    stripped = digits.rstrip("0")
    exponent += len(digits) - len(stripped)
    return stripped or "0", exponent
