"""Staff user lifecycle: invited → active → suspended → removed (never deleted)."""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from kinko.context import Context
from kinko.core.clock import isoformat
from kinko.core.errors import AuthenticationError, Conflict, InputError
from kinko.core.ids import new_id
from kinko.identity.base import ServiceBase, same_hash, sha256, user_actor
from kinko.identity.mfa import MfaService
from kinko.identity.model import UserId, UserState
from kinko.identity.people import roles_held
from kinko.identity.permissions import PRIVILEGED_ROLES, Role
from kinko.identity.sessions import SessionService
from kinko.store.tables.identity import ApiTokenRow, UserRow

USERNAME = re.compile(r"^[a-z][a-z0-9._-]{1,63}$")
ENROLMENT_TTL = timedelta(hours=72)


@dataclass(frozen=True, slots=True)
class User:
    id: UserId
    username: str
    display_name: str
    state: UserState
    created_at: datetime


def parse_username(text: str) -> str:
    if not USERNAME.match(text):
        raise InputError(
            "username",
            f"{text!r} is not a valid username: 2-64 characters, lower-case letters, digits,"
            " '.', '_' or '-', starting with a letter",
        )
    return text


def to_user(row: UserRow) -> User:
    return User(
        UserId(row.id), row.username, row.display_name, UserState(row.state), row.created_at
    )


