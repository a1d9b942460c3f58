"""Plumbing shared by the identity services: audit, security events, hashing, lookups."""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from kinko.context import Context
from kinko.core.errors import NotFound
from kinko.core.events import SecurityEvent
from kinko.identity.model import UserId
from kinko.store.publish import publish_after_commit
from kinko.store.tables.identity import UserRow


def sha256(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def same_hash(secret: bytes, stored: bytes) -> bool:
    """Constant-time check that SHA-256(`secret`) equals `stored`."""
    return hmac.compare_digest(sha256(secret), stored)


def user_actor(user_id: str) -> str:
    return f"user:{user_id}"


class ServiceBase:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    def now(self) -> datetime:
        return self.ctx.clock.now()

    def audit(
        self, session: Session, *, actor: str, action: str, subject: str, **details: Any
    ) -> None:
        self.ctx.audit.append(session, actor=actor, action=action, subject=subject, details=details)

    def emit(self, session: Session, type_: str, **kwargs: Any) -> None:
        """Queue a security event; it is published only if `session` commits."""
        fields = kwargs.pop("fields", {})
        item = SecurityEvent(type=type_, time=self.now(), fields=fields, **kwargs)
        publish_after_commit(session, self.ctx.bus, item)

    def user_row(self, session: Session, user_id: str, *, lock: bool = False) -> UserRow:
        query = select(UserRow).where(UserRow.id == user_id)
        if lock:
            query = query.with_for_update()
        row = session.execute(query).scalar_one_or_none()
        if row is None:
            raise NotFound(f"no user with id {user_id}")
        return row

    def user_by_name(self, session: Session, username: str) -> UserRow | None:
        return session.execute(
            select(UserRow).where(UserRow.username == username)
        ).scalar_one_or_none()

    def require_user(self, session: Session, username: str) -> UserRow:
        row = self.user_by_name(session, username)
        if row is None:
            raise NotFound(f"no user named {username!r}; list users with 'kinko user list'")
        return row

    @staticmethod
    def uid(row: UserRow) -> UserId:
        return UserId(row.id)
