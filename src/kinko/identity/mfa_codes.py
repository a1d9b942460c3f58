"""Code factors: TOTP (RFC 6238) and recovery codes, mixed into `MfaService`.

Both are refused for holders of WebAuthn-only roles unless configuration weakens it.
"""

from __future__ import annotations

import secrets

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from kinko.core.errors import AuthenticationError, Conflict, PermissionDenied
from kinko.core.ids import new_id
from kinko.identity import totp
from kinko.identity.base import ServiceBase, same_hash, sha256, user_actor
from kinko.identity.model import RoleGrant, UserId
from kinko.identity.people import roles_held
from kinko.identity.permissions import WEBAUTHN_ONLY_ROLES
from kinko.identity.secretbox import SecretBox
from kinko.store.tables.identity import RecoveryCodeRow, TotpFactorRow, UserRow

RECOVERY_CODES = 10


def webauthn_only(roles: tuple[RoleGrant, ...]) -> bool:
    return any(g.role in WEBAUTHN_ONLY_ROLES for g in roles)


class CodeFactorsMixin(ServiceBase):
    def _roles(self, session: Session, user_id: str) -> tuple[RoleGrant, ...]:
        return roles_held(session, user_id)

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
