"""MFA factors: WebAuthn credentials and challenges, TOTP, recovery codes.

Privileged roles (approver, senior_approver, security_admin, ciso) use WebAuthn with
user verification only, unless `allow_weak_mfa_for_privileged` is set.
"""

from __future__ import annotations

import secrets
from datetime import timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from kinko.core.errors import AuthenticationError, Conflict, InputError, PermissionDenied
from kinko.core.ids import new_id
from kinko.identity import totp
from kinko.identity.base import ServiceBase, same_hash, sha256, user_actor
from kinko.identity.model import RoleGrant, UserId, WebAuthnCredential
from kinko.identity.permissions import PRIVILEGED_ROLES, WEBAUTHN_ONLY_ROLES
from kinko.identity.secretbox import SecretBox
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
RECOVERY_CODES = 10


def needs_user_verification(roles: tuple[RoleGrant, ...]) -> bool:
    return any(g.role in PRIVILEGED_ROLES for g in roles)


def webauthn_only(roles: tuple[RoleGrant, ...]) -> bool:
    return any(g.role in WEBAUTHN_ONLY_ROLES for g in roles)


class MfaService(ServiceBase):
    @property
    def rp(self) -> RelyingParty:
        s = self.ctx.settings
        return RelyingParty(s.webauthn_rp_id, s.webauthn_rp_name, s.webauthn_origin)

    def _roles(self, session: Session, user_id: str) -> tuple[RoleGrant, ...]:
        from kinko.identity.roles import RoleService

        return RoleService(self.ctx).roles_of(session, user_id)

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
        self, session: Session, *, user_id: str | None, purpose: str
    ) -> tuple[str, bytes]:
        challenge = secrets.token_bytes(32)
        row = WebAuthnChallengeRow(
            id=new_id("chl"),
            user_id=user_id,
            purpose=purpose,
            challenge=challenge,
            expires_at=self.now() + CHALLENGE_TTL,
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

    def begin_assertion(self, session: Session, user: UserRow | None) -> tuple[str, dict[str, Any]]:
        """Options for a sign-in. For an unknown user the options look the same (no oracle)."""
        user_id = user.id if user is not None else None
        challenge_id, challenge = self.new_challenge(session, user_id=user_id, purpose="login")
        allow = [c.credential_id for c in self.credentials_for(session, user.id)] if user else []
        require_uv = needs_user_verification(self._roles(session, user.id)) if user else True
        return challenge_id, authentication_options(
            self.rp, challenge=challenge, allow=allow, require_uv=require_uv
        )

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

    # --- TOTP ---------------------------------------------------------------------------
    def _box(self) -> SecretBox:
        return SecretBox.from_file(self.ctx.settings.resolved_secret_key_path)

    def enroll_totp(self, session: Session, user_id: UserId, *, actor: str) -> tuple[str, str, str]:
        """Add a TOTP factor; returns (factor id, base32 secret, otpauth URI), shown once."""
        user = self.user_row(session, user_id, lock=True)
        if (
            webauthn_only(self._roles(session, user_id))
            and not self.ctx.settings.allow_weak_mfa_for_privileged
        ):
            raise PermissionDenied(
                f"{user.username} holds a privileged role: WebAuthn is the only factor allowed "
                "(set allow_weak_mfa_for_privileged to weaken this; inspection reports it)",
                code="weak_mfa_refused",
            )
        if any(r.removed_at is None for r in self._totp_rows(session, user_id)):
            raise Conflict(f"{user.username} already has a TOTP factor; reset it first")
        secret = totp.new_secret()
        factor_id = new_id("totp")
        session.add(
            TotpFactorRow(
                id=factor_id,
                user_id=user_id,
                created_at=self.now(),
                last_step=-1,
                secret_enc=self._box().seal(secret.encode(), context=f"totp:{factor_id}"),
            )
        )
        self.audit(
            session,
            actor=actor,
            action="identity.mfa_add",
            subject=user_actor(user_id),
            factor="totp",
            factor_id=factor_id,
        )
        self.emit(
            session,
            "auth.mfa",
            actor=actor,
            outcome="factor_added",
            fields={"factor": "totp", "user": user.username},
        )
        return (
            factor_id,
            secret,
            totp.provisioning_uri(
                secret, username=user.username, issuer=self.ctx.settings.webauthn_rp_name
            ),
        )

    def _totp_rows(
        self, session: Session, user_id: str, *, lock: bool = False
    ) -> list[TotpFactorRow]:
        q = select(TotpFactorRow).where(TotpFactorRow.user_id == user_id)
        if lock:
            q = q.with_for_update()
        return list(session.execute(q).scalars())

    def check_totp(self, session: Session, user: UserRow, code: str) -> None:
        """Verify and consume a TOTP code (the row lock serialises concurrent attempts)."""
        self._refuse_weak(session, user)
        rows = [r for r in self._totp_rows(session, user.id, lock=True) if r.removed_at is None]
        if not rows:
            raise AuthenticationError("invalid credentials")
        row = rows[0]
        secret = self._box().open(row.secret_enc, context=f"totp:{row.id}").decode()
        row.last_step = totp.verify_totp(secret, code, now=self.now(), last_step=row.last_step)

    def _refuse_weak(self, session: Session, user: UserRow) -> None:
        if (
            webauthn_only(self._roles(session, user.id))
            and not self.ctx.settings.allow_weak_mfa_for_privileged
        ):
            raise AuthenticationError("invalid credentials", code="weak_mfa_refused")

    # --- Recovery codes -----------------------------------------------------------------
    def new_recovery_codes(self, session: Session, user_id: UserId, *, actor: str) -> list[str]:
        """Replace unused recovery codes with fresh ones; returned once, stored hashed."""
        self.user_row(session, user_id, lock=True)
        now = self.now()
        session.execute(
            update(RecoveryCodeRow)
            .where(RecoveryCodeRow.user_id == user_id, RecoveryCodeRow.used_at.is_(None))
            .values(used_at=now)
        )
        codes = ["-".join(secrets.token_hex(3) for _ in range(4)) for _ in range(RECOVERY_CODES)]
        for code in codes:
            session.add(
                RecoveryCodeRow(user_id=user_id, code_hash=sha256(code.encode()), created_at=now)
            )
        self.audit(
            session,
            actor=actor,
            action="identity.recovery_codes_issue",
            subject=user_actor(user_id),
            count=len(codes),
        )
        return codes

    def use_recovery_code(self, session: Session, user: UserRow, code: str) -> None:
        self._refuse_weak(session, user)
        rows = session.execute(
            select(RecoveryCodeRow)
            .where(RecoveryCodeRow.user_id == user.id, RecoveryCodeRow.used_at.is_(None))
            .with_for_update()
        ).scalars()
        normalised = code.strip().lower().encode()
        match = None
        for row in rows:
            if same_hash(normalised, row.code_hash) and match is None:
                match = row
        if match is None:
            raise AuthenticationError("invalid credentials")
        match.used_at = self.now()

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
