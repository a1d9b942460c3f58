"""Bitcoin address validation per network: segwit (BIP-173/350) and legacy base58check.

Base58check is embit's (`embit.base58`, the codec screening uses too); segwit addresses go
through Kinko's own `bech32` module, which says which BIP rule an address breaks.
"""

from __future__ import annotations

from embit import base58

from kinko.chains.bitcoin import bech32
from kinko.chains.bitcoin.networks import NETWORKS, BitcoinNetwork
from kinko.core.errors import InputError


def _b58decode_check(text: str, field: str) -> bytes:
    bad = next((ch for ch in text if ch not in base58.B58_DIGITS), None)
    if bad is not None:
        raise InputError(field, f"character {bad!r} is not in the base58 alphabet")
    try:
        return bytes(base58.decode_check(text))
    except ValueError:
        raise InputError(
            field,
            "base58 checksum does not match: a character was mistyped or altered; copy the "
            "address again from its source",
        ) from None


def script_pubkey(address: str, net: BitcoinNetwork, field: str = "address") -> bytes:
    """The output script `address` pays to on `net`, or an InputError saying what is wrong."""
    if not isinstance(address, str) or not address:
        raise InputError(field, "must be a non-empty Bitcoin address")
    lowered = address.lower()
    if lowered.startswith(net.hrp + "1"):
        version, program = bech32.decode_segwit(net.hrp, address, field)
        return bytes([version + 0x50 if version else 0, len(program)]) + program
    if any(lowered.startswith(n.hrp + "1") for n in NETWORKS.values()):
        raise InputError(field, f"{address!r} is not a {net.name} address", code="wrong_network")
    if "1" in lowered[:5] and all(c in bech32.CHARSET + "1" for c in lowered):
        # Looks like bech32 with an unknown prefix: let the decoder name the problem.
        bech32.decode_segwit(net.hrp, address, field)
    payload = _b58decode_check(address, field)
    if len(payload) != 21:
        raise InputError(field, "a base58 address carries 21 bytes")
    version, body = payload[0], payload[1:]
    if version == net.p2pkh:
        return b"\x76\xa9\x14" + body + b"\x88\xac"
    if version == net.p2sh:
        return b"\xa9\x14" + body + b"\x87"
    raise InputError(field, f"{address!r} is not a {net.name} address", code="wrong_network")


def normalize(address: str, net: BitcoinNetwork, field: str = "address") -> str:
    """Canonical form: segwit addresses lower-case; base58 addresses unchanged."""
    script_pubkey(address, net, field)
    return address.lower() if address.lower().startswith(net.hrp + "1") else address


def address_of(script: bytes, net: BitcoinNetwork) -> str | None:
    """The address an output script pays to on `net`, or None for non-standard scripts."""
    if len(script) >= 4 and script[1] == len(script) - 2 and 2 <= script[1] <= 40:
        if script[0] == 0 and script[1] in (20, 32):
            return bech32.encode_segwit(net.hrp, 0, script[2:])
        if 0x51 <= script[0] <= 0x60:
            return bech32.encode_segwit(net.hrp, script[0] - 0x50, script[2:])
    if len(script) == 25 and script[:3] == b"\x76\xa9\x14" and script[23:] == b"\x88\xac":
        return str(base58.encode_check(bytes([net.p2pkh]) + script[3:23]))
    if len(script) == 23 and script[:2] == b"\xa9\x14" and script[22:] == b"\x87":
        return str(base58.encode_check(bytes([net.p2sh]) + script[2:22]))
    return None
