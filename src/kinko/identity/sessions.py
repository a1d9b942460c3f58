"""Sessions of a person: opaque secrets stored hashed, idle and absolute timeouts, CSRF.

A ``console`` session is a browser's cookie (attributes HttpOnly, Secure,
SameSite=Strict set by the web layer); a ``cli`` session is what `kinko login` gets from
the device flow (`kinko.identity.device`) and sends as ``Authorization: Bearer``: no idle
timeout, ``cli_session_ttl_s`` long (12 h by default). Either can be sent as a Bearer.
Session secrets read ``kks_...`` (API tokens ``kko_...``). This module decides whether a
value still names a live session; suspending a person or removing their factors revokes
every session of theirs, of both kinds.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from datetime import timedelta

from sqlalchemy import update
from sqlalchemy.orm import Session

from kinko.core.errors import AuthenticationError
from kinko.identity.base import ServiceBase, user_actor
from kinko.identity.model import UserId, UserState
from kinko.store.tables.identity import ConsoleSessionRow, UserRow

IDLE_TIMEOUT = timedelta(minutes=15)
ABSOLUTE_TIMEOUT = timedelta(hours=8)
TOUCH_EVERY = timedelta(seconds=30)
# The ``__Host-`` prefix: browsers take the cookie only if it is Secure, has Path=/ and no
# Domain, so a sibling subdomain cannot plant or overwrite it (cookie tossing).
COOKIE_NAME = "__Host-kinko_session"
SESSION_PREFIX = "kks_"
CONSOLE = "console"
CLI = "cli"
CSRF_HEADER = "x-csrf-token"
CSRF_FIELD = "csrf_token"


def session_key(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def csrf_token_for(token: str) -> str:
    """The CSRF token bound to a session cookie (synchroniser token derived by HMAC)."""
    mac = hmac.new(token.encode(), b"kinko csrf v1", hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac).rstrip(b"=").decode()


def csrf_ok(token: str, presented: str | None) -> bool:
    return presented is not None and hmac.compare_digest(csrf_token_for(token), presented)


class SessionService(ServiceBase):
    def create(
        self,
        session: Session,
        user_id: UserId,
        *,
        source_ip: str | None,
        replaces: str | None = None,
        kind: str = CONSOLE,
    ) -> str:
        """Start a new session (a fresh id every sign-in: rotation); returns its secret
        (the cookie value of a console session, the Bearer of a CLI one)."""
        now = self.now()
        if replaces:
            self.revoke(session, replaces)
        token = SESSION_PREFIX + secrets.token_urlsafe(32)
        session.add(
            ConsoleSessionRow(
                id=session_key(token),
                user_id=user_id,
                created_at=now,
                last_seen_at=now,
                expires_at=now + self.lifetime(kind),
                source_ip=source_ip,
                kind=kind,
            )
        )
        return token

    def lifetime(self, kind: str) -> timedelta:
        if kind == CLI:
            return timedelta(seconds=self.ctx.settings.cli_session_ttl_s)
        return ABSOLUTE_TIMEOUT

    def lookup(self, session: Session, token: str) -> tuple[UserRow, bool]:
        """The user of a live session and whether its last-seen time is due a write.

        Expired, idle, revoked or unknown sessions, and inactive users → 401 (generic).
        """
        row = session.get(ConsoleSessionRow, session_key(token))
        now = self.now()
        if (
            row is None
            or row.revoked_at is not None
            or row.expires_at <= now
            or (row.kind != CLI and now - row.last_seen_at > IDLE_TIMEOUT)
        ):
            raise AuthenticationError("session expired or invalid; sign in again")
        user = self.user_row(session, row.user_id)
        if user.state != UserState.ACTIVE.value:
            raise AuthenticationError("session expired or invalid; sign in again")
        return user, now - row.last_seen_at > TOUCH_EVERY

    def touch(self, session: Session, token: str) -> None:
        row = session.get(ConsoleSessionRow, session_key(token), with_for_update=True)
        if row is not None and row.revoked_at is None:
            row.last_seen_at = self.now()

    def resolve(self, session: Session, token: str) -> UserRow:
        """`lookup` and, when due, record activity (which keeps the idle timeout away)."""
        user, due = self.lookup(session, token)
        if due:
            self.touch(session, token)
        return user

    def revoke(self, session: Session, token: str) -> None:
        row = session.get(ConsoleSessionRow, session_key(token))
        if row is not None and row.revoked_at is None:
            row.revoked_at = self.now()
            self.audit(
                session,
                actor=user_actor(row.user_id),
                action="identity.logout",
                subject=user_actor(row.user_id),
            )

    def end_all(self, session: Session, user_id: str) -> None:
        """End every live session of `user_id`, console and CLI alike (a privilege
        change, factors removed, a step-up required); API tokens are left alone."""
        session.execute(
            update(ConsoleSessionRow)
            .where(ConsoleSessionRow.user_id == user_id, ConsoleSessionRow.revoked_at.is_(None))
            .values(revoked_at=self.now())
        )
