"""C2SP tlog-cosignature v1: timestamped Ed25519 witness cosignatures on checkpoints.

Signed message (tlog-cosignature "Ed25519 signed message"):
``cosignature/v1\\ntime <timestamp>\\n`` followed by the checkpoint note text. The
signature is the `timestamped_signature` struct: u64 big-endian timestamp || 64-byte
Ed25519 signature, behind the 4-byte key id (key type 0x04). Standard library and
`cryptography` only.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from dataclasses import dataclass

from kinko.audit.note import (
    ALG_COSIGNATURE_V1,
    Note,
    Signature,
    Signer,
    Verifier,
    parse_note,
    signatures_by,
)
from kinko.core.errors import InputError, IntegrityError

MAX_TIMESTAMP = 2**63 - 1


def cosigned_message(note_text: str, timestamp: int) -> bytes:
    return f"cosignature/v1\ntime {timestamp}\n".encode() + note_text.encode()


def cosign(note: Note, signer: Signer, timestamp: int) -> Signature:
    """A witness's cosignature line on the checkpoint `note` at POSIX time `timestamp`."""
    if signer.alg != ALG_COSIGNATURE_V1:
        raise InputError("witness key", "a witness key must be a cosignature/v1 (0x04) key")
    if not 0 <= timestamp <= MAX_TIMESTAMP:
        raise InputError("timestamp", "must be between 0 and 2^63-1")
    signature = signer.sign_raw(cosigned_message(note.text, timestamp))
    return Signature(signer.name, signer.key_id, struct.pack(">Q", timestamp) + signature)


def add_signature(note_text: str, signature: Signature) -> str:
    """Append a signature line to a signed note, replacing an older one by the same key."""
    note = parse_note(note_text)
    kept = tuple(
        s for s in note.signatures if (s.name, s.key_id) != (signature.name, signature.key_id)
    )
    return Note(note.text, (*kept, signature)).render()


@dataclass(frozen=True, slots=True)
class Cosigned:
    witness: str
    timestamp: int


def verify_cosignatures(
    note_text: str | bytes,
    witnesses: Sequence[Verifier],
    threshold: int,
    *,
    now: int | None = None,
) -> list[Cosigned]:
    """Require valid cosignatures from at least `threshold` distinct witnesses.

    A cosignature from a configured witness that fails to verify rejects the note;
    timestamps later than `now` (POSIX seconds) are rejected when `now` is given.
    """
    if threshold < 1:
        raise InputError("witness-threshold", "must be at least 1 when witnesses are required")
    ids = [(w.name, w.key_id) for w in witnesses]
    if len(set(ids)) != len(ids):
        raise InputError("witness", "the same witness key is listed twice")
    if threshold > len(witnesses):
        raise InputError(
            "witness-threshold", f"{threshold} exceeds the {len(witnesses)} witness keys given"
        )
    for w in witnesses:
        if w.alg != ALG_COSIGNATURE_V1:
            raise InputError("witness", f"{w.name}: not a cosignature/v1 (type 0x04) key")
    note = parse_note(note_text)
    good: list[Cosigned] = []
    for witness in witnesses:
        for sig in signatures_by(note, witness):
            if len(sig.signature) != 8 + 64:
                raise IntegrityError(f"cosignature by {witness.name} has the wrong length")
            (timestamp,) = struct.unpack(">Q", sig.signature[:8])
            if timestamp > MAX_TIMESTAMP:
                raise IntegrityError(f"cosignature by {witness.name} has an invalid timestamp")
            if now is not None and timestamp > now:
                raise IntegrityError(f"cosignature by {witness.name} is dated in the future")
            if not witness.check(cosigned_message(note.text, timestamp), sig.signature[8:]):
                raise IntegrityError(f"cosignature by {witness.name} does not verify")
            good.append(Cosigned(witness.name, timestamp))
            break
    if len(good) < threshold:
        raise IntegrityError(f"checkpoint cosigned by {len(good)}/{threshold} required witnesses")
    return good
