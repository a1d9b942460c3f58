"""Bech32 (BIP-173) and Bech32m (BIP-350) strings and segwit addresses, step by step.

Written from the two BIPs' specifications; the test vectors of both live in
tests/vectors/bip173_addresses.json and bip350_addresses.json.

Why ours and not embit's copy of the reference (`embit.bech32`): the reference answers
only None, while a person pasting a withdrawal address needs to be told which rule it
breaks (case, checksum, network, witness version, Bech32 vs Bech32m). It accepts exactly
what the reference accepts: tests/unit/codecs/test_bech32.py checks that, differentially.
"""

from __future__ import annotations

from enum import Enum

from kinko.core.errors import InputError

CHARSET = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"
_GENERATORS = (0x3B6A57B2, 0x26508E6D, 0x1EA119FA, 0x3D4233DD, 0x2A1462B3)
MAX_LENGTH = 90


class Encoding(Enum):
    BECH32 = 1  # BIP-173 "Checksum": the polymod constant is 1
    BECH32M = 0x2BC830A3  # BIP-350 "Specification": the constant M


def _polymod(values: list[int]) -> int:
    chk = 1
    for value in values:
        top = chk >> 25
        chk = (chk & 0x1FFFFFF) << 5 ^ value
        for i, generator in enumerate(_GENERATORS):
            chk ^= generator if (top >> i) & 1 else 0
    return chk


def _hrp_expand(hrp: str) -> list[int]:
    return [ord(c) >> 5 for c in hrp] + [0] + [ord(c) & 31 for c in hrp]


def decode(text: str, field: str = "address") -> tuple[str, list[int], Encoding]:
    """BIP-173 "Bech32": split HRP and data, check characters, case and checksum."""
    if any(ord(c) < 33 or ord(c) > 126 for c in text):
        raise InputError(field, "contains a character outside US-ASCII 33..126")
    if text.lower() != text and text.upper() != text:
        raise InputError(field, "mixes upper and lower case")
    text = text.lower()
    if len(text) > MAX_LENGTH:
        raise InputError(field, f"longer than {MAX_LENGTH} characters")
    pos = text.rfind("1")
    if pos < 1:
        raise InputError(field, "has no human-readable part before the separator '1'")
    if pos + 7 > len(text):
        raise InputError(field, "checksum is shorter than 6 characters")
    if any(c not in CHARSET for c in text[pos + 1 :]):
        raise InputError(field, "contains a character outside the bech32 alphabet")
    hrp, data = text[:pos], [CHARSET.find(c) for c in text[pos + 1 :]]
    const = _polymod(_hrp_expand(hrp) + data)
    for encoding in Encoding:
        if const == encoding.value:
            return hrp, data[:-6], encoding
    raise InputError(
        field,
        "checksum does not match: a character was mistyped or altered; copy the address again "
        "from its source",
    )


def encode(hrp: str, data: list[int], encoding: Encoding) -> str:
    values = _hrp_expand(hrp) + data
    polymod = _polymod([*values, 0, 0, 0, 0, 0, 0]) ^ encoding.value
    checksum = [(polymod >> 5 * (5 - i)) & 31 for i in range(6)]
    return hrp + "1" + "".join(CHARSET[d] for d in data + checksum)


def convertbits(data: list[int], frombits: int, tobits: int, *, pad: bool) -> list[int] | None:
    """Regroup bits; without padding, leftover bits must be fewer than `frombits` and zero."""
    acc = bits = 0
    out = []
    maxv = (1 << tobits) - 1
    for value in data:
        if value < 0 or value >> frombits:
            return None
        acc = (acc << frombits) | value
        bits += frombits
        while bits >= tobits:
            bits -= tobits
            out.append((acc >> bits) & maxv)
    if pad:
        if bits:
            out.append((acc << (tobits - bits)) & maxv)
    elif bits >= frombits or ((acc << (tobits - bits)) & maxv):
        return None
    return out


def decode_segwit(hrp: str, address: str, field: str = "address") -> tuple[int, bytes]:
    """BIP-173 "Segwit address format" with BIP-350's version rule: (version, program)."""
    got_hrp, data, encoding = decode(address, field)
    if got_hrp != hrp:
        raise InputError(
            field,
            f"is for the network with prefix {got_hrp!r}, expected {hrp!r}",
            code="wrong_network",
        )
    if not data:
        raise InputError(field, "has an empty data section")
    version = data[0]
    if version > 16:
        raise InputError(field, f"witness version {version} is above 16")
    program = convertbits(data[1:], 5, 8, pad=False)
    if program is None:
        raise InputError(field, "has invalid padding in its witness program")
    if not 2 <= len(program) <= 40:
        raise InputError(field, f"witness program of {len(program)} bytes is outside 2..40")
    if version == 0 and len(program) not in (20, 32):
        raise InputError(field, "a version 0 witness program must be 20 or 32 bytes (BIP-141)")
    expected = Encoding.BECH32 if version == 0 else Encoding.BECH32M
    if encoding is not expected:
        raise InputError(
            field,
            f"witness version {version} must use {expected.name.title()} (BIP-350), "
            f"not {encoding.name.title()}",
        )
    return version, bytes(program)


def encode_segwit(hrp: str, version: int, program: bytes) -> str:
    encoding = Encoding.BECH32 if version == 0 else Encoding.BECH32M
    bits = convertbits(list(program), 8, 5, pad=True)
    assert bits is not None
    return encode(hrp, [version, *bits], encoding)
