"""Audit-log proofs as the signer checks them: a checkpoint signed by the known log key and
RFC 9162 inclusion proofs of the bundle's entries in it.

The verification itself is the audit component's (`kinko.audit.checkpoint`,
`kinko.audit.merkle`); this module only adapts it to the bundle's `AuditProof`.
"""

from __future__ import annotations

from dataclasses import dataclass

from kinko.audit.checkpoint import verify_checkpoint
from kinko.audit.merkle import leaf_hash, verify_inclusion
from kinko.core.errors import IntegrityError, KinkoError
from kinko.signer.bundle import AuditProof


@dataclass(frozen=True, slots=True)
class TrustedCheckpoint:
    size: int
    root_hash: bytes


def verify_checkpoint_note(note: str, log_vkey: str) -> TrustedCheckpoint:
    """Verify the checkpoint's signature by `log_vkey`; raise IntegrityError if it fails."""
    try:
        checkpoint = verify_checkpoint(note, log_vkey)
    except KinkoError as exc:
        raise IntegrityError(
            f"the bundle's audit checkpoint is not signed by the known log key: {exc.message}",
            code="checkpoint_invalid",
        ) from None
    return TrustedCheckpoint(size=checkpoint.size, root_hash=checkpoint.root_hash)


def verify_entry_included(checkpoint: TrustedCheckpoint, proof: AuditProof, what: str) -> None:
    """Check that `proof.entry` is leaf `proof.index` of the checkpoint's tree."""
    try:
        verify_inclusion(
            leaf_hash(proof.entry), proof.index, checkpoint.size, proof.hashes, checkpoint.root_hash
        )
    except IntegrityError as exc:
        raise IntegrityError(f"audit proof for {what}: {exc.message}") from None
