"""C2SP signed-note (c2sp.org/signed-note): keys, signing and verification.

Standard library and `cryptography` only (the offline verifier imports it).

Key texts follow golang.org/x/mod/sumdb/note:
  signer key   ``PRIVATE+KEY+<name>+<hex key id>+base64(type || 32-byte seed)``
  verifier key ``<name>+<hex key id>+base64(type || 32-byte public key)``
with key id = SHA-256(name || 0x0A || type || public key)[:4] (signed-note "Signatures").
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    PublicFormat,
)

from kinko.core.errors import InputError, IntegrityError

ALG_ED25519 = 0x01
"""signed-note "Signature types": Ed25519 over the note text."""
ALG_COSIGNATURE_V1 = 0x04
"""tlog-cosignature: timestamped Ed25519 witness cosignatures."""
EM_DASH = "\u2014"
MAX_SIGNATURES = 100


@dataclass(frozen=True, slots=True)
class Verifier:
    name: str
    key_id: bytes
    alg: int
    public_key: bytes

    @classmethod
    def parse(cls, text: str) -> Verifier:
        """Parse a verifier key text; raises `InputError` naming what is wrong."""
        parts = text.strip().split("+", 2)  # the base64 key may itself contain '+'
        if len(parts) != 3:
            raise InputError("vkey", "a verifier key is <name>+<hex key id>+<base64 key>")
        name, hex_id, b64 = parts
        _check_name(name)
        key = _b64("vkey", b64)
        if len(key) != 33 or key[0] not in (ALG_ED25519, ALG_COSIGNATURE_V1):
            raise InputError("vkey", "only Ed25519 keys (type 0x01 or 0x04) are supported")
        verifier = cls(
            name=name, key_id=key_id(name, key[0], key[1:]), alg=key[0], public_key=key[1:]
        )
        if hex_id != verifier.key_id.hex():
            raise InputError(
                "vkey", f"key id {hex_id} does not match the key ({verifier.key_id.hex()})"
            )
        return verifier

    def text(self) -> str:
        material = base64.b64encode(bytes([self.alg]) + self.public_key).decode()
        return f"{self.name}+{self.key_id.hex()}+{material}"

    def check(self, message: bytes, signature: bytes) -> bool:
        try:
            Ed25519PublicKey.from_public_bytes(self.public_key).verify(signature, message)
        except InvalidSignature:
            return False
        return True


@dataclass(frozen=True, slots=True)
class Signer:
    name: str
    key_id: bytes
    alg: int
    seed: bytes

    @classmethod
    def parse(cls, text: str) -> Signer:
        parts = text.strip().split("+", 4)
        if len(parts) != 5 or parts[:2] != ["PRIVATE", "KEY"]:
            raise InputError("skey", "a signer key is PRIVATE+KEY+<name>+<hex id>+<base64 key>")
        name, hex_id, b64 = parts[2:]
        _check_name(name)
        key = _b64("skey", b64)
        if len(key) != 33 or key[0] not in (ALG_ED25519, ALG_COSIGNATURE_V1):
            raise InputError("skey", "only Ed25519 keys (type 0x01 or 0x04) are supported")
        kid = key_id(name, key[0], _public_from_seed(key[1:]))
        if hex_id != kid.hex():
            raise InputError("skey", f"key id {hex_id} does not match the key ({kid.hex()})")
        return cls(name=name, key_id=kid, alg=key[0], seed=key[1:])

    def public_key(self) -> bytes:
        return _public_from_seed(self.seed)

    def verifier(self) -> Verifier:
        return Verifier(self.name, self.key_id, self.alg, self.public_key())

    def text(self) -> str:
        material = base64.b64encode(bytes([self.alg]) + self.seed).decode()
        return f"PRIVATE+KEY+{self.name}+{self.key_id.hex()}+{material}"

    def sign_raw(self, message: bytes) -> bytes:
        return Ed25519PrivateKey.from_private_bytes(self.seed).sign(message)


def key_id(name: str, alg: int, public_key: bytes) -> bytes:
    """signed-note: key ID = SHA-256(key name || 0x0A || signature type || public key)[:4]."""
    return hashlib.sha256(name.encode() + b"\n" + bytes([alg]) + public_key).digest()[:4]


def generate_signer(origin: str, alg: int = ALG_ED25519) -> tuple[str, str]:
    """A fresh Ed25519 key named `origin`: (signer key text, verifier key text)."""
    _check_name(origin)
    seed = Ed25519PrivateKey.generate().private_bytes(
        Encoding.Raw, PrivateFormat.Raw, NoEncryption()
    )
    signer = Signer(origin, key_id(origin, alg, _public_from_seed(seed)), alg, seed)
    return signer.text(), signer.verifier().text()


def _public_from_seed(seed: bytes) -> bytes:
    private = Ed25519PrivateKey.from_private_bytes(seed)
    return private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)


@dataclass(frozen=True, slots=True)
class Signature:
    name: str
    key_id: bytes
    signature: bytes

    def line(self) -> str:
        blob = base64.b64encode(self.key_id + self.signature).decode()
        return f"{EM_DASH} {self.name} {blob}\n"


@dataclass(frozen=True, slots=True)
class Note:
    text: str
    signatures: tuple[Signature, ...]

    def render(self) -> str:
        return self.text + "\n" + "".join(s.line() for s in self.signatures)


def sign_note(text: str, signer: Signer) -> str:
    """signed-note "Ed25519 signatures": sign the note text (which ends in a newline)."""
    _check_text(text)
    if signer.alg != ALG_ED25519:
        raise InputError("skey", "note signatures need an Ed25519 (type 0x01) key")
    sig = Signature(signer.name, signer.key_id, signer.sign_raw(text.encode()))
    return Note(text, (sig,)).render()


def parse_note(data: str | bytes) -> Note:
    """Split a signed note into text and signature lines (signed-note "Format")."""
    if isinstance(data, bytes):
        try:
            data = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise IntegrityError("signed note is not valid UTF-8") from exc
    if any(ord(ch) < 0x20 and ch != "\n" for ch in data):
        raise IntegrityError("signed note contains control characters")
    split = data.rfind("\n\n")
    if split < 0 or not data.endswith("\n"):
        raise IntegrityError("signed note has no blank line before its signatures")
    text, block = data[: split + 1], data[split + 2 :]
    signatures = []
    for line in block.splitlines():
        prefix = EM_DASH + " "
        if not line.startswith(prefix):
            raise IntegrityError(f"malformed signature line {line!r}")
        name, _, b64 = line[len(prefix) :].partition(" ")
        if not name or " " in b64 or "+" in name:
            raise IntegrityError(f"malformed signature line {line!r}")
        try:
            blob = base64.b64decode(b64, validate=True)
        except binascii.Error as exc:
            raise IntegrityError(f"signature by {name} is not valid base64") from exc
        if len(blob) < 5:
            raise IntegrityError(f"signature by {name} is too short")
        signatures.append(Signature(name, blob[:4], blob[4:]))
    if not signatures:
        raise IntegrityError("signed note has no signatures")
    if len(signatures) > MAX_SIGNATURES:
        raise IntegrityError(f"signed note has more than {MAX_SIGNATURES} signatures")
    return Note(text, tuple(signatures))


def signatures_by(note: Note, verifier: Verifier) -> list[Signature]:
    """Signature lines whose name and key id both match `verifier` (others are ignored)."""
    return [
        s
        for s in note.signatures
        if s.name == verifier.name and hmac.compare_digest(s.key_id, verifier.key_id)
    ]


def open_note(data: str | bytes, verifier: Verifier) -> Note:
    """Verify `verifier`'s Ed25519 signature on the note; return the note or raise.

    Per the spec, a signature from the known key that fails rejects the whole note, and a
    note with no verifying signature from the known key is rejected.
    """
    note = parse_note(data)
    if verifier.alg != ALG_ED25519:
        raise InputError("vkey", "the log's verifier key must be an Ed25519 (type 0x01) key")
    mine = signatures_by(note, verifier)
    if not mine:
        raise IntegrityError(f"note is not signed by {verifier.name}+{verifier.key_id.hex()}")
    for sig in mine:
        if not verifier.check(note.text.encode(), sig.signature):
            raise IntegrityError(f"signature by {verifier.name} does not verify")
    return note


def _b64(field: str, value: str) -> bytes:
    try:
        return base64.b64decode(value, validate=True)
    except binascii.Error as exc:
        raise InputError(field, "key material is not valid base64") from exc


def _check_name(name: str) -> None:
    if not name or "+" in name or any(ch.isspace() for ch in name):
        raise InputError("name", f"key name {name!r} must be non-empty, without spaces or '+'")


def _check_text(text: str) -> None:
    if not text.endswith("\n") or any(ord(ch) < 0x20 and ch != "\n" for ch in text):
        raise InputError("note", "note text must end in a newline and have no control characters")
