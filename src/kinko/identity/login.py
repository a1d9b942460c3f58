"""Sign-in flows: throttle, verify a factor, start a session — and record failures.

These methods run their own transactions: a failed attempt must leave a durable trace
(throttle counter, audit entry, security event) even though the attempt itself is
refused. Every refusal says only "invalid credentials", or — while the source address or
the account must wait after repeated failures (`kinko.identity.throttle`) — "too many
failed sign-ins" with the seconds to wait (HTTP 429, Retry-After). A valid WebAuthn
assertion is never throttled: it is verified even while its keys wait.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from kinko.context import Context
from kinko.core.errors import AuthenticationError, InputError, RateLimited
from kinko.identity import throttle
from kinko.identity.base import ServiceBase, user_actor
from kinko.identity.mfa import MfaService
from kinko.identity.model import UserId, UserState
from kinko.identity.sessions import SessionService
from kinko.store.tables.identity import ConsoleSessionRow, UserRow, WebAuthnChallengeRow

GENERIC = "invalid credentials"


def days_since_last_sign_in(session: Session, user_id: str, now: datetime) -> int | None:
    """Whole days since the person's previous console session began (None: never), for
    the monitor's dormant-account rule (`auth.login`'s `days_since_last_login`)."""
    last = session.execute(
        select(func.max(ConsoleSessionRow.created_at)).where(ConsoleSessionRow.user_id == user_id)
    ).scalar_one_or_none()
    return None if last is None else max(0, (now - last).days)


# Factors a person can guess at (TOTP and recovery codes): refused unverified while a key
# waits. A WebAuthn assertion cannot be guessed and is always verified.
def record_sign_in(
    service: ServiceBase,
    session: Session,
    user: UserRow,
    factor: str,
    source_ip: str | None,
    *,
    audit: dict[str, Any],
    fields: dict[str, Any],
) -> None:
    """The audit record and the `auth.login` event of a successful sign-in (the password
    and WebAuthn sign-in and the CLI's device flow alike); `audit` and `fields` add to
    each."""
    actor = user_actor(user.id)
    service.audit(
        session,
        actor=actor,
        action="identity.login",
        subject=actor,
        factor=factor,
        outcome="success",
        **audit,
        source_ip=source_ip,
    )
    service.emit(
        session,
        "auth.login",
        actor=actor,
        outcome="success",
        source_ip=source_ip,
        fields={"factor": factor, "username": user.username, **fields},
    )


GUESSABLE = frozenset({"totp", "recovery_code"})


def _too_many(retry: int) -> RateLimited:
    return RateLimited(
        f"too many failed sign-ins from this address or for this account: try again in "
        f"{retry} s (a valid security-key sign-in is never delayed)",
        retry_after=retry,
    )


@dataclass(frozen=True, slots=True)
class SignedIn:
    user_id: UserId
    username: str
    session_token: str


class LoginService(ServiceBase):
    def __init__(self, ctx: Context, *, mfa: MfaService, sessions: SessionService) -> None:
        """`mfa` and `sessions`: identity's own (`kinko.identity.service` hands them in)."""
        super().__init__(ctx)
        self.mfa = mfa
        self.sessions = sessions

    def begin_webauthn(self, username: str, *, source_ip: str | None) -> tuple[str, dict[str, Any]]:
        with self.ctx.db.transaction() as session:
            user = self.user_by_name(session, username)
            usable = user if user is not None and user.state == UserState.ACTIVE.value else None
            return self.mfa.begin_assertion(session, usable, username=username)

    def finish_webauthn(
        self,
        challenge_id: str,
        response: object,
        *,
        source_ip: str | None,
        replaces: str | None = None,
    ) -> SignedIn:
        username = self._challenge_username(challenge_id)

        def verify(session: Session) -> UserRow:
            return self.mfa.finish_assertion(session, challenge_id, response)

        return self._attempt(
            username,
            "webauthn",
            verify,
            source_ip=source_ip,
            replaces=replaces,
            response=response,
            challenge_id=challenge_id,
        )

    def login_totp(
        self, username: str, code: str, *, source_ip: str | None, replaces: str | None = None
    ) -> SignedIn:
        def verify(session: Session) -> UserRow:
            user = self._active(session, username)
            self.mfa.check_totp(session, user, code)
            return user

        return self._attempt(username, "totp", verify, source_ip=source_ip, replaces=replaces)

    def login_recovery(self, username: str, code: str, *, source_ip: str | None) -> SignedIn:
        def verify(session: Session) -> UserRow:
            user = self._active(session, username)
            self.mfa.use_recovery_code(session, user, code)
            return user

        return self._attempt(username, "recovery_code", verify, source_ip=source_ip)

    def _active(self, session: Session, username: str) -> UserRow:
        user = self.user_by_name(session, username)
        if user is None or user.state != UserState.ACTIVE.value:
            raise AuthenticationError(GENERIC)
        return user

    def _challenge_username(self, challenge_id: str) -> str:
        """The account a sign-in challenge was issued for (the throttle key).

        A challenge issued for an unknown name gets a key of its own, so that unknown
        names never share one counter (which would lock out differently from real ones).
        """
        with self.ctx.db.transaction() as session:
            chal = session.get(WebAuthnChallengeRow, challenge_id)
            if chal is None or chal.user_id is None:
                return f"?unknown:{challenge_id}"
            row = session.get(UserRow, chal.user_id)
            return row.username if row is not None else f"?unknown:{challenge_id}"

    def _attempt(
        self,
        username: str,
        factor: str,
        verify: Callable[[Session], UserRow],
        *,
        source_ip: str | None,
        replaces: str | None = None,
        response: object = None,
        challenge_id: str | None = None,
    ) -> SignedIn:
        keys = throttle.throttle_keys(username, source_ip)
        try:
            with self.ctx.db.transaction() as session:
                if factor in GUESSABLE:
                    waits = throttle.waiting(session, keys, self.now())
                    if waits:
                        raise _too_many(throttle.retry_after(max(waits.values()), self.now()))
                user = verify(session)
                dormant = days_since_last_sign_in(session, user.id, self.now())
                token = self.sessions.create(
                    session, UserId(user.id), source_ip=source_ip, replaces=replaces
                )
                throttle.reset(session, keys[0])
                record_sign_in(
                    self,
                    session,
                    user,
                    factor,
                    source_ip,
                    audit={},
                    fields={} if dormant is None else {"days_since_last_login": dormant},
                )
                return SignedIn(UserId(user.id), user.username, token)
        except (AuthenticationError, InputError, RateLimited) as exc:
            retry = self._record_failure(
                username,
                factor,
                exc,
                keys=keys,
                source_ip=source_ip,
                response=response,
                challenge_id=challenge_id,
            )
            # The reason goes to the audit log, not to the caller.
            if retry:
                raise _too_many(retry) from None
            raise AuthenticationError(GENERIC) from None

    def _record_failure(
        self,
        username: str,
        factor: str,
        exc: Exception,
        *,
        keys: list[str],
        source_ip: str | None,
        response: object,
        challenge_id: str | None,
    ) -> int:
        """Record the failure (a refused-while-waiting attempt is not counted again);
        returns the seconds the caller must now wait, 0 if none."""
        code = getattr(exc, "code", "invalid")
        now = self.now()
        with self.ctx.db.transaction() as session:
            if isinstance(exc, RateLimited):
                waits = throttle.waiting(session, keys, now)
                locked: list[str] = []
            else:
                waits = throttle.record_failure(session, keys, now)
                locked = sorted(waits)
            retry = throttle.retry_after(max(waits.values(), default=None), now)
            if challenge_id is not None:
                chal = session.get(WebAuthnChallengeRow, challenge_id)
                if chal is not None and chal.used_at is None:
                    chal.used_at = self.now()
            if code == "webauthn_clone_suspected":
                self.mfa.flag_clone(session, response)
            # The username is recorded as typed: it may not exist, which only the log says.
            self.audit(
                session,
                actor=f"anonymous:{source_ip or '?'}",
                action="identity.login_failed",
                subject=f"username:{username}",
                factor=factor,
                reason=code,
                locked=locked,
                retry_after=retry,
                source_ip=source_ip,
            )
            self.emit(
                session,
                "auth.login",
                actor=f"username:{username}",
                outcome="failure",
                source_ip=source_ip,
                severity="medium" if locked else "low",
                fields={
                    "factor": factor,
                    "reason": code,
                    "username": username,
                    "locked": locked,
                    "retry_after": retry,
                },
            )
        return retry
