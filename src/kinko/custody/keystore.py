"""Encrypted files for online (hot) key shares, behind a `Keystore` protocol.

Each share is one JSON file: scrypt (RFC 7914) derives a 256-bit key from the passphrase
and a random salt; AES-256-GCM (NIST SP 800-38D) encrypts the secret with a random
96-bit nonce and the key id as associated data, so a file copied under another key id
does not decrypt. Passphrases come from a file or an environment variable, are held in a
`Passphrase` whose repr never shows them, and are never logged or audited. A PKCS#11
token can implement the same protocol later.
"""

from __future__ import annotations

import json
import os
import re
import secrets
from pathlib import Path
from typing import Protocol

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

from kinko.core.errors import InputError, IntegrityError, NotFound

FORMAT = "kinko-keystore-v1"
_KEY_ID = re.compile(r"^[A-Za-z0-9_.-]{1,100}$")


class Passphrase:
    """A secret string that does not print itself."""

    __slots__ = ("_value",)

    def __init__(self, value: bytes) -> None:
        if len(value) < 12:
            raise InputError("passphrase", "must be at least 12 bytes long")
        self._value = value

    @classmethod
    def from_env(cls, name: str) -> Passphrase:
        value = os.environ.get(name)
        if not value:
            raise InputError("passphrase", f"environment variable {name} is not set or empty")
        return cls(value.encode("utf-8"))

    @classmethod
    def from_file(cls, path: Path) -> Passphrase:
        try:
            raw = path.read_bytes()
        except OSError as exc:
            raise InputError("passphrase", f"cannot read {path}: {exc.strerror}") from None
        return cls(raw.rstrip(b"\r\n"))

    def reveal(self) -> bytes:
        return self._value

    def __repr__(self) -> str:
        return "Passphrase(***)"

    __str__ = __repr__


class Keystore(Protocol):
    def store(self, key_id: str, secret: bytes, passphrase: Passphrase) -> None: ...

    def load(self, key_id: str, passphrase: Passphrase) -> bytes: ...

    def key_ids(self) -> list[str]: ...


class FileKeystore:
    """scrypt + AES-256-GCM files in one directory (mode 0700, files 0600)."""

    def __init__(self, directory: Path, *, scrypt_n: int = 2**17) -> None:
        self.directory = directory
        self.scrypt_n = scrypt_n

    def _path(self, key_id: str) -> Path:
        if not _KEY_ID.match(key_id):
            raise InputError("key_id", "use 1-100 letters, digits, '.', '_' or '-'")
        return self.directory / f"{key_id}.json"

    @staticmethod
    def _kdf(passphrase: Passphrase, salt: bytes, n: int, r: int, p: int) -> bytes:
        return Scrypt(salt=salt, length=32, n=n, r=r, p=p).derive(passphrase.reveal())

    def store(self, key_id: str, secret: bytes, passphrase: Passphrase) -> None:
        path = self._path(key_id)
        if path.exists():
            raise InputError("key_id", f"{key_id} already exists in the keystore")
        salt, nonce = secrets.token_bytes(16), secrets.token_bytes(12)
        key = self._kdf(passphrase, salt, self.scrypt_n, 8, 1)
        sealed = AESGCM(key).encrypt(nonce, secret, key_id.encode("utf-8"))
        document = {
            "format": FORMAT,
            "key_id": key_id,
            "kdf": {"name": "scrypt", "n": self.scrypt_n, "r": 8, "p": 1, "salt": salt.hex()},
            "cipher": {"name": "aes-256-gcm", "nonce": nonce.hex()},
            "ciphertext": sealed.hex(),
        }
        self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(document, handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)

    def load(self, key_id: str, passphrase: Passphrase) -> bytes:
        path = self._path(key_id)
        try:
            document = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise NotFound(f"no key {key_id} in the keystore") from None
        except (OSError, ValueError) as exc:
            raise IntegrityError(f"keystore file for {key_id} is unreadable: {exc}") from None
        try:
            if document["format"] != FORMAT or document["kdf"]["name"] != "scrypt":
                raise IntegrityError(f"keystore file for {key_id} has an unknown format")
            kdf = document["kdf"]
            key = self._kdf(passphrase, bytes.fromhex(kdf["salt"]), kdf["n"], kdf["r"], kdf["p"])
            return AESGCM(key).decrypt(
                bytes.fromhex(document["cipher"]["nonce"]),
                bytes.fromhex(document["ciphertext"]),
                key_id.encode("utf-8"),
            )
        except InvalidTag:
            raise IntegrityError(
                f"cannot open key {key_id}: wrong passphrase, or the file was altered"
            ) from None
        except (KeyError, TypeError, ValueError) as exc:
            raise IntegrityError(f"keystore file for {key_id} is malformed: {exc}") from None

    def key_ids(self) -> list[str]:
        if not self.directory.exists():
            return []
        return sorted(p.stem for p in self.directory.glob("*.json"))


class EthereumV3Keystore:
    """Ethereum "Web3 Secret Storage" v3 files (scrypt KDF) via eth-account.

    Interoperable with geth and other wallets. The file name is the key id; the address
    inside the file must match the secret after decryption, or the file is refused.
    """

    def __init__(self, directory: Path, *, scrypt_n: int = 2**18) -> None:
        self.directory = directory
        self.scrypt_n = scrypt_n

    def _path(self, key_id: str) -> Path:
        if not _KEY_ID.match(key_id):
            raise InputError("key_id", "use 1-100 letters, digits, '.', '_' or '-'")
        return self.directory / f"{key_id}.v3.json"

    def store(self, key_id: str, secret: bytes, passphrase: Passphrase) -> None:
        from eth_account import Account

        path = self._path(key_id)
        if path.exists():
            raise InputError("key_id", f"{key_id} already exists in the keystore")
        document = Account.encrypt(
            secret, passphrase.reveal().decode("utf-8"), kdf="scrypt", iterations=self.scrypt_n
        )
        self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(document, handle)

    def load(self, key_id: str, passphrase: Passphrase) -> bytes:
        from eth_account import Account

        path = self._path(key_id)
        try:
            document = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise NotFound(f"no key {key_id} in the keystore") from None
        except (OSError, ValueError) as exc:
            raise IntegrityError(f"keystore file for {key_id} is unreadable: {exc}") from None
        try:
            secret = bytes(Account.decrypt(document, passphrase.reveal().decode("utf-8")))
        except ValueError:
            raise IntegrityError(
                f"cannot open key {key_id}: wrong passphrase, or the file was altered"
            ) from None
        address = str(document.get("address", "")).lower().removeprefix("0x")
        if address != Account.from_key(secret).address.lower()[2:]:
            raise IntegrityError(f"keystore file for {key_id} names another address")
        return secret

    def key_ids(self) -> list[str]:
        if not self.directory.exists():
            return []
        return sorted(p.name.removesuffix(".v3.json") for p in self.directory.glob("*.v3.json"))
