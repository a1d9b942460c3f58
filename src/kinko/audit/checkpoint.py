"""C2SP tlog-checkpoint (c2sp.org/tlog-checkpoint): the signed tree head.

Body: origin line, decimal tree size, base64 root hash, each newline-terminated, then
optional extension lines; signed as a C2SP signed note. Standard library and
`cryptography` only.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass

from kinko.audit.merkle import HASH_SIZE
from kinko.audit.note import Signer, Verifier, open_note, sign_note
from kinko.core.errors import InputError, IntegrityError


@dataclass(frozen=True, slots=True)
class Checkpoint:
    origin: str
    size: int
    root_hash: bytes

    def body(self) -> str:
        """The note text: origin, size and root lines (tlog-checkpoint "Note text")."""
        root = base64.b64encode(self.root_hash).decode()
        return f"{self.origin}\n{self.size}\n{root}\n"


def parse_body(text: str) -> Checkpoint:
    """Parse the checkpoint note text; extension lines after the root are allowed."""
    lines = text.split("\n")
    if len(lines) < 4 or lines[-1] != "":
        raise IntegrityError("checkpoint must have an origin, a size and a root hash line")
    origin, size_text, root_text = lines[0], lines[1], lines[2]
    if not origin:
        raise IntegrityError("checkpoint origin line is empty")
    if (
        not size_text.isdigit()
        or not size_text.isascii()
        or (len(size_text) > 1 and size_text[0] == "0")
    ):
        raise IntegrityError(
            f"checkpoint size {size_text!r} is not a decimal without leading zeros"
        )
    try:
        root = base64.b64decode(root_text, validate=True)
    except binascii.Error as exc:
        raise IntegrityError("checkpoint root hash is not valid base64") from exc
    if len(root) != HASH_SIZE:
        raise IntegrityError(f"checkpoint root hash is {len(root)} bytes; it must be 32")
    return Checkpoint(origin=origin, size=int(size_text), root_hash=root)


def sign_checkpoint(checkpoint: Checkpoint, signer: Signer) -> str:
    return sign_note(checkpoint.body(), signer)


def verify_checkpoint(
    note_text: str | bytes, vkey_text: str, *, origin: str | None = None
) -> Checkpoint:
    """Verify the log's signature and parse the checkpoint; raise `IntegrityError` if not.

    The origin line must equal `origin`, or by default the key's name: a checkpoint of
    another log signed by the same key is not accepted as this log's.
    """
    try:
        verifier = Verifier.parse(vkey_text)
    except InputError as exc:
        raise InputError("vkey", exc.message) from exc
    note = open_note(note_text, verifier)
    checkpoint = parse_body(note.text)
    expected = origin if origin is not None else verifier.name
    if checkpoint.origin != expected:
        raise IntegrityError(
            f"checkpoint origin {checkpoint.origin!r} is not the expected log {expected!r}"
        )
    return checkpoint
