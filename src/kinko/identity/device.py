"""Device login for the CLI: RFC 8628's device authorization grant, adapted.

`kinko login` asks for a device code (`begin`) and shows its user code; the person opens
``/console/device?code=...`` signed in, checks the code, the client and where the request
came from, and approves with a fresh WebAuthn assertion over a challenge that commits to
this request (`approve`) — or denies it. The CLI polls (`poll`) and, once approved,
collects a personal session of the approver exactly once: a ``cli`` session
(`kinko.identity.sessions`), the person's own current permissions, stored hashed,
revocable, ``cli_session_ttl_s`` long.

The request, its codes, expiry, polling (RFC 8628 §3.5's error names) and the approval are
the pending browser confirmation of `kinko.identity.confirmation`; what is the device
login's own is the challenge it binds, the audit and event of each answer, the rate limit
on asking and the session it issues.
"""

from __future__ import annotations

import hashlib
import math
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from kinko.context import Context
from kinko.core.canonical import canonical_json
from kinko.core.errors import AuthenticationError, InputError, KinkoError, RateLimited
from kinko.identity import confirmation as confirming
from kinko.identity.base import user_actor
from kinko.identity.binding import StepUp
from kinko.identity.confirmation import APPROVED, Answer, Begun, ConfirmationError, PendingRequest
from kinko.identity.login import record_sign_in
from kinko.identity.mfa import MfaService
from kinko.identity.model import UserId, UserState
from kinko.identity.sessions import CLI, SessionService, session_key
from kinko.store.tables.device import DeviceAuthorizationRow

# Requests per source address in BEGIN_WINDOW: a person needs one; a script that asks for
# hundreds is refused (429) before it fills the table or guesses at user codes.
BEGIN_LIMIT = 10
BEGIN_WINDOW = timedelta(minutes=10)
PURPOSE = "device_login"
VERIFICATION_PATH = "/console/device"
WORDS = confirming.Wording(
    command="kinko login",
    request="device login",
    code_kind="device-login code",
    verb="approve",
    expired="this device code is unknown, expired or already used",
    denied="the sign-in was denied in the console",
    pending="waiting for a person to approve this sign-in in the console",
    unknown_code="device_code_unknown",
    mismatch_code="device_challenge_mismatch",
)

DeviceFlowError = ConfirmationError
DeviceRequest = PendingRequest


@dataclass(frozen=True, slots=True)
class Issued:
    session_token: str
    expires_at: datetime
    user_id: UserId
    username: str


def device_challenge(device_id: str, user_code: str, approver: str, nonce: str) -> bytes:
    """The WebAuthn challenge of one approval: SHA-256 of canonical JSON committing to this
    device request (its code's hash and user code), the approver and a server nonce."""
    body = {
        "purpose": "kinko device login v1",
        "device": device_id,
        "user_code": user_code,
        "approver": approver,
        "nonce": nonce,
    }
    return hashlib.sha256(canonical_json(body)).digest()


