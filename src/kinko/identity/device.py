"""Device login for the CLI: RFC 8628's device authorization grant, adapted.

`kinko login` asks for a device code (`begin`) and shows its user code; the person opens
``/console/device?code=...`` signed in, checks the code, the client and where the request
came from, and approves with a fresh WebAuthn assertion over a challenge that commits to
this request (`approve`) — or denies it. The CLI polls (`poll`) and, once approved,
collects a personal session of the approver exactly once: a ``cli`` session
(`kinko.identity.sessions`), the person's own current permissions, stored hashed,
revocable, ``cli_session_ttl_s`` long.

Only the SHA-256 of a device code is stored. Poll answers use RFC 8628 §3.5's error names
(``authorization_pending``, ``slow_down``, ``access_denied``, ``expired_token``).
"""

from __future__ import annotations

import hashlib
import math
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, ClassVar

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from kinko.core.canonical import canonical_json
from kinko.core.errors import AuthenticationError, InputError, KinkoError, NotFound, RateLimited
from kinko.identity.base import ServiceBase, user_actor
from kinko.identity.login import record_sign_in
from kinko.identity.mfa import MfaService
from kinko.identity.model import UserId, UserState
from kinko.identity.sessions import CLI, SessionService, session_key
from kinko.store.tables.device import DeviceAuthorizationRow

# RFC 8628 §6.1: consonants only (no vowels: no words; no 0/O, 1/I confusion).
USER_CODE_ALPHABET = "BCDFGHJKLMNPQRSTVWXZ"
USER_CODE_LETTERS = 8
DEVICE_TTL = timedelta(minutes=10)
INTERVAL_S = 2
# A poll this much earlier than `interval` after the previous one still passes (jitter).
POLL_SLACK = timedelta(milliseconds=500)
# Requests per source address in BEGIN_WINDOW: a person needs one; a script that asks for
# hundreds is refused (429) before it fills the table or guesses at user codes.
BEGIN_LIMIT = 10
BEGIN_WINDOW = timedelta(minutes=10)
PURPOSE = "device_login"
VERIFICATION_PATH = "/console/device"

PENDING, APPROVED, DENIED, ISSUED = "pending", "approved", "denied", "issued"


class DeviceFlowError(KinkoError):
    """A poll that gets no session (yet): HTTP 400 with RFC 8628 §3.5's error name."""

    http_status: ClassVar[int] = 400
    exit_code: ClassVar[int] = 1


@dataclass(frozen=True, slots=True)
class Begun:
    device_code: str
    user_code: str
    expires_in: int
    interval: int


@dataclass(frozen=True, slots=True)
class Issued:
    session_token: str
    expires_at: datetime
    user_id: UserId
    username: str


@dataclass(frozen=True, slots=True)
class DeviceRequest:
    """What the approval page shows."""

    user_code: str
    client: str
    source_ip: str | None
    created_at: datetime
    expires_at: datetime
    status: str


def normalise_user_code(text: str) -> str:
    """``ABCD-EFGH`` from what a person typed (any case, spaces or dashes anywhere)."""
    letters = re.sub(r"[\s-]", "", text).upper()
    if len(letters) != USER_CODE_LETTERS or any(c not in USER_CODE_ALPHABET for c in letters):
        raise InputError(
            "code",
            "is not a device-login code: 8 letters as 'kinko login' shows them, e.g. "
            "BCDF-GHJK (no vowels, no digits)",
        )
    return f"{letters[:4]}-{letters[4:]}"


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


def _view(row: DeviceAuthorizationRow) -> DeviceRequest:
    return DeviceRequest(
        row.user_code, row.client, row.source_ip, row.created_at, row.expires_at, row.status
    )


def _clean_client(client: str) -> str:
    text = " ".join(client.split())
    if not text or len(text) > 200 or not text.isprintable():
        raise InputError(
            "client",
            "must say what asks to sign in, e.g. 'kinko-cli 1.2.0 on build-host' "
            "(1-200 printable characters)",
        )
    return text


