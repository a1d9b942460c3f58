"""Proof of control of a reserve address, as the offline verifier checks it (pure; standard
library and `cryptography` only).

The statement an address's key signs binds the snapshot to the address::

    Kinko proof of reserves: control of a reserve address\\n
    snapshot: <snapshot id>\\n
    nonce: <nonce hex>\\n
    roots: <SHA-256 of the snapshot's canonical roots, hex>\\n
    chain: ethereum\\n
    address: <0x + 40 lower-case hex>\\n

Ethereum: an EIP-191 ``personal_sign`` of that text (version 0x45: the signed digest is
``keccak256("\\x19Ethereum Signed Message:\\n" || len(text) || text)``), 65 bytes
``r || s || v``. The proof carries the signer's public key (64 bytes, uncompressed, no
prefix), so the verifier needs no public-key recovery: the address must be the last 20
bytes of ``keccak256(public key)``, and the signature must verify under that key with
`cryptography`'s ECDSA over secp256k1. Keccak-256 (the original Keccak padding, not
NIST SHA3-256, which `hashlib` has) is written out below: it hashes public data only.

Bitcoin: a BIP-322 signature of that text (`kinko.reserves.bip322`: P2WPKH, P2TR key path,
P2WSH multisig, as ``smp``/``ful`` + base64, the text wallets print). It carries no public
key (the witness does); the address's scriptPubKey is what is signed for. It must be valid
at time 0 and age 0 (or an nSequence with BIP-68's disable flag, as PSBT signers write):
a signature with a time lock proves nothing at the snapshot.
"""

from __future__ import annotations

from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed, encode_dss_signature

from kinko.core.errors import IntegrityError
from kinko.reserves import bip322

HEADLINE = "Kinko proof of reserves: control of a reserve address"
SCHEMES = {"ethereum": "eip191", "bitcoin": "bip322"}
CHAINS = tuple(SCHEMES)
SCHEME = SCHEMES["ethereum"]
NO_AGE_FLAG = 1 << 31
"""BIP-68: an nSequence with this bit set is no relative time lock."""
MAX_BIP322 = 8000
"""The longest BIP-322 signature text accepted (a 15-of-15 P2WSH one is about 2.8 KB)."""
SIGNATURE_SIZE = 65
PUBLIC_KEY_SIZE = 64
_ORDER = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141

_MASK = (1 << 64) - 1
_ROUNDS = [
    0x0000000000000001, 0x0000000000008082, 0x800000000000808A, 0x8000000080008000,
    0x000000000000808B, 0x0000000080000001, 0x8000000080008081, 0x8000000000008009,
    0x000000000000008A, 0x0000000000000088, 0x0000000080008009, 0x000000008000000A,
    0x000000008000808B, 0x800000000000008B, 0x8000000000008089, 0x8000000000008003,
    0x8000000000008002, 0x8000000000000080, 0x000000000000800A, 0x800000008000000A,
    0x8000000080008081, 0x8000000000008080, 0x0000000080000001, 0x8000000080008008,
]  # fmt: skip
_ROTATIONS = [
    [0, 36, 3, 41, 18],
    [1, 44, 10, 45, 2],
    [62, 6, 43, 15, 61],
    [28, 55, 25, 21, 56],
    [27, 20, 39, 8, 14],
]


def _rotl(value: int, shift: int) -> int:
    return ((value << shift) | (value >> (64 - shift))) & _MASK if shift else value


def _permute(lanes: list[list[int]]) -> None:
    """Keccak-f[1600] on 5x5 lanes of 64 bits, ``lanes[x][y]``."""
    for constant in _ROUNDS:
        c = [lanes[x][0] ^ lanes[x][1] ^ lanes[x][2] ^ lanes[x][3] ^ lanes[x][4] for x in range(5)]
        d = [c[(x - 1) % 5] ^ _rotl(c[(x + 1) % 5], 1) for x in range(5)]
        for x in range(5):
            for y in range(5):
                lanes[x][y] ^= d[x]
        b = [[0] * 5 for _ in range(5)]
        for x in range(5):
            for y in range(5):
                b[y][(2 * x + 3 * y) % 5] = _rotl(lanes[x][y], _ROTATIONS[x][y])
        for x in range(5):
            for y in range(5):
                lanes[x][y] = b[x][y] ^ (~b[(x + 1) % 5][y] & b[(x + 2) % 5][y])
        lanes[0][0] ^= constant