class DeviceLoginService(confirming.Confirmations[DeviceAuthorizationRow, PendingRequest]):
    row_type = DeviceAuthorizationRow
    words = WORDS
    refusals = (AuthenticationError, InputError)

    def __init__(self, ctx: Context, *, mfa: MfaService, sessions: SessionService) -> None:
        """`mfa` and `sessions`: identity's own (the composition root hands them in)."""
        super().__init__(ctx)
        self.mfa = mfa
        self.sessions = sessions

    # --- the CLI's side: public ----------------------------------------------------------
    def begin(self, client: str, *, source_ip: str | None) -> Begun:
        name = confirming.clean_client(client)
        now = self.now()
        with self.ctx.db.transaction() as session:
            self._check_rate(session, source_ip, now)
            begun, row = self._open(session, now, client=name, source_ip=source_ip)
            self.audit(
                session,
                actor=f"anonymous:{source_ip or '?'}",
                action="identity.device_begin",
                subject=f"device:{row.user_code}",
                client=name,
                source_ip=source_ip,
            )
        return begun

    def poll(self, device_code: str, *, source_ip: str | None) -> Issued:
        """The session, once approved (exactly once), else `ConfirmationError`."""
        return self._collect(
            device_code, None, lambda session, row: self._issue(session, row, source_ip)
        )

    def _issue(
        self, session: Session, row: DeviceAuthorizationRow, source_ip: str | None
    ) -> Issued | ConfirmationError:
        assert row.user_id is not None  # approved
        user = self.user_row(session, row.user_id)
        if user.state != UserState.ACTIVE.value:
            row.status = confirming.DENIED
            return ConfirmationError(f"the account is {user.state}", code="access_denied")
        sessions = self.sessions
        token = sessions.create(session, UserId(user.id), source_ip=source_ip, kind=CLI)
        row.session_id = session_key(token)
        record_sign_in(
            self,
            session,
            user,
            "device",
            source_ip,
            audit={"client": row.client, "user_code": row.user_code},
            fields={"client": row.client},
        )
        return Issued(token, self.now() + sessions.lifetime(CLI), UserId(user.id), user.username)

    # --- the confirmation's hooks ---------------------------------------------------------
    def _view(self, row: DeviceAuthorizationRow) -> PendingRequest:
        return PendingRequest(**confirming.pending_fields(row))

    def _begin_step_up(
        self, session: Session, row: DeviceAuthorizationRow, person: UserId
    ) -> tuple[str, dict[str, Any]]:
        bound = device_challenge(row.id, row.user_code, person, secrets.token_urlsafe(16))
        return self.mfa.begin_step_up(session, person, purpose=PURPOSE, challenge=bound)

    def _verify(
        self, session: Session, row: DeviceAuthorizationRow, answer: Answer, step_up: StepUp
    ) -> None:
        self.mfa.verify_step_up(
            session, answer.person, step_up.challenge_id, step_up.credential, purpose=PURPOSE
        )

    def _decided(
        self, session: Session, row: DeviceAuthorizationRow, answer: Answer, status: str
    ) -> None:
        row.user_id = answer.person
        self._record(session, answer, status, row=row)

    def _refused(self, session: Session, answer: Answer, step_up: StepUp, exc: KinkoError) -> None:
        self._record(session, answer, "failure", reason=exc.code)

    # --- plumbing -------------------------------------------------------------------------
    def _record(
        self,
        session: Session,
        answer: Answer,
        outcome: str,
        *,
        reason: str | None = None,
        row: DeviceAuthorizationRow | None = None,
    ) -> None:
        """The audit entry and the security event of a decision (or a refused one)."""
        user_code, approver, source_ip = answer.user_code, answer.person, answer.source_ip
        details = {
            "user_code": user_code,
            "client": row.client if row is not None else None,
            "device_ip": row.source_ip if row is not None else None,
            "source_ip": source_ip,
        }
        action = "identity.device_approve" if outcome == APPROVED else "identity.device_deny"
        if outcome == "failure":
            action = "identity.device_approve_failed"
        self.audit(
            session,
            actor=user_actor(approver),
            action=action,
            subject=f"device:{user_code}",
            reason=reason,
            **details,
        )
        username = self.user_row(session, approver).username
        self.emit(
            session,
            "auth.device",
            actor=user_actor(approver),
            outcome=outcome,
            source_ip=source_ip,
            severity="medium" if outcome == APPROVED else "low",
            fields={**details, "username": username, "reason": reason},
        )

    def _check_rate(self, session: Session, source_ip: str | None, now: datetime) -> None:
        since = now - BEGIN_WINDOW
        recent = session.execute(
            select(func.count(), func.min(DeviceAuthorizationRow.created_at)).where(
                DeviceAuthorizationRow.source_ip == source_ip
                if source_ip is not None
                else DeviceAuthorizationRow.source_ip.is_(None),
                DeviceAuthorizationRow.created_at > since,
            )
        ).one()
        count, oldest = recent
        if count >= BEGIN_LIMIT and oldest is not None:
            retry = max(1, math.ceil((oldest + BEGIN_WINDOW - now).total_seconds()))
            raise RateLimited(
                f"too many device logins asked for from this address ({count} in "
                f"{int(BEGIN_WINDOW.total_seconds() // 60)} minutes): try again in {retry} s",
                retry_after=retry,
            )
