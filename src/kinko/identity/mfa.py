"""MFA factors: WebAuthn credentials and challenges here; TOTP and recovery codes in mfa_codes.

Privileged roles (approver, senior_approver, security_admin, ciso) use WebAuthn with
user verification only, unless `allow_weak_mfa_for_privileged` is set.
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from kinko.context import Context
from kinko.core.errors import AuthenticationError, Conflict, InputError, PermissionDenied
from kinko.core.ids import new_id
from kinko.identity.base import user_actor
from kinko.identity.mfa_codes import CodeFactorsMixin
from kinko.identity.model import RoleGrant, UserId, WebAuthnCredential
from kinko.identity.permissions import PRIVILEGED_ROLES
from kinko.identity.sessions import SessionService
from kinko.identity.softauthn import b64url
from kinko.identity.webauthn import (
    RelyingParty,
    authentication_options,
    credential_id_of,
    registration_options,
    verify_assertion,
    verify_registration,
)
from kinko.store.tables.identity import (
    RecoveryCodeRow,
    TotpFactorRow,
    UserRow,
    WebAuthnChallengeRow,
    WebAuthnCredentialRow,
)

CHALLENGE_TTL = timedelta(minutes=5)
STEP_UP = "step_up"
# Used for decoy ids only when no secret key file exists (tests, before `kinko init`).
_PROCESS_DECOY_KEY = secrets.token_bytes(32)


def needs_user_verification(roles: tuple[RoleGrant, ...]) -> bool:
    return any(g.role in PRIVILEGED_ROLES for g in roles)


class MfaService(CodeFactorsMixin):
    def __init__(self, ctx: Context, *, sessions: SessionService) -> None:
        """`sessions`: identity's own (`kinko.identity.service` hands them in)."""
        super().__init__(ctx)
        self.sessions = sessions

    @property
    def rp(self) -> RelyingParty:
        s = self.ctx.settings
        return RelyingParty(s.webauthn_rp_id, s.webauthn_rp_name, s.webauthn_origin)

    # --- WebAuthn ---------------------------------------------------------------------
    def credentials_for(self, session: Session, user_id: str) -> list[WebAuthnCredential]:
        """Enrolled (not removed) WebAuthn credentials: what the signer verifies against."""
        rows = session.execute(
            select(WebAuthnCredentialRow).where(
                WebAuthnCredentialRow.user_id == user_id,
                WebAuthnCredentialRow.removed_at.is_(None),
            )
        ).scalars()
        return [
            WebAuthnCredential(_raw(r.id), UserId(r.user_id), r.public_key, r.sign_count)
            for r in rows
        ]

    def new_challenge(
        self,
        session: Session,
        *,
        user_id: str | None,
        purpose: str,
        challenge: bytes | None = None,
        terms: str | None = None,
    ) -> tuple[str, bytes]:
        """Store a single-use challenge (32 random bytes unless `challenge` is given: one
        that commits to what is approved, e.g. a device login, with `terms`, the document
        it hashes, when the verifier needs it) for 5 minutes."""
        challenge = challenge or secrets.token_bytes(32)
        row = WebAuthnChallengeRow(
            id=new_id("chl"),
            user_id=user_id,
            purpose=purpose,
            challenge=challenge,
            expires_at=self.now() + CHALLENGE_TTL,
            terms=terms,
        )
        session.add(row)
        session.flush()
        return row.id, challenge

    def take_challenge(
        self, session: Session, challenge_id: str, *, purpose: str
    ) -> WebAuthnChallengeRow:
        """Consume a challenge exactly once (this is what makes an assertion non-replayable)."""
        row = session.execute(
            select(WebAuthnChallengeRow)
            .where(WebAuthnChallengeRow.id == challenge_id)
            .with_for_update()
        ).scalar_one_or_none()
        if (
            row is None
            or row.purpose != purpose
            or row.used_at is not None
            or row.expires_at <= self.now()
        ):
            raise AuthenticationError("invalid credentials", code="webauthn_challenge_invalid")
        row.used_at = self.now()
        return row

    def begin_registration(self, session: Session, user: UserRow) -> tuple[str, dict[str, Any]]:
        roles = self._roles(session, user.id)
        challenge_id, challenge = self.new_challenge(session, user_id=user.id, purpose="register")
        options = registration_options(
            self.rp,
            user_handle=user.id.encode(),
            username=user.username,
            challenge=challenge,
            require_uv=needs_user_verification(roles),
            exclude=[c.credential_id for c in self.credentials_for(session, user.id)],
        )
        return challenge_id, options

    def finish_registration(
        self, session: Session, user: UserRow, challenge_id: str, response: object
    ) -> str:
        chal = self.take_challenge(session, challenge_id, purpose="register")
        if chal.user_id != user.id:
            raise AuthenticationError("invalid credentials", code="webauthn_challenge_invalid")
        roles = self._roles(session, user.id)
        reg = verify_registration(
            self.rp, response, challenge=chal.challenge, require_uv=needs_user_verification(roles)
        )
        cred_id = b64url(reg.credential_id)
        if session.get(WebAuthnCredentialRow, cred_id) is not None:
            raise Conflict("this authenticator is already enrolled")
        session.add(
            WebAuthnCredentialRow(
                id=cred_id,
                user_id=user.id,
                public_key=reg.public_key_cose,
                sign_count=reg.sign_count,
                created_at=self.now(),
            )
        )
        self.audit(
            session,
            actor=user_actor(user.id),
            action="identity.mfa_add",
            subject=user_actor(user.id),
            factor="webauthn",
            credential=cred_id,
        )
        self.emit(
            session,
            "auth.mfa",
            actor=user_actor(user.id),
            outcome="factor_added",
            fields={"factor": "webauthn", "credential": cred_id},
        )
        return cred_id

    def begin_assertion(
        self, session: Session, user: UserRow | None, *, username: str
    ) -> tuple[str, dict[str, Any]]:
        """Options for a sign-in, the same shape whether or not `username` exists.

        An unknown (or inactive) name gets a stable decoy credential id derived from the
        name, and user verification is always "preferred" in the options (the server
        still requires the UV flag from holders of privileged roles), so the options do
        not tell who exists or who is privileged.
        """
        user_id = user.id if user is not None else None
        challenge_id, challenge = self.new_challenge(session, user_id=user_id, purpose="login")
        allow = [c.credential_id for c in self.credentials_for(session, user.id)] if user else []
        if not allow:
            allow = [self._decoy_credential_id(username)]
        return challenge_id, authentication_options(
            self.rp, challenge=challenge, allow=allow, require_uv=False
        )

    def _decoy_credential_id(self, username: str) -> bytes:
        path = self.ctx.settings.resolved_secret_key_path
        key = path.read_bytes() if path.is_file() else _PROCESS_DECOY_KEY
        return hmac.new(key, b"kinko decoy credential\x00" + username.encode(), "sha256").digest()

    def finish_assertion(self, session: Session, challenge_id: str, response: object) -> UserRow:
        """Verify a sign-in assertion; returns the user. The challenge is consumed first."""
        chal = self.take_challenge(session, challenge_id, purpose="login")
        raw = credential_id_of(response)
        row = session.execute(
            select(WebAuthnCredentialRow)
            .where(WebAuthnCredentialRow.id == b64url(raw))
            .with_for_update()
        ).scalar_one_or_none()
        if row is None or row.removed_at is not None or chal.user_id != row.user_id:
            raise AuthenticationError("invalid credentials")
        if row.flagged_clone:
            raise AuthenticationError("invalid credentials", code="webauthn_clone_suspected")
        user = self.user_row(session, row.user_id)
        cred = WebAuthnCredential(raw, UserId(row.user_id), row.public_key, row.sign_count)
        result = verify_assertion(
            self.rp,
            response,
            challenge=chal.challenge,
            credential=cred,
            require_uv=needs_user_verification(self._roles(session, user.id)),
        )
        row.sign_count = result.new_sign_count
        row.last_used_at = self.now()
        return user

    # --- step-up: a fresh assertion for one privileged act ----------------------------------
    def begin_step_up(
        self,
        session: Session,
        user_id: UserId,
        *,
        purpose: str = STEP_UP,
        challenge: bytes | None = None,
        terms: str | None = None,
    ) -> tuple[str, dict[str, Any]]:
        """A single-use challenge (5 minutes) for `user_id`'s own WebAuthn credentials
        (`challenge`, when given, commits to the act: `kinko.identity.device`,
        `kinko.identity.token_terms`, whose `terms` are kept with it)."""
        allow = [c.credential_id for c in self.credentials_for(session, user_id)]
        if not allow:
            raise PermissionDenied(
                "this needs a WebAuthn authenticator and you have none enrolled",
                code="webauthn_required",
            )
        challenge_id, challenge = self.new_challenge(
            session, user_id=user_id, purpose=purpose, challenge=challenge, terms=terms
        )
        return challenge_id, authentication_options(
            self.rp, challenge=challenge, allow=allow, require_uv=True
        )

    def verify_step_up(
        self,
        session: Session,
        user_id: UserId,
        challenge_id: str,
        response: object,
        *,
        purpose: str = STEP_UP,
        bound: Callable[[WebAuthnChallengeRow], None] | None = None,
    ) -> None:
        """Check a step-up assertion: `user_id`'s own credential, user verified, over a
        fresh challenge issued to them (consumed now). `AuthenticationError` otherwise.
        `bound`, when given, checks that the challenge committed to the act being done
        (and raises when it did not)."""
        chal = self.take_challenge(session, challenge_id, purpose=purpose)
        if bound is not None and chal.user_id == user_id:
            bound(chal)
        raw = credential_id_of(response)
        row = session.execute(
            select(WebAuthnCredentialRow)
            .where(WebAuthnCredentialRow.id == b64url(raw))
            .with_for_update()
        ).scalar_one_or_none()
        if (
            chal.user_id != user_id
            or row is None
            or row.user_id != user_id
            or row.removed_at is not None
            or row.flagged_clone
        ):
            raise AuthenticationError("invalid credentials", code="step_up_refused")
        cred = WebAuthnCredential(raw, UserId(row.user_id), row.public_key, row.sign_count)
        result = verify_assertion(
            self.rp, response, challenge=chal.challenge, credential=cred, require_uv=True
        )
        row.sign_count = result.new_sign_count
        row.last_used_at = self.now()

    def has_factors(self, session: Session, user_id: str) -> bool:
        """Whether `user_id` can sign in (a WebAuthn credential, TOTP or recovery codes)."""
        return bool(self.factors(session, user_id))

    def flag_clone(self, session: Session, response: object) -> None:
        """Mark the credential a response names as suspected cloned; it stops working."""
        try:
            cred_id = b64url(credential_id_of(response))
        except InputError:
            return
        row = session.get(WebAuthnCredentialRow, cred_id)
        if row is None:
            return
        row.flagged_clone = True
        self.audit(
            session,
            actor="system",
            action="identity.mfa_clone_suspected",
            subject=user_actor(row.user_id),
            credential=cred_id,
        )
        self.emit(
            session,
            "auth.mfa",
            actor=user_actor(row.user_id),
            outcome="clone_suspected",
            severity="high",
            fields={"credential": cred_id},
        )

    def record_sign_count(
        self, session: Session, credential_id: bytes, new_sign_count: int
    ) -> None:
        """Store the counter of an assertion verified elsewhere (withdrawal approvals)."""
        row = session.get(WebAuthnCredentialRow, b64url(credential_id), with_for_update=True)
        if row is None:
            raise AuthenticationError("unknown credential")
        if (new_sign_count > 0 or row.sign_count > 0) and new_sign_count <= row.sign_count:
            raise AuthenticationError("sign count did not advance", code="webauthn_clone_suspected")
        row.sign_count = new_sign_count
        row.last_used_at = self.now()

    def remove_factors(self, session: Session, user_id: UserId, factor: str) -> None:
        """Remove "all" factors or one ("webauthn:<id>", "totp:<id>"); ends sessions.

        Called when a four-eyes ``remove_mfa`` proposal is approved.
        """
        now = self.now()
        kind, _, ident = factor.partition(":")
        if kind in ("all", "webauthn"):
            q = update(WebAuthnCredentialRow).where(
                WebAuthnCredentialRow.user_id == user_id, WebAuthnCredentialRow.removed_at.is_(None)
            )
            if ident:
                q = q.where(WebAuthnCredentialRow.id == ident)
            session.execute(q.values(removed_at=now))
        if kind in ("all", "totp"):
            q2 = update(TotpFactorRow).where(
                TotpFactorRow.user_id == user_id, TotpFactorRow.removed_at.is_(None)
            )
            if ident:
                q2 = q2.where(TotpFactorRow.id == ident)
            session.execute(q2.values(removed_at=now))
        if kind == "all":
            session.execute(
                update(RecoveryCodeRow)
                .where(RecoveryCodeRow.user_id == user_id, RecoveryCodeRow.used_at.is_(None))
                .values(used_at=now)
            )
        self.sessions.end_all(session, user_id)

    def factors(self, session: Session, user_id: str) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = [
            {"factor": f"webauthn:{b64url(c.credential_id)}", "sign_count": c.sign_count}
            for c in self.credentials_for(session, user_id)
        ]
        out += [
            {"factor": f"totp:{r.id}", "sign_count": None}
            for r in self._totp_rows(session, user_id)
            if r.removed_at is None
        ]
        unused = (
            session.execute(
                select(RecoveryCodeRow).where(
                    RecoveryCodeRow.user_id == user_id, RecoveryCodeRow.used_at.is_(None)
                )
            )
            .scalars()
            .all()
        )
        if unused:
            out.append({"factor": "recovery_codes", "sign_count": None, "remaining": len(unused)})
        return out


def _raw(credential_id: str) -> bytes:
    from webauthn.helpers import base64url_to_bytes

    return base64url_to_bytes(credential_id)