class UserService(ServiceBase):
    def __init__(self, ctx: Context, *, mfa: MfaService, sessions: SessionService) -> None:
        """`mfa` and `sessions`: identity's own (`kinko.identity.service` hands them in)."""
        super().__init__(ctx)
        self.mfa = mfa
        self.sessions = sessions

    def add_user(
        self, session: Session, username: str, *, actor: str, display_name: str = ""
    ) -> tuple[UserId, str]:
        """Invite a user; returns (id, one-time enrolment secret, shown once, stored hashed)."""
        name = parse_username(username)
        if self.user_by_name(session, name) is not None:
            raise Conflict(f"a user named {name!r} already exists (users are never reused)")
        now = self.now()
        secret = "enr_" + secrets.token_urlsafe(24)
        row = UserRow(
            id=new_id("usr"),
            username=name,
            display_name=display_name,
            state=UserState.INVITED.value,
            created_at=now,
            updated_at=now,
            enrolment_hash=sha256(secret.encode()),
            enrolment_expires=now + ENROLMENT_TTL,
        )
        session.add(row)
        session.flush()
        self.audit(
            session,
            actor=actor,
            action="identity.user_add",
            subject=user_actor(row.id),
            username=name,
        )
        self.emit(
            session,
            "admin.action",
            actor=actor,
            outcome="success",
            fields={"action": "user.add", "user": name},
        )
        return UserId(row.id), secret

    def reissue_enrolment(self, session: Session, user_id: UserId, *, actor: str) -> str:
        """A new one-time enrolment secret for someone who cannot sign in yet (invited, or
        whose factors were removed by a four-eyes `remove_mfa` proposal).

        Refused while the user has a sign-in factor: the secret enrols an authenticator of
        its holder's choosing, so whoever asks for it could otherwise act as the user.
        """
        row = self.user_row(session, user_id, lock=True)
        if row.state == UserState.REMOVED.value:
            raise Conflict(f"user {row.username} is removed")
        if self.mfa.has_factors(session, row.id):
            raise Conflict(
                f"{row.username} can already sign in; a new enrolment secret would let its "
                "holder act as them. Propose removing their factors first (kinko mfa reset, "
                "four eyes), then reissue",
                code="has_factors",
            )
        secret = "enr_" + secrets.token_urlsafe(24)
        row.enrolment_hash = sha256(secret.encode())
        row.enrolment_expires = self.now() + ENROLMENT_TTL
        self.audit(
            session, actor=actor, action="identity.enrolment_issue", subject=user_actor(row.id)
        )
        return secret

    def check_enrolment(self, session: Session, username: str, secret: str) -> UserRow:
        """The user an enrolment secret belongs to, or `AuthenticationError` saying why.

        Only someone who holds the right secret learns more than "wrong name or secret":
        that it expired or was already used (a used secret's hash is kept for that).
        """
        row = self.user_by_name(session, username)
        if (
            row is None
            or row.enrolment_hash is None
            or not same_hash(secret.strip().encode(), row.enrolment_hash)
        ):
            raise AuthenticationError(
                "unknown username or wrong enrolment secret: check both (the secret starts "
                "with enr_, exactly as 'kinko user add' printed it)",
                code="enrolment_invalid",
            )
        if row.enrolment_expires is None:
            raise AuthenticationError(
                "this enrolment secret was already used (each works once): sign in with the "
                "authenticator it enrolled, or ask a security admin to reset your factors "
                "and issue a new secret",
                code="enrolment_used",
            )
        if row.enrolment_expires <= self.now():
            raise AuthenticationError(
                f"this enrolment secret expired at {isoformat(row.enrolment_expires)} (they "
                "last 72 hours): ask a security admin to issue a new one",
                code="enrolment_expired",
            )
        if row.state not in (UserState.INVITED.value, UserState.ACTIVE.value):
            raise AuthenticationError(
                f"this account is {row.state}: it cannot enrol an authenticator",
                code="enrolment_invalid",
            )
        return row

    def consume_enrolment(self, session: Session, row: UserRow) -> None:
        # The hash stays (with no expiry) so that the secret, tried again, is "already used".
        row.enrolment_expires = None
        if row.state == UserState.INVITED.value:
            row.state = UserState.ACTIVE.value
            row.updated_at = self.now()
            self.audit(
                session,
                actor=user_actor(row.id),
                action="identity.user_activate",
                subject=user_actor(row.id),
            )

    def get(self, session: Session, user_id: UserId) -> User:
        return to_user(self.user_row(session, user_id))

    def list_users(self, session: Session) -> list[User]:
        rows = session.execute(select(UserRow).order_by(UserRow.username)).scalars()
        return [to_user(r) for r in rows]

    def set_state(
        self,
        session: Session,
        user_id: UserId,
        state: UserState,
        *,
        actor: str,
        reason: str,
        proposal: str | None = None,
    ) -> User:
        """Suspend, reinstate or remove a user. Suspending or removing revokes access.

        The mechanism only: people change states through `RoleService.change_state`
        (four eyes for privileged people and for reinstating anyone); the monitor's lock
        and its two-person release call this directly. Emits ``user.state`` with the new
        state as outcome.
        """
        if not reason.strip():
            raise InputError("reason", "say why the user's state changes")
        row = self.user_row(session, user_id, lock=True)
        old = UserState(row.state)
        if old == UserState.REMOVED:
            raise Conflict(f"user {row.username} is removed; removal is final")
        if state == UserState.INVITED or (state == UserState.ACTIVE and old != UserState.SUSPENDED):
            raise InputError("state", f"cannot move a user from {old.value} to {state.value}")
        held = {g.role for g in roles_held(session, user_id)}
        row.state = state.value
        row.updated_at = self.now()
        if state in (UserState.SUSPENDED, UserState.REMOVED):
            self.revoke_access(session, user_id)
        self.audit(
            session,
            actor=actor,
            action=f"identity.user_{state.value}",
            subject=user_actor(row.id),
            previous=old.value,
            reason=reason,
            proposal=proposal,
        )
        privileged = bool(held & PRIVILEGED_ROLES)
        self.emit(
            session,
            "user.state",
            actor=actor,
            outcome=state.value,
            severity="high" if privileged else "medium",
            fields={
                "action": f"user.{state.value}",
                "user": row.username,
                "target_user": row.id,
                "target_username": row.username,
                "previous": old.value,
                "privileged": privileged,
                "security_admin": Role.SECURITY_ADMIN in held,
                "roles": sorted(r.value for r in held),
                "proposal": proposal,
            },
        )
        return to_user(row)

    def lock_user(self, session: Session, user_id: UserId, *, actor: str, reason: str) -> User:
        """Suspend at once and revoke every session and API token (monitor responses)."""
        return self.set_state(session, user_id, UserState.SUSPENDED, actor=actor, reason=reason)

    def revoke_access_sessions_only(self, session: Session, user_id: UserId) -> None:
        self.sessions.end_all(session, user_id)

    def revoke_access(self, session: Session, user_id: UserId) -> None:
        now = self.now()
        self.revoke_access_sessions_only(session, user_id)
        session.execute(
            update(ApiTokenRow)
            .where(ApiTokenRow.owner_id == user_id, ApiTokenRow.revoked_at.is_(None))
            .values(revoked_at=now)
        )
