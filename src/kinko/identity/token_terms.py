"""What a step-up for a new API token authorises: exactly one token, and nothing else.

A privileged token (`PRIVILEGED_PERMISSIONS`) needs a fresh WebAuthn assertion of its
owner's. The assertion signs a challenge that commits to that token, so that an assertion
obtained for one token (phished, or by a page in another tab) cannot mint another one —
other permissions, a longer lifetime, a wider allowlist:

    challenge = SHA-256(RFC 8785 canonical JSON of
        {"assets": sorted asset scope, "ip_allowlist": sorted networks (CIDR),
         "name": the token's name, "nonce": unpadded base64url of 32 server bytes,
         "owner": the owner's user id, "permissions": sorted permissions,
         "purpose": "create_token", "request": the console confirmation's user code
         (`kinko token create` through the browser) or null (``POST /v1/tokens``),
         "ttl_seconds": the lifetime, "type": "kinko.token-create.v1"})

The server keeps the document beside the single-use challenge (5 minutes); the issuer
recomputes it from the token it is asked to mint and refuses any difference
(``403 step_up_mismatch``, naming the fields that differ).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy.orm import Session

from kinko.core.canonical import canonical_json
from kinko.core.errors import KinkoError, PermissionDenied
from kinko.identity.base import ServiceBase, user_actor
from kinko.identity.model import UserId

TERMS_TYPE = "kinko.token-create.v1"
PURPOSE = "create_token"
NONCE_BYTES = 32
FIELDS = ("owner", "name", "permissions", "assets", "ip_allowlist", "ttl_seconds", "request")


@dataclass(frozen=True, slots=True)
class TokenTerms:
    """One token, as checked (`TokenIssuer.terms`): sorted, normalised, comparable."""

    owner: str
    name: str
    permissions: tuple[str, ...]
    assets: tuple[str, ...]
    ip_allowlist: tuple[str, ...]
    ttl_seconds: int
    request: str | None = None

    @property
    def ttl(self) -> timedelta:
        return timedelta(seconds=self.ttl_seconds)

    def fields(self) -> dict[str, Any]:
        return {
            "owner": self.owner,
            "name": self.name,
            "permissions": list(self.permissions),
            "assets": list(self.assets),
            "ip_allowlist": list(self.ip_allowlist),
            "ttl_seconds": self.ttl_seconds,
            "request": self.request,
        }

    def document(self, nonce: bytes) -> bytes:
        """The canonical JSON bytes the challenge hashes."""
        if len(nonce) != NONCE_BYTES:
            raise ValueError(f"a token step-up nonce is {NONCE_BYTES} bytes, got {len(nonce)}")
        nonce_text = base64.urlsafe_b64encode(nonce).rstrip(b"=").decode("ascii")
        body = {**self.fields(), "nonce": nonce_text, "purpose": PURPOSE, "type": TERMS_TYPE}
        return canonical_json(body)


def new_binding(terms: TokenTerms) -> tuple[bytes, str]:
    """A fresh challenge for `terms` and the document it hashes (kept with the challenge)."""
    document = terms.document(secrets.token_bytes(NONCE_BYTES))
    return hashlib.sha256(document).digest(), document.decode("utf-8")


def check_binding(challenge: bytes, document: str | None, terms: TokenTerms) -> None:
    """Refuse unless the stored `challenge` hashes `document` and `document` describes
    exactly `terms` (`PermissionDenied` ``step_up_mismatch`` naming what differs)."""
    try:
        bound = json.loads(document) if document else None
    except ValueError:
        bound = None
    if not isinstance(bound, dict) or bound.get("type") != TERMS_TYPE:
        raise PermissionDenied(
            "this security-key assertion was not given for creating a token: ask for a new "
            "step-up with this token's exact terms",
            code="step_up_mismatch",
        )
    differ = [f for f in FIELDS if bound.get(f) != terms.fields()[f]]
    nonce = base64.urlsafe_b64decode(str(bound.get("nonce", "")) + "==")
    expected = hashlib.sha256(terms.document(nonce)).digest() if len(nonce) == NONCE_BYTES else b""
    if differ or not hmac.compare_digest(expected, challenge):
        what = ", ".join(differ) or "the challenge"
        raise PermissionDenied(
            f"this security-key assertion authorised a different token ({what} differ): "
            "a step-up is good for exactly the token it was asked for; ask for a new one "
            "with this token's exact terms",
            code="step_up_mismatch",
        )


@dataclass(frozen=True, slots=True)
class StepUp:
    """A fresh WebAuthn assertion: the challenge from `MfaService.begin_step_up` and the
    authenticator's answer (AuthenticationResponseJSON)."""

    challenge_id: str
    credential: dict[str, Any]


class TokenStepUps(ServiceBase):
    """Step-ups for new tokens: issued bound to the terms, checked against them."""

    def begin_step_up(self, session: Session, terms: TokenTerms) -> tuple[str, dict[str, Any]]:
        """A single-use challenge (5 minutes) for the owner's own authenticator that
        commits to exactly this token (`kinko.identity.token_terms`)."""
        from kinko.identity.mfa import MfaService

        challenge, document = new_binding(terms)
        return MfaService(self.ctx).begin_step_up(
            session, UserId(terms.owner), purpose=PURPOSE, challenge=challenge, terms=document
        )

    def verify_step_up(self, session: Session, terms: TokenTerms, step_up: StepUp) -> None:
        """The owner's fresh assertion over a challenge bound to exactly `terms` (consumed
        now): `step_up_mismatch` for another token's, `step_up_refused` for a bad one."""
        from kinko.identity.mfa import MfaService

        MfaService(self.ctx).verify_step_up(
            session,
            UserId(terms.owner),
            step_up.challenge_id,
            step_up.credential,
            purpose=PURPOSE,
            bound=lambda chal: check_binding(chal.challenge, chal.terms, terms),
        )

    def spend_step_up(self, session: Session, person: UserId, challenge_id: str, why: str) -> None:
        """Use up a step-up challenge an attempt failed with (so it is tried once only)."""
        from kinko.identity.mfa import MfaService

        try:
            MfaService(self.ctx).take_challenge(session, challenge_id, purpose=PURPOSE)
        except KinkoError:
            return
        self.audit(
            session,
            actor=user_actor(person),
            action="identity.token_step_up_refused",
            subject=user_actor(person),
            challenge=challenge_id,
            reason=why,
        )
