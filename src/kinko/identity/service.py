"""The identity service: one entry point for the other parts of Kinko.

It composes the focused services (users, roles, MFA, sessions, tokens, sign-in) and
adds the flows that span them (bootstrap, enrolment). Methods that take a `session`
run inside the caller's transaction; sign-in methods run their own (see login.py).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from kinko.context import Context
from kinko.core.errors import Conflict
from kinko.identity.login import LoginService, SignedIn
from kinko.identity.mfa import MfaService
from kinko.identity.model import (
    ProposalKind,
    RoleGrant,
    TokenId,
    UserId,
    UserState,
    WebAuthnCredential,
)
from kinko.identity.permissions import Role
from kinko.identity.proposals import Proposal, ProposalHandlers
from kinko.identity.roles import RoleService
from kinko.identity.sessions import SessionService
from kinko.identity.sod import ConflictMatrix, check_approvers, check_sod, conflicts
from kinko.identity.token_terms import TokenTerms
from kinko.identity.tokens import TokenService
from kinko.identity.users import User, UserService
from kinko.store.tables.identity import UserRow

__all__ = ["IdentityService", "check_approvers", "check_sod", "conflicts"]


class IdentityService:
    def __init__(self, ctx: Context, *, proposal_handlers: ProposalHandlers | None = None) -> None:
        """`proposal_handlers`: the four-eyes kinds other domains own, each with its
        handler's factory (the composition root, kinko.services, gives them)."""
        self.ctx = ctx
        # Each part once, handed the parts it works with (none builds another).
        self.sessions = SessionService(ctx)
        self.mfa = MfaService(ctx, sessions=self.sessions)
        self.users = UserService(ctx, mfa=self.mfa, sessions=self.sessions)
        self.tokens = TokenService(ctx, mfa=self.mfa)
        self.roles = RoleService(
            ctx,
            proposal_handlers,
            users=self.users,
            tokens=self.tokens,
            mfa=self.mfa,
            sessions=self.sessions,
        )
        self.login = LoginService(ctx, mfa=self.mfa, sessions=self.sessions)

    def bootstrap_admin(self, session: Session, username: str) -> str:
        """Create the first user, holding `security_admin`; returns the enrolment secret.

        Refused once any user exists. The secret is shown once and stored hashed; the
        admin uses it to enrol a WebAuthn authenticator.
        """
        if session.execute(select(func.count()).select_from(UserRow)).scalar_one():
            raise Conflict("users already exist; the first administrator is created only once")
        user_id, secret = self.users.add_user(session, username, actor="system:init")
        self.roles._insert_grant(
            session, user_id, RoleGrant(Role.SECURITY_ADMIN), by="system:init", proposal=None
        )
        self.roles.audit(
            session,
            actor="system:init",
            action="identity.role_bootstrap_grant",
            subject=f"user:{user_id}",
            role=Role.SECURITY_ADMIN.value,
            bootstrap="first setup",
        )
        self.roles.emit(
            session,
            "role.change",
            actor="system:init",
            outcome="approved",
            severity="high",
            fields={
                "kind": "grant_role",
                "role": Role.SECURITY_ADMIN.value,
                "target_user": user_id,
                "target_username": username,
                "privileged": True,
                "security_admin": True,
                "bootstrap": True,
                "at_once": True,
            },
        )
        return secret

    def propose_service_token(
        self, session: Session, terms: TokenTerms, *, actor: UserId, reason: str
    ) -> tuple[Proposal, TokenId, str]:
        """Propose the token `terms` describe for a service account (four eyes). The token
        text is returned now, to the proposer only (stored nowhere: the proposal keeps its
        SHA-256), and works once a second security_admin approves the proposal."""
        payload, token_id, text = self.tokens.service_token(terms)
        proposal = self.roles.propose(
            session, actor=actor, kind=ProposalKind.CREATE_TOKEN, payload=payload, reason=reason
        )
        return proposal, token_id, text

    # --- for other parts of Kinko --------------------------------------------------------
    def lock_user(self, session: Session, user_id: UserId, *, actor: str, reason: str) -> User:
        """Suspend a user and revoke their sessions and API tokens (monitor responses)."""
        return self.users.lock_user(session, user_id, actor=actor, reason=reason)

    def unlock_user(self, session: Session, user_id: UserId, *, actor: str, reason: str) -> None:
        """Make a locked (suspended) user active again (a monitor response released)."""
        self.users.set_state(session, user_id, UserState.ACTIVE, actor=actor, reason=reason)

    def require_step_up(
        self, session: Session, user_id: UserId, *, actor: str, reason: str
    ) -> None:
        """End the user's console sessions so that the next action needs a fresh sign-in.

        API tokens are left alone (use `lock_user` to stop those too).
        """
        user = self.users.user_row(session, user_id, lock=True)
        self.users.revoke_access_sessions_only(session, user_id)
        self.users.audit(
            session,
            actor=actor,
            action="identity.step_up_required",
            subject=f"user:{user.id}",
            reason=reason,
        )
        self.users.emit(
            session,
            "auth.mfa",
            actor=actor,
            outcome="step_up_required",
            severity="medium",
            fields={"user": user.username, "reason": reason},
        )

    def credentials_for(self, session: Session, user_id: str) -> list[WebAuthnCredential]:
        return self.mfa.credentials_for(session, user_id)

    def roles_of(self, session: Session, user_id: str) -> tuple[RoleGrant, ...]:
        return self.roles.roles_of(session, user_id)

    def conflict_matrix(self, session: Session) -> ConflictMatrix:
        return self.roles.conflict_matrix(session)

    # --- enrolment with the one-time secret ----------------------------------------------
    def enrol_webauthn_begin(
        self, session: Session, username: str, secret: str
    ) -> tuple[str, dict[str, Any]]:
        user = self.users.check_enrolment(session, username, secret)
        return self.mfa.begin_registration(session, user)

    def enrol_webauthn_finish(
        self,
        session: Session,
        username: str,
        secret: str,
        challenge_id: str,
        response: object,
        *,
        source_ip: str | None,
    ) -> SignedIn:
        """Register the authenticator, activate the user, consume the secret, sign in."""
        user = self.users.check_enrolment(session, username, secret)
        self.mfa.finish_registration(session, user, challenge_id, response)
        self.users.consume_enrolment(session, user)
        token = self.sessions.create(session, UserId(user.id), source_ip=source_ip)
        return SignedIn(UserId(user.id), user.username, token)

    def enrol_totp(
        self, session: Session, username: str, secret: str
    ) -> tuple[str, str, list[str]]:
        """Enrol TOTP with the enrolment secret (non-privileged users only).

        Returns (TOTP secret, otpauth URI, recovery codes); all shown once.
        """
        user = self.users.check_enrolment(session, username, secret)
        actor = f"user:{user.id}"
        _, totp_secret, uri = self.mfa.enroll_totp(session, UserId(user.id), actor=actor)
        codes = self.mfa.new_recovery_codes(session, UserId(user.id), actor=actor)
        self.users.consume_enrolment(session, user)
        return totp_secret, uri, codes
