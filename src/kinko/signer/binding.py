"""The approval challenge: what an approver's authenticator signs (bundle version 3).

A WebAuthn approval signs a challenge that commits to the withdrawal, not to its digest
alone, so that an approval can never count on another withdrawal, even one whose
transaction hashes to the same digest (an authenticator that reports signature counter 0,
as synced passkeys do, gives the server no way to tell a replayed assertion from a new one):

    challenge = SHA-256(RFC 8785 canonical JSON of
        {"approver": user id, "digest": 64 lower-case hex digits,
         "expires_at": the withdrawal's approval expiry exactly as the withdrawal.decided
                       audit entry records it (RFC 3339, UTC, microseconds, "Z"),
         "nonce": unpadded base64url of the 32 random bytes the server issued to this
                  approver for this withdrawal (single use),
         "type": "kinko.withdrawal-approval.v1",
         "withdrawal": withdrawal id})

Every value is a string, so the canonical form is the members sorted by name, no
whitespace, each value a JSON string (docs/bundle.md shows the bytes). The server issues
the nonce, the signer and `kinko cosign` recompute the challenge from the bundle's
withdrawal id, the recomputed digest, the proven decision entry's expiry and the nonce the
proven approval entry recorded, and verify the assertion against it.
"""

from __future__ import annotations

import base64
import hashlib

from kinko.core.canonical import canonical_json

CHALLENGE_TYPE = "kinko.withdrawal-approval.v1"
NONCE_BYTES = 32


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def challenge_document(
    *, withdrawal_id: str, digest: bytes, expires_at: str, nonce: bytes, approver: str
) -> bytes:
    """The canonical JSON bytes the challenge hashes (shown to people and in the docs)."""
    if len(digest) != 32:
        raise ValueError(f"a digest is 32 bytes, got {len(digest)}")
    if len(nonce) != NONCE_BYTES:
        raise ValueError(f"an approval nonce is {NONCE_BYTES} bytes, got {len(nonce)}")
    return canonical_json(
        {
            "approver": approver,
            "digest": digest.hex(),
            "expires_at": expires_at,
            "nonce": _b64url(nonce),
            "type": CHALLENGE_TYPE,
            "withdrawal": withdrawal_id,
        }
    )


def approval_challenge(
    *, withdrawal_id: str, digest: bytes, expires_at: str, nonce: bytes, approver: str
) -> bytes:
    """The 32-byte WebAuthn challenge for one approval of one withdrawal."""
    return hashlib.sha256(
        challenge_document(
            withdrawal_id=withdrawal_id,
            digest=digest,
            expires_at=expires_at,
            nonce=nonce,
            approver=approver,
        )
    ).digest()


__all__ = ["CHALLENGE_TYPE", "NONCE_BYTES", "approval_challenge", "challenge_document"]