class DeviceLoginService(ServiceBase):
    # --- the CLI's side: public ----------------------------------------------------------
    def begin(self, client: str, *, source_ip: str | None) -> Begun:
        name = _clean_client(client)
        now = self.now()
        with self.ctx.db.transaction() as session:
            self._check_rate(session, source_ip, now)
            device_code = secrets.token_urlsafe(32)
            row = DeviceAuthorizationRow(
                id=session_key(device_code),
                user_code=self._fresh_user_code(session, now),
                client=name,
                source_ip=source_ip,
                created_at=now,
                expires_at=now + DEVICE_TTL,
                interval_s=INTERVAL_S,
                status=PENDING,
            )
            session.add(row)
            self.audit(
                session,
                actor=f"anonymous:{source_ip or '?'}",
                action="identity.device_begin",
                subject=f"device:{row.user_code}",
                client=name,
                source_ip=source_ip,
            )
            return Begun(device_code, row.user_code, int(DEVICE_TTL.total_seconds()), INTERVAL_S)

    def poll(self, device_code: str, *, source_ip: str | None) -> Issued:
        """The session, once approved (exactly once), else `DeviceFlowError`."""
        with self.ctx.db.transaction() as session:
            outcome = self._poll(session, device_code, source_ip)
        if isinstance(outcome, DeviceFlowError):
            raise outcome
        return outcome

    def _poll(
        self, session: Session, device_code: str, source_ip: str | None
    ) -> Issued | DeviceFlowError:
        now = self.now()
        row = session.get(DeviceAuthorizationRow, session_key(device_code), with_for_update=True)
        if row is None or row.status == ISSUED or row.expires_at <= now:
            return DeviceFlowError(
                "this device code is unknown, expired or already used: run 'kinko login' again",
                code="expired_token",
            )
        last, row.last_polled_at = row.last_polled_at, now
        if last is not None and now - last < timedelta(seconds=row.interval_s) - POLL_SLACK:
            return DeviceFlowError(
                f"polling too fast: wait at least {row.interval_s} s between polls",
                code="slow_down",
            )
        if row.status == DENIED:
            return DeviceFlowError("the sign-in was denied in the console", code="access_denied")
        if row.status == PENDING:
            return DeviceFlowError(
                "waiting for a person to approve this sign-in in the console",
                code="authorization_pending",
            )
        assert row.user_id is not None  # approved
        user = self.user_row(session, row.user_id)
        if user.state != UserState.ACTIVE.value:
            row.status = DENIED
            return DeviceFlowError(f"the account is {user.state}", code="access_denied")
        sessions = SessionService(self.ctx)
        token = sessions.create(session, UserId(user.id), source_ip=source_ip, kind=CLI)
        row.status, row.session_id = ISSUED, session_key(token)
        record_sign_in(
            self,
            session,
            user,
            "device",
            source_ip,
            audit={"client": row.client, "user_code": row.user_code},
            fields={"client": row.client},
        )
        return Issued(token, now + sessions.lifetime(CLI), UserId(user.id), user.username)

    # --- the person's side: signed in ----------------------------------------------------
    def request(self, session: Session, user_code: str) -> DeviceRequest:
        return _view(self._pending(session, user_code))

    def challenge(
        self, session: Session, user_code: str, approver: UserId
    ) -> tuple[str, dict[str, Any]]:
        """A one-time WebAuthn challenge committing to this request and this approver;
        only the latest one issued for the request can approve it."""
        row = self._pending(session, user_code, lock=True)
        bound = device_challenge(row.id, row.user_code, approver, secrets.token_urlsafe(16))
        challenge_id, options = MfaService(self.ctx).begin_step_up(
            session, approver, purpose=PURPOSE, challenge=bound
        )
        row.challenge_id = challenge_id
        return challenge_id, options

    def approve(
        self,
        user_code: str,
        approver: UserId,
        challenge_id: str,
        credential: object,
        *,
        source_ip: str | None,
    ) -> DeviceRequest:
        """Approve with a fresh assertion over this request's challenge; a refusal is
        audited and published (in its own transaction) and re-raised."""
        try:
            with self.ctx.db.transaction() as session:
                row = self._pending(session, user_code, lock=True)
                if row.challenge_id != challenge_id:
                    raise AuthenticationError(
                        "this security-key challenge is not the one issued for this device "
                        "login: reload the page and approve again",
                        code="device_challenge_mismatch",
                    )
                MfaService(self.ctx).verify_step_up(
                    session, approver, challenge_id, credential, purpose=PURPOSE
                )
                self._decide(session, row, approver, APPROVED, source_ip)
                return _view(row)
        except (AuthenticationError, InputError) as exc:
            with self.ctx.db.transaction() as session:
                self._record(
                    session, user_code, approver, "failure", source_ip=source_ip, reason=exc.code
                )
            raise

    def deny(
        self, session: Session, user_code: str, approver: UserId, *, source_ip: str | None
    ) -> DeviceRequest:
        row = self._pending(session, user_code, lock=True)
        self._decide(session, row, approver, DENIED, source_ip)
        return _view(row)

    # --- plumbing -------------------------------------------------------------------------
    def _pending(
        self, session: Session, user_code: str, *, lock: bool = False
    ) -> DeviceAuthorizationRow:
        code = normalise_user_code(user_code)
        query = select(DeviceAuthorizationRow).where(
            DeviceAuthorizationRow.user_code == code,
            DeviceAuthorizationRow.status == PENDING,
            DeviceAuthorizationRow.expires_at > self.now(),
        )
        row = session.execute(query.with_for_update() if lock else query).scalars().first()
        if row is None:
            raise NotFound(
                f"no device login waits for code {code}: it expired (codes last "
                f"{int(DEVICE_TTL.total_seconds() // 60)} minutes), was already answered, or "
                "was mistyped. Run 'kinko login' again for a new code",
                code="device_code_unknown",
            )
        return row

    def _decide(
        self,
        session: Session,
        row: DeviceAuthorizationRow,
        approver: UserId,
        status: str,
        source_ip: str | None,
    ) -> None:
        row.status, row.user_id = status, approver
        row.decided_at, row.decided_ip = self.now(), source_ip
        self._record(session, row.user_code, approver, status, source_ip=source_ip, row=row)

    def _record(
        self,
        session: Session,
        user_code: str,
        approver: UserId,
        outcome: str,
        *,
        source_ip: str | None,
        reason: str | None = None,
        row: DeviceAuthorizationRow | None = None,
    ) -> None:
        """The audit entry and the security event of a decision (or a refused one)."""
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

    def _fresh_user_code(self, session: Session, now: datetime) -> str:
        while True:
            letters = "".join(secrets.choice(USER_CODE_ALPHABET) for _ in range(8))
            code = f"{letters[:4]}-{letters[4:]}"
            taken = session.execute(
                select(DeviceAuthorizationRow.id).where(
                    DeviceAuthorizationRow.user_code == code,
                    DeviceAuthorizationRow.expires_at > now,
                )
            ).first()
            if taken is None:
                return code
