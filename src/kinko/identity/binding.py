"""A step-up that authorises exactly one act: the challenge commits to the act's terms.

A fresh WebAuthn assertion proves that a person touched their security key; by itself it
does not say for what. Kinko's step-up challenges are therefore not random bytes but the
SHA-256 of a document naming the act (W3C WebAuthn Level 3, §13.4.3: the relying party
chooses the challenge; any unpredictable value of at least 16 bytes will do, and a hash
over a document carrying a 32-byte server nonce is one):

    challenge = SHA-256(RFC 8785 canonical JSON of
        {**terms.fields(), "nonce": unpadded base64url of 32 server bytes,
         "purpose": terms.PURPOSE, "type": terms.TYPE})

The server keeps the document beside the single-use challenge; when the act is done, the
verifier recomputes the terms from what is about to happen and refuses any difference
(``403 step_up_mismatch``, naming the fields that differ). An assertion obtained for one
act — one token, one proposal's approval — is good for nothing else.

Two kinds of terms use it: a new API token (`kinko.identity.token_terms`) and the second
vote of a four-eyes step (`kinko.identity.approval_terms`).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass
from typing import Any, ClassVar, Protocol

from kinko.core.canonical import canonical_json
from kinko.core.errors import PermissionDenied

NONCE_BYTES = 32


class Terms(Protocol):
    """What one act is, field by field (a frozen dataclass)."""

    TYPE: ClassVar[str]  # the document's type, with its version: "kinko.token-create.v1"
    PURPOSE: ClassVar[str]  # the challenge's purpose, as MfaService stores it
    FIELDS: ClassVar[tuple[str, ...]]
    NOUN: ClassVar[str]  # what a mismatch names: "token", "approval"

    def fields(self) -> dict[str, Any]: ...


@dataclass(frozen=True, slots=True)
class StepUp:
    """A fresh WebAuthn assertion: the challenge from `MfaService.begin_step_up` and the
    authenticator's answer (AuthenticationResponseJSON)."""

    challenge_id: str
    credential: dict[str, Any]


def document(terms: Terms, nonce: bytes) -> bytes:
    """The canonical JSON bytes the challenge hashes."""
    if len(nonce) != NONCE_BYTES:
        raise ValueError(f"a step-up nonce is {NONCE_BYTES} bytes, got {len(nonce)}")
    nonce_text = base64.urlsafe_b64encode(nonce).rstrip(b"=").decode("ascii")
    body = {**terms.fields(), "nonce": nonce_text, "purpose": terms.PURPOSE, "type": terms.TYPE}
    return canonical_json(body)


def new_binding(terms: Terms) -> tuple[bytes, str]:
    """A fresh challenge for `terms` and the document it hashes (kept with the challenge)."""
    text = document(terms, secrets.token_bytes(NONCE_BYTES))
    return hashlib.sha256(text).digest(), text.decode("utf-8")


def check_binding(challenge: bytes, stored: str | None, terms: Terms) -> None:
    """Refuse unless the stored `challenge` hashes the `stored` document and that document
    describes exactly `terms` (`PermissionDenied` ``step_up_mismatch`` naming what differs)."""
    try:
        bound = json.loads(stored) if stored else None
    except ValueError:
        bound = None
    if not isinstance(bound, dict) or bound.get("type") != terms.TYPE:
        raise PermissionDenied(
            f"this security-key assertion was not given for this {terms.NOUN}: ask for a "
            f"new step-up for exactly this {terms.NOUN}",
            code="step_up_mismatch",
        )
    wanted = terms.fields()
    differ = [f for f in terms.FIELDS if bound.get(f) != wanted[f]]
    nonce = base64.urlsafe_b64decode(str(bound.get("nonce", "")) + "==")
    expected = hashlib.sha256(document(terms, nonce)).digest() if len(nonce) == NONCE_BYTES else b""
    if differ or not hmac.compare_digest(expected, challenge):
        what = ", ".join(differ) or "the challenge"
        raise PermissionDenied(
            f"this security-key assertion authorised a different {terms.NOUN} ({what} "
            f"differ): a step-up is good for exactly the {terms.NOUN} it was asked for; ask "
            "for a new one",
            code="step_up_mismatch",
        )
