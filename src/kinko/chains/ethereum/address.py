"""Ethereum addresses and EIP-55 mixed-case checksums.

Accepted input: ``0x`` + 40 hex digits, either all lower-case or all upper-case after the
prefix (no checksum information; normalised to the EIP-55 form), or mixed case that must
match the EIP-55 checksum exactly. A mixed-case address with a wrong checksum is refused:
it is most likely a typo or a tampered copy, and that is what EIP-55 exists to catch. The
refusal never suggests a "corrected" address (that would be the checksum of the typo).

The EIP-55 checksum itself is eth_utils' (`to_checksum_address`); this module adds only
the acceptance rules above and the messages.
"""

from __future__ import annotations

import re
from functools import lru_cache

from eth_utils.address import to_checksum_address
from eth_utils.crypto import keccak

from kinko.core.errors import InputError

_HEX40 = re.compile(r"^0x[0-9a-fA-F]{40}$")


def keccak256(data: bytes) -> bytes:
    return bytes(keccak(data))


@lru_cache(maxsize=16384)  # a pure function; the same wallets and customers recur
def to_checksum(raw: bytes) -> str:
    """The EIP-55 mixed-case form of a 20-byte address (eth_utils' `to_checksum_address`)."""
    if len(raw) != 20:
        raise InputError("address", f"an Ethereum address is 20 bytes, got {len(raw)}")
    return str(to_checksum_address(raw))


def checksum_failure(text: str) -> str:
    """What to say about a mixed-case address whose EIP-55 checksum fails."""
    return (
        f"{text!r} fails its EIP-55 checksum: a character was mistyped or altered. Copy the "
        "address again from its source; do not retype it or change its letter case"
    )


def normalize_address(text: str, *, field: str = "address") -> str:
    """Return the EIP-55 form of `text`, or raise InputError saying what is wrong."""
    if not isinstance(text, str):
        raise InputError(
            field, "must be a string such as 0x52908400098527886E0F7030069857D2E4169EE7"
        )
    if not _HEX40.match(text):
        raise InputError(
            field, f"{text!r} is not an Ethereum address: expected 0x followed by 40 hex digits"
        )
    body = text[2:]
    checksummed = to_checksum(bytes.fromhex(body))
    if body in (body.lower(), body.upper()):
        return checksummed
    if text != checksummed:
        # Never offer the checksummed form: it would be the checksum of the typo, and
        # pasting it would send funds to the mistake.
        raise InputError(field, checksum_failure(text), code="bad_checksum")
    return checksummed


def address_bytes(text: str, *, field: str = "address") -> bytes:
    return bytes.fromhex(normalize_address(text, field=field)[2:])
