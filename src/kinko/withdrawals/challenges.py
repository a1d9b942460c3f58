"""Approval challenges: the one-time nonce Kinko issues to one approver for one withdrawal,
and the WebAuthn challenge built from it (`kinko.signer.binding.approval_challenge`).

An approver first asks for a challenge (`POST /v1/withdrawals/{id}/approval-challenge`,
`kinko withdraw challenge ID`), has their authenticator sign it, and sends the assertion.
The challenge commits to the withdrawal id, its digest, its approval expiry, the approver
and a 32-byte random nonce; it is valid for `CHALLENGE_TTL` (never past the withdrawal's
expiry) and is used at most once. An assertion over anything else — the bare digest, or
another withdrawal's challenge even with the same digest — is refused.

Stored in `webauthn_challenges` (purpose ``approval``): the row id is ``apc_`` + the
challenge in base64url (found from the assertion's clientDataJSON in one primary-key
read), and its `challenge` column holds the nonce followed by SHA-256(withdrawal id).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from kinko.core.clock import isoformat
from kinko.core.errors import ApprovalError, Conflict, InputError
from kinko.signer.binding import NONCE_BYTES, approval_challenge, challenge_document
from kinko.signer.bundle import b64url, unb64url
from kinko.store.tables.identity import WebAuthnChallengeRow
from kinko.store.tables.withdrawals import WithdrawalRow

PURPOSE = "approval"
CHALLENGE_TTL = timedelta(minutes=10)
ID_PREFIX = "apc_"
ASSERTION_TIMEOUT_MS = 120_000


@dataclass(frozen=True, slots=True)
class ApprovalChallenge:
    """What an approver's authenticator signs for one approval of one withdrawal."""

    withdrawal_id: str
    approver: str
    digest: str
    expires_at: str
    nonce: bytes
    challenge: bytes
    valid_until: datetime
    rp_id: str
    credential_ids: tuple[bytes, ...] = ()

    @property
    def document(self) -> bytes:
        """The canonical JSON whose SHA-256 is the challenge."""
        return challenge_document(
            withdrawal_id=self.withdrawal_id,
            digest=bytes.fromhex(self.digest),
            expires_at=self.expires_at,
            nonce=self.nonce,
            approver=self.approver,
        )

    def options(self) -> dict[str, Any]:
        """PublicKeyCredentialRequestOptionsJSON for ``navigator.credentials.get()``."""
        return {
            "challenge": b64url(self.challenge),
            "rpId": self.rp_id,
            "allowCredentials": [
                {"type": "public-key", "id": b64url(c)} for c in self.credential_ids
            ],
            "userVerification": "required",
            "timeout": ASSERTION_TIMEOUT_MS,
        }

    def to_json(self) -> dict[str, Any]:
        return {
            "withdrawal": self.withdrawal_id,
            "approver": self.approver,
            "digest": self.digest,
            "expires_at": self.expires_at,
            "nonce": b64url(self.nonce),
            "challenge": b64url(self.challenge),
            "challenge_hex": self.challenge.hex(),
            "document": self.document.decode("utf-8"),
            "valid_until": isoformat(self.valid_until),
            "options": self.options(),
        }


def _binding(withdrawal_id: str) -> bytes:
    return hashlib.sha256(withdrawal_id.encode("utf-8")).digest()


def _expiry(row: WithdrawalRow) -> str:
    if row.digest is None or row.decision is None or row.expires_at is None:
        raise Conflict(f"withdrawal {row.id} has no transaction to approve yet")
    # The same string the withdrawal.decided audit entry recorded (isoformat of the same
    # instant; both databases keep microseconds).
    return isoformat(row.expires_at)


