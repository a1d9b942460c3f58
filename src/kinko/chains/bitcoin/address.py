"""Bitcoin address validation per network: segwit (BIP-173/350) and legacy base58check."""

from __future__ import annotations

import hashlib

from kinko.chains.bitcoin import bech32
from kinko.chains.bitcoin.networks import NETWORKS, BitcoinNetwork
from kinko.core.errors import InputError

_B58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"


def _b58decode_check(text: str, field: str) -> bytes:
    value = 0
    for ch in text:
        index = _B58.find(ch)
        if index < 0:
            raise InputError(field, f"character {ch!r} is not in the base58 alphabet")
        value = value * 58 + index
    raw = value.to_bytes((value.bit_length() + 7) // 8, "big")
    raw = b"\x00" * (len(text) - len(text.lstrip("1"))) + raw
    payload, checksum = raw[:-4], raw[-4:]
    if len(raw) < 5 or hashlib.sha256(hashlib.sha256(payload).digest()).digest()[:4] != checksum:
        raise InputError(
            field,
            "base58 checksum does not match: a character was mistyped or altered; copy the "
            "address again from its source",
        )
    return payload


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


def _b58encode_check(payload: bytes) -> str:
    raw = payload + hashlib.sha256(hashlib.sha256(payload).digest()).digest()[:4]
    value = int.from_bytes(raw, "big")
    out = ""
    while value:
        value, rem = divmod(value, 58)
        out = _B58[rem] + out
    return "1" * (len(raw) - len(raw.lstrip(b"\x00"))) + out


def address_of(script: bytes, net: BitcoinNetwork) -> str | None:
    """The address an output script pays to on `net`, or None for non-standard scripts."""
    if len(script) >= 4 and script[1] == len(script) - 2 and 2 <= script[1] <= 40:
        if script[0] == 0 and script[1] in (20, 32):
            return bech32.encode_segwit(net.hrp, 0, script[2:])
        if 0x51 <= script[0] <= 0x60:
            return bech32.encode_segwit(net.hrp, script[0] - 0x50, script[2:])
    if len(script) == 25 and script[:3] == b"\x76\xa9\x14" and script[23:] == b"\x88\xac":
        return _b58encode_check(bytes([net.p2pkh]) + script[3:23])
    if len(script) == 23 and script[:2] == b"\xa9\x14" and script[22:] == b"\x87":
        return _b58encode_check(bytes([net.p2sh]) + script[2:22])
    return None
