"""Segwit addresses and Bitcoin's serialisation, for the offline BIP-322 verifier (pure;
standard library only).

`script_pubkey` decodes a BIP-173 (Bech32, witness v0) or BIP-350 (Bech32m, v1 and up)
address of mainnet, testnet/signet or regtest. Kinko's own codec
(`kinko.chains.bitcoin.bech32`) says more about a mistyped address, but its package pulls
in embit and BDK, which the offline verifier must not import; a test checks that both
accept and refuse the same addresses.
"""

from __future__ import annotations

from kinko.core.errors import IntegrityError

HRPS = ("bc", "tb", "bcrt")
_CHARSET = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"
_GENERATORS = (0x3B6A57B2, 0x26508E6D, 0x1EA119FA, 0x3D4233DD, 0x2A1462B3)
_BECH32M = 0x2BC830A3


class NotSegwit(IntegrityError):
    """A legacy (base58) or foreign address: not one this verifier handles."""


def _polymod(values: list[int]) -> int:
    chk = 1
    for value in values:
        top, chk = chk >> 25, (chk & 0x1FFFFFF) << 5 ^ value
        for i, generator in enumerate(_GENERATORS):
            chk ^= generator if top >> i & 1 else 0
    return chk


def script_pubkey(address: str) -> bytes:
    """The scriptPubKey a segwit address pays to; IntegrityError says what is wrong."""
    text, pos = address.lower(), address.rfind("1")
    hrp = text[:pos]
    if hrp not in HRPS:
        raise NotSegwit(f"{address!r} is not a native segwit address (bc1, tb1, bcrt1)")
    if text != address and address.upper() != address:
        raise IntegrityError(f"address {address!r} mixes upper and lower case")
    data = [_CHARSET.find(c) for c in text[pos + 1 :]]
    if len(text) > 90 or len(data) < 7 or -1 in data:
        raise IntegrityError(f"address {address!r} is not Bech32")
    chk = _polymod([ord(c) >> 5 for c in hrp] + [0] + [ord(c) & 31 for c in hrp] + data)
    acc, bits, program = 0, 0, bytearray()
    for value in data[1:-6]:  # 5-bit groups to bytes, no padding allowed past 4 zero bits
        acc, bits = acc << 5 | value, bits + 5
        if bits >= 8:
            bits -= 8
            program.append(acc >> bits & 0xFF)
    version = data[0]
    if chk != (1 if version == 0 else _BECH32M) or bits >= 5 or acc & (1 << bits) - 1:
        raise IntegrityError(f"address {address!r}: its checksum or padding is wrong")
    size = len(program)
    if version > 16 or not 2 <= size <= 40 or (version == 0 and size not in (20, 32)):
        raise IntegrityError(f"address {address!r}: not a valid witness program")
    return bytes([version + 0x50 if version else 0, size]) + program


def compact(n: int) -> bytes:
    """Bitcoin's CompactSize."""
    if n < 0xFD:
        return bytes([n])
    return b"\xfd" + n.to_bytes(2, "little") if n <= 0xFFFF else b"\xfe" + n.to_bytes(4, "little")


def vector(items: list[bytes]) -> bytes:
    """A vector of byte strings (a witness stack), consensus-encoded."""
    return compact(len(items)) + b"".join(compact(len(i)) + i for i in items)


class Reader:
    """Strict reading of consensus-encoded bytes: a short read raises, never pads."""

    def __init__(self, data: bytes, what: str) -> None:
        self.data, self.at, self.what = data, 0, what

    def take(self, size: int) -> bytes:
        if self.at + size > len(self.data):
            raise IntegrityError(f"the {self.what} is truncated")
        out, self.at = self.data[self.at : self.at + size], self.at + size
        return out

    def number(self, size: int) -> int:
        return int.from_bytes(self.take(size), "little")

    def compact(self) -> int:
        first = self.number(1)
        size = {0xFD: 2, 0xFE: 4, 0xFF: 8}.get(first)
        if size is None:
            return first
        value = self.number(size)
        if value < {2: 0xFD, 4: 0x10000, 8: 0x100000000}[size]:
            raise IntegrityError(f"the {self.what} has a non-canonical CompactSize")
        return value

    def stack(self) -> list[bytes]:
        return [self.take(self.compact()) for _ in range(self.compact())]

    def end(self) -> None:
        if self.at != len(self.data):
            extra = len(self.data) - self.at
            raise IntegrityError(f"{extra} bytes after the end of the {self.what}")
