"""Encryption of secrets at rest (TOTP seeds) with the data directory's secret key.

AES-256-GCM (NIST SP 800-38D) with a random 96-bit nonce; the associated data binds a
ciphertext to its purpose and row, so a seed copied to another row does not decrypt.
A missing or malformed key file is refused: nothing is stored in clear instead.
"""

from __future__ import annotations

import os
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from kinko.core.errors import IntegrityError, Unavailable
from kinko.core.secretfile import read_private

KEY_BYTES = 32
NONCE_BYTES = 12
VERSION = b"\x01"


class SecretBox:
    def __init__(self, key: bytes) -> None:
        if len(key) != KEY_BYTES:
            raise Unavailable(f"the secret key must be {KEY_BYTES} bytes, got {len(key)}")
        self._aead = AESGCM(key)

    @classmethod
    def from_file(cls, path: Path) -> SecretBox:
        if not path.is_file():
            raise Unavailable(
                f"cannot read the secret key {path} (it is missing); run 'kinko init' or "
                "restore the key file"
            )
        return cls(read_private(path, field="secret_key_path"))

    def seal(self, plaintext: bytes, *, context: str) -> bytes:
        nonce = os.urandom(NONCE_BYTES)
        return VERSION + nonce + self._aead.encrypt(nonce, plaintext, context.encode())

    def open(self, sealed: bytes, *, context: str) -> bytes:
        if sealed[:1] != VERSION or len(sealed) < 1 + NONCE_BYTES + 16:
            raise IntegrityError("a sealed secret has an unknown format")
        nonce, body = sealed[1 : 1 + NONCE_BYTES], sealed[1 + NONCE_BYTES :]
        try:
            return self._aead.decrypt(nonce, body, context.encode())
        except InvalidTag:
            raise IntegrityError(
                "a sealed secret does not decrypt: wrong secret key or tampered row"
            ) from None
