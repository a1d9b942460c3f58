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

The document and its check are `kinko.identity.binding`'s (one mechanism for every
step-up that authorises one act): the issuer recomputes the terms from the token it is
asked to mint and refuses any difference (``403 step_up_mismatch``, naming the fields
that differ).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any, ClassVar

from sqlalchemy.orm import Session

from kinko.context import Context
from kinko.core.errors import KinkoError
from kinko.identity.base import ServiceBase, user_actor
from kinko.identity.binding import StepUp, check_binding, new_binding
from kinko.identity.binding import document as bound_document
from kinko.identity.mfa import MfaService
from kinko.identity.model import UserId

PURPOSE = "create_token"


@dataclass(frozen=True, slots=True)
class TokenTerms:
    """One token, as checked (`TokenIssuer.terms`): sorted, normalised, comparable."""

    TYPE: ClassVar[str] = "kinko.token-create.v1"
    PURPOSE: ClassVar[str] = PURPOSE
    FIELDS: ClassVar[tuple[str, ...]] = (
        "owner",
        "name",
        "permissions",
        "assets",
        "ip_allowlist",
        "ttl_seconds",
        "request",
    )
    NOUN: ClassVar[str] = "token"

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
        """The canonical JSON bytes the challenge hashes (`kinko.identity.binding`)."""
        return bound_document(self, nonce)


class TokenStepUps(ServiceBase):
    """Step-ups for new tokens: issued bound to the terms, checked against them."""

    def __init__(self, ctx: Context, *, mfa: MfaService) -> None:
        """`mfa`: identity's own (`kinko.identity.service` hands it in)."""
        super().__init__(ctx)
        self.mfa = mfa

    def begin_step_up(self, session: Session, terms: TokenTerms) -> tuple[str, dict[str, Any]]:
        """A single-use challenge (5 minutes) for the owner's own authenticator that
        commits to exactly this token (`kinko.identity.token_terms`)."""
        challenge, document = new_binding(terms)
        return self.mfa.begin_step_up(
            session, UserId(terms.owner), purpose=PURPOSE, challenge=challenge, terms=document
        )

    def verify_step_up(self, session: Session, terms: TokenTerms, step_up: StepUp) -> None:
        """The owner's fresh assertion over a challenge bound to exactly `terms` (consumed
        now): `step_up_mismatch` for another token's, `step_up_refused` for a bad one."""
        self.mfa.verify_step_up(
            session,
            UserId(terms.owner),
            step_up.challenge_id,
            step_up.credential,
            purpose=PURPOSE,
            bound=lambda chal: check_binding(chal.challenge, chal.terms, terms),
        )

    def spend_step_up(self, session: Session, person: UserId, challenge_id: str, why: str) -> None:
        """Use up a step-up challenge an attempt failed with (so it is tried once only)."""
        try:
            self.mfa.take_challenge(session, challenge_id, purpose=PURPOSE)
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
