"""`kinko token create` of a privileged token: confirmed in the browser, device-flow style.

A token carrying a privileged permission needs a fresh WebAuthn assertion of its owner's,
and the CLI has no security key. So the CLI, signed in as the person, asks for the token
with its exact terms (`begin`: a request code for the CLI, a short user code for the
person); the person opens ``/console/tokens/confirm?code=...`` signed in as themselves,
sees exactly what is being created (name, permissions, assets, lifetime, allowlist,
which client asked and from where) and confirms with their security key over a challenge
bound to those terms and to this request (`kinko.identity.token_terms`), or denies it.
The CLI polls (`poll`, with the same person's session) and receives the token text
exactly once; it is minted then, checked again against the owner's current roles.

Only the owner who started a request can confirm it or collect its token. The request, its
codes, expiry, polling and the confirmation are the pending browser confirmation of
`kinko.identity.confirmation`, as for `kinko login`; what is the token request's own is
the terms it carries, the step-up bound to them and the token it mints.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy.orm import Session

from kinko.context import Context
from kinko.core.errors import KinkoError
from kinko.identity import confirmation as confirming
from kinko.identity.base import user_actor
from kinko.identity.binding import StepUp
from kinko.identity.confirmation import APPROVED, Answer, Begun, ConfirmationError, PendingRequest
from kinko.identity.issuing import TokenIssuer
from kinko.identity.model import TokenId, UserId
from kinko.identity.token_terms import TokenTerms
from kinko.store.tables.device import TokenRequestRow

CONFIRM_PATH = "/console/tokens/confirm"
WORDS = confirming.Wording(
    command="kinko token create",
    request="token request",
    code_kind="token-request code",
    verb="confirm",
    expired="this token request is unknown, expired or already collected",
    denied="the token was refused in the console",
    pending="waiting for you to confirm this token in the console with your security key",
    unknown_code="token_request_unknown",
    mismatch_code="token_request_challenge_mismatch",
    not_yours_code="token_request_not_yours",
)


@dataclass(frozen=True, slots=True)
class Started(Begun):
    terms: TokenTerms


@dataclass(frozen=True, slots=True)
class TokenRequest(PendingRequest):
    """What the confirmation page shows: the request and the token's exact terms."""

    terms: TokenTerms


@dataclass(frozen=True, slots=True)
class Collected:
    token_id: TokenId
    token: str
    terms: TokenTerms


def _terms(row: TokenRequestRow) -> TokenTerms:
    return TokenTerms(
        owner=row.owner_id,
        name=row.name,
        permissions=tuple(row.permissions),
        assets=tuple(row.assets),
        ip_allowlist=tuple(row.ip_allowlist),
        ttl_seconds=row.ttl_seconds,
        request=row.user_code,
    )


class TokenRequestService(confirming.Confirmations[TokenRequestRow, TokenRequest]):
    row_type = TokenRequestRow
    words = WORDS

    def __init__(self, ctx: Context, *, issuer: TokenIssuer) -> None:
        """`issuer`: identity's token issuer (the composition root hands it in)."""
        super().__init__(ctx)
        self.issuer = issuer

    # --- the CLI's side: the owner's session ----------------------------------------------
    def begin(
        self,
        person: UserId,
        *,
        name: str,
        permissions: list[str],
        assets: list[str],
        ip_allowlist: list[str],
        ttl: timedelta,
        client: str,
        source_ip: str | None,
    ) -> Started:
        """Ask for `person`'s own token with these exact terms (checked now: the owner
        must hold every permission)."""
        label = confirming.clean_client(client)
        now = self.now()
        with self.ctx.db.transaction() as session:
            user_code = self._fresh_user_code(session, now)
            terms = self.issuer.terms(
                session,
                owner_id=person,
                name=name,
                permissions=permissions,
                assets=assets,
                ip_allowlist=ip_allowlist,
                ttl=ttl,
                request=user_code,
            )
            begun, _ = self._open(
                session,
                now,
                client=label,
                source_ip=source_ip,
                user_code=user_code,
                owner_id=person,
                name=terms.name,
                permissions=list(terms.permissions),
                assets=list(terms.assets),
                ip_allowlist=list(terms.ip_allowlist),
                ttl_seconds=terms.ttl_seconds,
            )
            self.audit(
                session,
                actor=user_actor(person),
                action="identity.token_request_begin",
                subject=f"token_request:{user_code}",
                client=label,
                source_ip=source_ip,
                **terms.fields(),
            )
        return Started(begun.code, begun.user_code, begun.expires_in, begun.interval, terms)

    def poll(self, person: UserId, request_code: str) -> Collected:
        """The token, once its owner confirmed it (exactly once), else `ConfirmationError`."""
        return self._collect(request_code, person, self._mint)

    def _mint(self, session: Session, row: TokenRequestRow) -> Collected | ConfirmationError:
        token_id, text = self.issuer.create_confirmed(session, _terms(row))
        row.token_id = token_id
        return Collected(token_id, text, _terms(row))

    # --- the confirmation's hooks ---------------------------------------------------------
    def _view(self, row: TokenRequestRow) -> TokenRequest:
        return TokenRequest(**confirming.pending_fields(row), terms=_terms(row))

    def _owner_of(self, row: TokenRequestRow) -> str | None:
        return row.owner_id

    def _begin_step_up(
        self, session: Session, row: TokenRequestRow, person: UserId
    ) -> tuple[str, dict[str, Any]]:
        return self.issuer.begin_step_up(session, _terms(row))

    def _verify(
        self, session: Session, row: TokenRequestRow, answer: Answer, step_up: StepUp
    ) -> None:
        self.issuer.verify_step_up(session, _terms(row), step_up)

    def _decided(self, session: Session, row: TokenRequestRow, answer: Answer, status: str) -> None:
        verb = "approve" if status == APPROVED else "deny"
        self.audit(
            session,
            actor=user_actor(answer.person),
            action=f"identity.token_request_{verb}",
            subject=f"token_request:{row.user_code}",
            name=row.name,
            permissions=list(row.permissions),
            client=row.client,
            cli_ip=row.source_ip,
            source_ip=answer.source_ip,
        )

    def _refused(self, session: Session, answer: Answer, step_up: StepUp, exc: KinkoError) -> None:
        """The step-up is tried once: a failed attempt uses it up."""
        self.issuer.spend_step_up(session, answer.person, step_up.challenge_id, exc.code)
