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

Only the owner who started a request can confirm it or collect its token; requests last
10 minutes; only the SHA-256 of the request code is stored; poll answers use RFC 8628
§3.5's error names, as `kinko login` does (`kinko.identity.device`).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from kinko.core.errors import (
    AuthenticationError,
    InputError,
    KinkoError,
    NotFound,
    PermissionDenied,
)
from kinko.identity.base import ServiceBase, user_actor
from kinko.identity.device import (
    POLL_SLACK,
    USER_CODE_ALPHABET,
    DeviceFlowError,
    _clean_client,
    normalise_user_code,
)
from kinko.identity.issuing import TokenIssuer
from kinko.identity.model import TokenId, UserId
from kinko.identity.sessions import session_key
from kinko.identity.token_terms import StepUp, TokenTerms
from kinko.store.tables.device import TokenRequestRow

REQUEST_TTL = timedelta(minutes=10)
INTERVAL_S = 2
CONFIRM_PATH = "/console/tokens/confirm"
PENDING, APPROVED, DENIED, ISSUED = "pending", "approved", "denied", "issued"


@dataclass(frozen=True, slots=True)
class Started:
    request_code: str
    user_code: str
    expires_in: int
    interval: int
    terms: TokenTerms


@dataclass(frozen=True, slots=True)
class TokenRequest:
    """What the confirmation page shows."""

    user_code: str
    terms: TokenTerms
    client: str
    source_ip: str | None
    created_at: datetime
    expires_at: datetime
    status: str


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


def _view(row: TokenRequestRow) -> TokenRequest:
    return TokenRequest(
        row.user_code,
        _terms(row),
        row.client,
        row.source_ip,
        row.created_at,
        row.expires_at,
        row.status,
    )