def issue(
    session: Session,
    row: WithdrawalRow,
    approver: str,
    *,
    now: datetime,
    rp_id: str,
    credential_ids: Sequence[bytes],
) -> ApprovalChallenge:
    """A fresh challenge for `approver` on pending withdrawal `row` (the caller checked
    the state); stored for single use."""
    expires_at = _expiry(row)
    assert row.digest is not None and row.expires_at is not None
    nonce = secrets.token_bytes(NONCE_BYTES)
    challenge = approval_challenge(
        withdrawal_id=row.id,
        digest=bytes.fromhex(row.digest),
        expires_at=expires_at,
        nonce=nonce,
        approver=approver,
    )
    valid_until = min(now + CHALLENGE_TTL, row.expires_at)
    session.add(
        WebAuthnChallengeRow(
            id=ID_PREFIX + b64url(challenge),
            user_id=approver,
            purpose=PURPOSE,
            challenge=nonce + _binding(row.id),
            expires_at=valid_until,
        )
    )
    session.flush()
    return ApprovalChallenge(
        withdrawal_id=row.id,
        approver=approver,
        digest=row.digest,
        expires_at=expires_at,
        nonce=nonce,
        challenge=challenge,
        valid_until=valid_until,
        rp_id=rp_id,
        credential_ids=tuple(credential_ids),
    )


def signed_challenge(assertion: Mapping[str, Any]) -> bytes:
    """The challenge an assertion's clientDataJSON says was signed (not yet verified)."""
    response = assertion.get("response")
    client_data = response.get("clientDataJSON") if isinstance(response, Mapping) else None
    if not isinstance(client_data, str):
        raise InputError(
            "assertion.response.clientDataJSON", "must be the client data in base64url"
        )
    try:
        collected = json.loads(unb64url(client_data, "assertion.response.clientDataJSON"))
    except (ValueError, UnicodeDecodeError):
        raise InputError("assertion.response.clientDataJSON", "is not JSON") from None
    challenge = collected.get("challenge") if isinstance(collected, dict) else None
    if not isinstance(challenge, str):
        raise InputError("assertion.response.clientDataJSON", "names no challenge")
    return unb64url(challenge, "assertion.response.clientDataJSON.challenge")


def take(
    session: Session,
    row: WithdrawalRow,
    approver: str,
    assertion: Mapping[str, Any],
    *,
    now: datetime,
    who: str,
) -> ApprovalChallenge:
    """The challenge Kinko issued to `approver` for `row` that `assertion` signs, marked
    used; `ApprovalError` (code ``challenge_unknown``) for any other challenge."""
    expires_at = _expiry(row)
    assert row.digest is not None
    signed = signed_challenge(assertion)
    stored = (
        session.get(WebAuthnChallengeRow, ID_PREFIX + b64url(signed), with_for_update=True)
        if len(signed) == 32
        else None
    )
    usable = (
        stored is not None
        and stored.purpose == PURPOSE
        and stored.user_id == approver
        and stored.used_at is None
        and stored.expires_at > now
        and len(stored.challenge) == NONCE_BYTES + 32
        and hmac.compare_digest(stored.challenge[NONCE_BYTES:], _binding(row.id))
    )
    if not usable or stored is None:
        raise ApprovalError(
            f"{who}: the assertion signs a challenge Kinko did not issue to this approver "
            f"for withdrawal {row.id}, or one already used or expired (an approval of "
            "another withdrawal, or of the bare digest, never counts here): ask for a new "
            "approval challenge and approve again",
            code="challenge_unknown",
        )
    nonce = stored.challenge[:NONCE_BYTES]
    challenge = approval_challenge(
        withdrawal_id=row.id,
        digest=bytes.fromhex(row.digest),
        expires_at=expires_at,
        nonce=nonce,
        approver=approver,
    )
    if not hmac.compare_digest(challenge, signed):
        raise ApprovalError(
            f"{who}: the approval challenge no longer matches withdrawal {row.id} "
            "(its digest or expiry changed): ask for a new approval challenge",
            code="challenge_unknown",
        )
    stored.used_at = now
    return ApprovalChallenge(
        withdrawal_id=row.id,
        approver=approver,
        digest=row.digest,
        expires_at=expires_at,
        nonce=nonce,
        challenge=challenge,
        valid_until=stored.expires_at,
        rp_id="",
    )
