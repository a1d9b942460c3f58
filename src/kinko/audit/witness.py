"""A witness: remembers the last checkpoint it saw, cosigns newer consistent ones.

Run by internal audit or a regulator against an exported tlog-tiles directory. Standard
library and `cryptography` only. The state file holds the last log-signed checkpoint the
witness accepted; a new checkpoint is cosigned (C2SP tlog-cosignature v1) only if a
consistency proof, computed from the directory's tiles, links it to that state.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from kinko.audit import merkle
from kinko.audit.checkpoint import Checkpoint, verify_checkpoint
from kinko.audit.cosignature import add_signature, cosign
from kinko.audit.note import ALG_COSIGNATURE_V1, Signer, parse_note
from kinko.audit.tiles import TileHashes, TileReader
from kinko.audit.verify import load_checkpoint_text
from kinko.core.errors import InputError, IntegrityError


@dataclass(frozen=True, slots=True)
class CosignResult:
    checkpoint: Checkpoint
    previous: Checkpoint | None
    cosigned_note: str


def check_update(old: Checkpoint | None, new: Checkpoint, proof: list[bytes]) -> None:
    """Pure rule: accept `new` only if it extends `old` (RFC 9162 §2.1.4.2)."""
    if old is None:
        return
    if new.size < old.size:
        raise IntegrityError(
            f"checkpoint size {new.size} is smaller than the {old.size} already witnessed"
        )
    merkle.verify_consistency(old.size, new.size, proof, old.root_hash, new.root_hash)


def cosign_directory(
    directory: Path, log_vkey: str, witness_skey: str, state_path: Path, now: int
) -> CosignResult:
    """Verify DIR's checkpoint against the state, cosign it in place, advance the state."""
    signer = Signer.parse(witness_skey)
    if signer.alg != ALG_COSIGNATURE_V1:
        raise InputError("key", "not a witness key: create one with 'kinko audit witness init'")
    note_text = load_checkpoint_text(directory)
    new = verify_checkpoint(note_text, log_vkey)
    old: Checkpoint | None = None
    if state_path.exists():
        old = verify_checkpoint(state_path.read_text(encoding="utf-8"), log_vkey)
    proof: list[bytes] = []
    if old is not None and 0 < old.size < new.size:
        hashes = TileHashes(TileReader(directory), new.size)
        proof = merkle.build_proof(merkle.consistency_ranges(old.size, new.size), hashes.lookup)
    check_update(old, new, proof)
    signature = cosign(parse_note(note_text), signer, now)
    cosigned = add_signature(note_text, signature)
    _replace(directory / "checkpoint", cosigned)
    log_signed_only = parse_note(note_text)
    _replace(state_path, log_signed_only.render())
    return CosignResult(new, old, cosigned)


def _replace(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)