class TokenRequestService(ServiceBase):
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
        label = _clean_client(client)
        now = self.now()
        with self.ctx.db.transaction() as session:
            user_code = self._fresh_user_code(session, now)
            terms = TokenIssuer(self.ctx).terms(
                session,
                owner_id=person,
                name=name,
                permissions=permissions,
                assets=assets,
                ip_allowlist=ip_allowlist,
                ttl=ttl,
                request=user_code,
            )
            request_code = secrets.token_urlsafe(32)
            session.add(
                TokenRequestRow(
                    id=session_key(request_code),
                    user_code=user_code,
                    owner_id=person,
                    name=terms.name,
                    permissions=list(terms.permissions),
                    assets=list(terms.assets),
                    ip_allowlist=list(terms.ip_allowlist),
                    ttl_seconds=terms.ttl_seconds,
                    client=label,
                    source_ip=source_ip,
                    created_at=now,
                    expires_at=now + REQUEST_TTL,
                    interval_s=INTERVAL_S,
                    status=PENDING,
                )
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
        expires_in = int(REQUEST_TTL.total_seconds())
        return Started(request_code, user_code, expires_in, INTERVAL_S, terms)

    def poll(self, person: UserId, request_code: str) -> Collected:
        """The token, once its owner confirmed it (exactly once), else `DeviceFlowError`."""
        with self.ctx.db.transaction() as session:
            outcome = self._poll(session, person, request_code)
        if isinstance(outcome, DeviceFlowError):
            raise outcome
        return outcome

    def _poll(
        self, session: Session, person: UserId, request_code: str
    ) -> Collected | DeviceFlowError:
        now = self.now()
        row = session.get(TokenRequestRow, session_key(request_code), with_for_update=True)
        if row is None or row.owner_id != person or row.status == ISSUED or row.expires_at <= now:
            return DeviceFlowError(
                "this token request is unknown, expired or already collected: run "
                "'kinko token create' again",
                code="expired_token",
            )
        last, row.last_polled_at = row.last_polled_at, now
        if last is not None and now - last < timedelta(seconds=row.interval_s) - POLL_SLACK:
            return DeviceFlowError(
                f"polling too fast: wait at least {row.interval_s} s between polls",
                code="slow_down",
            )
        if row.status == DENIED:
            return DeviceFlowError("the token was refused in the console", code="access_denied")
        if row.status == PENDING:
            return DeviceFlowError(
                "waiting for you to confirm this token in the console with your security key",
                code="authorization_pending",
            )
        token_id, text = TokenIssuer(self.ctx).create_confirmed(session, _terms(row))
        row.status, row.token_id = ISSUED, token_id
        return Collected(token_id, text, _terms(row))

    # --- the owner's side, in the browser ---------------------------------------------------
    def request(self, session: Session, user_code: str, person: UserId) -> TokenRequest:
        return _view(self._pending(session, user_code, person))

    def challenge(
        self, session: Session, user_code: str, person: UserId
    ) -> tuple[str, dict[str, object], TokenRequest]:
        """A one-time WebAuthn challenge bound to this request's exact terms; only the
        latest one issued for the request can confirm it."""
        row = self._pending(session, user_code, person, lock=True)
        challenge_id, options = TokenIssuer(self.ctx).begin_step_up(session, _terms(row))
        row.challenge_id = challenge_id
        return challenge_id, options, _view(row)

    def approve(
        self,
        user_code: str,
        person: UserId,
        challenge_id: str,
        credential: dict[str, object],
        *,
        source_ip: str | None,
    ) -> TokenRequest:
        """Confirm with a fresh assertion over this request's challenge; a refusal uses
        the challenge up, is audited (in its own transaction) and re-raised."""
        issuer = TokenIssuer(self.ctx)
        try:
            with self.ctx.db.transaction() as session:
                row = self._pending(session, user_code, person, lock=True)
                if row.challenge_id != challenge_id:
                    raise AuthenticationError(
                        "this security-key challenge is not the one issued for this token "
                        "request: reload the page and confirm again",
                        code="token_request_challenge_mismatch",
                    )
                issuer.verify_step_up(session, _terms(row), StepUp(challenge_id, credential))
                self._decide(session, row, person, APPROVED, source_ip)
                return _view(row)
        except KinkoError as exc:
            with self.ctx.db.transaction() as session:
                issuer.spend_step_up(session, person, challenge_id, exc.code)
            raise

    def deny(
        self, session: Session, user_code: str, person: UserId, *, source_ip: str | None
    ) -> TokenRequest:
        row = self._pending(session, user_code, person, lock=True)
        self._decide(session, row, person, DENIED, source_ip)
        return _view(row)

    # --- plumbing -------------------------------------------------------------------------
    def _pending(
        self, session: Session, user_code: str, person: UserId, *, lock: bool = False
    ) -> TokenRequestRow:
        try:
            code = normalise_user_code(user_code)
        except InputError:
            raise InputError(
                "code",
                "is not a token-request code: 8 letters as 'kinko token create' shows them, "
                "e.g. BCDF-GHJK (no vowels, no digits)",
            ) from None
        query = select(TokenRequestRow).where(
            TokenRequestRow.user_code == code,
            TokenRequestRow.status == PENDING,
            TokenRequestRow.expires_at > self.now(),
        )
        row = session.execute(query.with_for_update() if lock else query).scalars().first()
        if row is None:
            raise NotFound(
                f"no token request waits for code {code}: it expired (codes last "
                f"{int(REQUEST_TTL.total_seconds() // 60)} minutes), was already answered, "
                "or was mistyped. Run 'kinko token create' again for a new code",
                code="token_request_unknown",
            )
        if row.owner_id != person:
            raise PermissionDenied(
                f"the token request {code} was started by another person: only they can "
                "confirm it, signed in as themselves",
                code="token_request_not_yours",
            )
        return row

    def _decide(
        self,
        session: Session,
        row: TokenRequestRow,
        person: UserId,
        status: str,
        source_ip: str | None,
    ) -> None:
        row.status, row.decided_at, row.decided_ip = status, self.now(), source_ip
        verb = "approve" if status == APPROVED else "deny"
        details = {"client": row.client, "cli_ip": row.source_ip, "source_ip": source_ip}
        self.audit(
            session,
            actor=user_actor(person),
            action=f"identity.token_request_{verb}",
            subject=f"token_request:{row.user_code}",
            name=row.name,
            permissions=list(row.permissions),
            **details,
        )

    def _fresh_user_code(self, session: Session, now: datetime) -> str:
        while True:
            letters = "".join(secrets.choice(USER_CODE_ALPHABET) for _ in range(8))
            code = f"{letters[:4]}-{letters[4:]}"
            taken = session.execute(
                select(TokenRequestRow.id).where(
                    TokenRequestRow.user_code == code, TokenRequestRow.expires_at > now
                )
            ).first()
            if taken is None:
                return code