def keccak256(data: bytes) -> bytes:
    """Keccak-256 as Ethereum uses it (rate 136 bytes, padding 0x01 ... 0x80)."""
    rate = 136
    padded = bytearray(data)
    padded.append(0x01)
    padded.extend(bytes(-len(padded) % rate))
    padded[-1] |= 0x80
    lanes = [[0] * 5 for _ in range(5)]
    for start in range(0, len(padded), rate):
        block = padded[start : start + rate]
        for i in range(rate // 8):
            lanes[i % 5][i // 5] ^= int.from_bytes(block[8 * i : 8 * i + 8], "little")
        _permute(lanes)
    return b"".join(lanes[i % 5][i // 5].to_bytes(8, "little") for i in range(4))


def statement(snapshot_id: str, nonce: bytes, roots_digest: bytes, chain: str, address: str) -> str:
    """The text an address's key signs for one snapshot (see the module's docstring)."""
    return (
        f"{HEADLINE}\nsnapshot: {snapshot_id}\nnonce: {nonce.hex()}\n"
        f"roots: {roots_digest.hex()}\nchain: {chain}\naddress: {address}\n"
    )


def eip191_digest(text: str) -> bytes:
    message = text.encode()
    return keccak256(b"\x19Ethereum Signed Message:\n" + str(len(message)).encode() + message)


def normal_address(value: object, where: str) -> str:
    """An Ethereum address as 0x and 40 lower-case hex digits (any case accepted)."""
    if not isinstance(value, str) or len(value) != 42 or value[:2] != "0x":
        raise IntegrityError(f"{where} must be an Ethereum address (0x and 40 hex digits)")
    try:
        bytes.fromhex(value[2:])
    except ValueError:
        raise IntegrityError(
            f"{where} must be an Ethereum address (0x and 40 hex digits)"
        ) from None
    return value.lower()


def bitcoin_address(value: object, where: str) -> str:
    """A native segwit address, lower case, that the BIP-322 verifier handles."""
    if not isinstance(value, str) or not value or len(value) > 90:
        raise IntegrityError(f"{where} must be a Bitcoin segwit address (bc1, tb1, bcrt1)")
    try:
        bip322.script_pubkey(value)
    except IntegrityError as exc:
        raise IntegrityError(f"{where}: {exc.message}") from None
    return value.lower()


def bip322_text(value: object, where: str) -> bytes:
    """A BIP-322 signature's text (``smp``/``ful`` + base64) as stored: ASCII bytes."""
    if not isinstance(value, str) or not value.isascii() or not 0 < len(value) <= MAX_BIP322:
        raise IntegrityError(
            f"{where} must be a BIP-322 signature (smp or ful, then base64), at most "
            f"{MAX_BIP322} characters"
        )
    return value.encode()


@dataclass(frozen=True, slots=True)
class Control:
    """One address's signed statement for a snapshot. Ethereum: the 64-byte public key and
    the 65-byte signature; Bitcoin: no public key, the BIP-322 signature's ASCII text."""

    chain: str
    address: str
    public_key: bytes
    signature: bytes

    def to_json(self) -> dict[str, object]:
        if self.chain == "bitcoin":
            return {
                "chain": self.chain,
                "address": self.address,
                "scheme": SCHEMES[self.chain],
                "signature": self.signature.decode("ascii"),
            }
        return {
            "chain": self.chain,
            "address": self.address,
            "scheme": SCHEME,
            "public_key": self.public_key.hex(),
            "signature": self.signature.hex(),
        }


def _check_bitcoin(control: Control, text: str, where: str) -> None:
    address = bitcoin_address(control.address, where)
    if control.public_key:
        raise IntegrityError(f"{where}: a BIP-322 proof carries no separate public key")
    signature = bip322_text(control.signature.decode("latin-1"), f"{where}: the signature")
    try:
        valid = bip322.verify(address, text.encode(), signature.decode())
    except IntegrityError as exc:
        raise IntegrityError(f"{where}: {exc.message}") from None
    if valid.lock_time or not (valid.sequence == 0 or valid.sequence & NO_AGE_FLAG):
        raise IntegrityError(
            f"{where}: the signature is valid only from time {valid.lock_time} and age "
            f"{valid.sequence}; a proof of control must have neither (time 0; age 0, or "
            "nSequence with BIP-68's disable flag)"
        )


def check(control: Control, snapshot_id: str, nonce: bytes, roots_digest: bytes) -> None:
    """IntegrityError unless ``control`` is the address's signature of this snapshot."""
    where = f"control of {control.address}"
    if control.chain not in CHAINS:
        raise IntegrityError(f"{where}: chain {control.chain!r} has no proof of control here")
    if control.chain == "bitcoin":
        address = control.address.lower()
        text = statement(snapshot_id, nonce, roots_digest, "bitcoin", address)
        return _check_bitcoin(control, text, where)
    address = normal_address(control.address, where)
    if len(control.public_key) != PUBLIC_KEY_SIZE or len(control.signature) != SIGNATURE_SIZE:
        raise IntegrityError(f"{where}: a 64-byte public key and a 65-byte signature are needed")
    if "0x" + keccak256(control.public_key)[-20:].hex() != address:
        raise IntegrityError(f"{where}: the public key is not this address's")
    r = int.from_bytes(control.signature[:32], "big")
    s = int.from_bytes(control.signature[32:64], "big")
    if not (0 < r < _ORDER and 0 < s < _ORDER):
        raise IntegrityError(f"{where}: the signature's r or s is out of range")
    try:
        key = ec.EllipticCurvePublicKey.from_encoded_point(
            ec.SECP256K1(), b"\x04" + control.public_key
        )
        digest = eip191_digest(statement(snapshot_id, nonce, roots_digest, control.chain, address))
        key.verify(encode_dss_signature(r, s), digest, ec.ECDSA(Prehashed(hashes.SHA256())))
    except (InvalidSignature, ValueError):
        raise IntegrityError(
            f"{where}: the signature is not this address's statement for snapshot {snapshot_id}"
        ) from None
