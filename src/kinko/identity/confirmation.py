"""A pending browser confirmation: the one mechanism behind `kinko login` and
`kinko token create --browser` (RFC 8628's device authorization grant, adapted).

A CLI asks for something only a person at their browser, with their security key, may
grant. It gets a request code to poll with (only its SHA-256 is stored) and a short user
code for the person (8 consonants, RFC 8628 §6.1). The person opens the console page
signed in, checks what asks, and approves with a fresh WebAuthn assertion over a challenge
bound to the request (only the latest one issued for it counts), or denies it. The CLI
polls; once approved it collects what the request grants, exactly once. Requests last
`TTL`; polls answer with RFC 8628 §3.5's error names (``authorization_pending``,
``slow_down``, ``access_denied``, ``expired_token``) and keep `INTERVAL_S` apart.

What each purpose adds is a subclass of `Confirmations`: the device login issues a
session (`kinko.identity.device`), the token request checks the terms and mints the token
(`kinko.identity.token_requests`).
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any, ClassVar, Generic, TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from kinko.core.errors import (
    AuthenticationError,
    InputError,
    KinkoError,
    NotFound,
    PermissionDenied,
)
from kinko.identity.base import ServiceBase
from kinko.identity.binding import StepUp
from kinko.identity.model import UserId
from kinko.identity.sessions import session_key
from kinko.store.tables.device import DeviceAuthorizationRow, TokenRequestRow

# RFC 8628 §6.1: consonants only (no vowels: no words; no 0/O, 1/I confusion).
USER_CODE_ALPHABET = "BCDFGHJKLMNPQRSTVWXZ"
USER_CODE_LETTERS = 8
TTL = timedelta(minutes=10)
INTERVAL_S = 2
# A poll this much earlier than `interval` after the previous one still passes (jitter).
POLL_SLACK = timedelta(milliseconds=500)

PENDING, APPROVED, DENIED, ISSUED = "pending", "approved", "denied", "issued"

Row = TypeVar("Row", DeviceAuthorizationRow, TokenRequestRow)
View = TypeVar("View", bound="PendingRequest")
T = TypeVar("T")


class ConfirmationError(KinkoError):
    """A poll that gets nothing (yet): HTTP 400 with RFC 8628 §3.5's error name."""

    http_status: ClassVar[int] = 400
    exit_code: ClassVar[int] = 1


@dataclass(frozen=True, slots=True)
class Wording:
    """How one purpose's messages name things."""

    command: str  # what the person runs again: "kinko login"
    request: str  # what waits: "device login"
    code_kind: str  # what the user code is: "device-login code"
    verb: str  # what the person does: "approve"
    expired: str  # the start of expired_token's message
    denied: str  # access_denied's message
    pending: str  # authorization_pending's message
    unknown_code: str  # the error code of a user code nothing waits for
    mismatch_code: str  # ... of an answer to a challenge that is not the latest
    not_yours_code: str = "confirmation_not_yours"  # ... of another person's request


@dataclass(frozen=True, slots=True)
class Answer:
    """A person's answer to a request: the code they typed, who they are, from where."""

    user_code: str
    person: UserId
    source_ip: str | None


@dataclass(frozen=True, slots=True)
class Begun:
    code: str  # the request code the CLI polls with
    user_code: str
    expires_in: int
    interval: int


@dataclass(frozen=True, slots=True)
class PendingRequest:
    """What the confirmation page shows of any request."""

    user_code: str
    client: str
    source_ip: str | None
    created_at: datetime
    expires_at: datetime
    status: str


def pending_fields(row: DeviceAuthorizationRow | TokenRequestRow) -> dict[str, Any]:
    """A row's `PendingRequest` fields (keywords)."""
    return {
        "user_code": row.user_code,
        "client": row.client,
        "source_ip": row.source_ip,
        "created_at": row.created_at,
        "expires_at": row.expires_at,
        "status": row.status,
    }


def normalise_user_code(text: str, words: Wording) -> str:
    """``ABCD-EFGH`` from what a person typed (any case, spaces or dashes anywhere)."""
    letters = re.sub(r"[\s-]", "", text).upper()
    if len(letters) != USER_CODE_LETTERS or any(c not in USER_CODE_ALPHABET for c in letters):
        raise InputError(
            "code",
            f"is not a {words.code_kind}: 8 letters as '{words.command}' shows them, e.g. "
            "BCDF-GHJK (no vowels, no digits)",
        )
    return f"{letters[:4]}-{letters[4:]}"


def clean_client(client: str) -> str:
    text = " ".join(client.split())
    if not text or len(text) > 200 or not text.isprintable():
        raise InputError(
            "client",
            "must say what asks to sign in, e.g. 'kinko-cli 1.2.0 on build-host' "
            "(1-200 printable characters)",
        )
    return text


class Confirmations(ServiceBase, Generic[Row, View]):
    """The requests of one purpose: opened by a CLI, answered by a person in the browser,
    collected by the CLI. A subclass names its table and wording and fills in the hooks
    (`_view`, `_begin_step_up`, `_verify`, `_decided`, `_refused`, `_owner_of`)."""

    row_type: type[Row]
    words: Wording
    # What an approval attempt refused with is audited as (in its own transaction).
    refusals: tuple[type[KinkoError], ...] = (KinkoError,)

    # --- the person's side, in the browser ------------------------------------------------
    def request(self, session: Session, user_code: str, person: UserId | None = None) -> View:
        return self._view(self._pending(session, user_code, person))

    def challenge(
        self, session: Session, user_code: str, person: UserId
    ) -> tuple[str, dict[str, Any], View]:
        """A one-time WebAuthn challenge bound to this request and this person; only the
        latest one issued for the request can approve it."""
        row = self._pending(session, user_code, person, lock=True)
        challenge_id, options = self._begin_step_up(session, row, person)
        row.challenge_id = challenge_id
        return challenge_id, options, self._view(row)

    def approve(
        self,
        user_code: str,
        person: UserId,
        challenge_id: str,
        credential: dict[str, Any],
        *,
        source_ip: str | None,
    ) -> View:
        """Approve with a fresh assertion over this request's latest challenge; a refusal
        is recorded (`_refused`, in its own transaction) and re-raised."""
        answer = Answer(user_code, person, source_ip)
        step_up = StepUp(challenge_id, credential)
        try:
            with self.ctx.db.transaction() as session:
                row = self._pending(session, user_code, person, lock=True)
                if row.challenge_id != challenge_id:
                    raise AuthenticationError(
                        "this security-key challenge is not the one issued for this "
                        f"{self.words.request}: reload the page and {self.words.verb} again",
                        code=self.words.mismatch_code,
                    )
                self._verify(session, row, answer, step_up)
                self._decide(session, row, answer, APPROVED)
                return self._view(row)
        except self.refusals as exc:
            with self.ctx.db.transaction() as session:
                self._refused(session, answer, step_up, exc)
            raise

    def deny(
        self, session: Session, user_code: str, person: UserId, *, source_ip: str | None
    ) -> View:
        row = self._pending(session, user_code, person, lock=True)
        self._decide(session, row, Answer(user_code, person, source_ip), DENIED)
        return self._view(row)

    # --- the CLI's side -------------------------------------------------------------------
    def _open(
        self,
        session: Session,
        now: datetime,
        *,
        client: str,
        source_ip: str | None,
        user_code: str | None = None,
        **fields: Any,
    ) -> tuple[Begun, Row]:
        """A new pending request (`fields`: the purpose's own columns)."""
        code = secrets.token_urlsafe(32)
        row = self.row_type(
            id=session_key(code),
            user_code=user_code or self._fresh_user_code(session, now),
            client=client,
            source_ip=source_ip,
            created_at=now,
            expires_at=now + TTL,
            interval_s=INTERVAL_S,
            status=PENDING,
            **fields,
        )
        session.add(row)
        return Begun(code, row.user_code, int(TTL.total_seconds()), INTERVAL_S), row

    def _collect(
        self,
        code: str,
        person: UserId | None,
        issue: Callable[[Session, Row], T | ConfirmationError],
    ) -> T:
        """What `issue` makes of the approved request `code` (marked issued: exactly once),
        else its `ConfirmationError`. The poll is kept either way (slow_down counts it)."""
        outcome: T | ConfirmationError
        with self.ctx.db.transaction() as session:
            row = self._polled(session, code, person)
            if isinstance(row, ConfirmationError):
                outcome = row
            else:
                outcome = issue(session, row)
                if not isinstance(outcome, ConfirmationError):
                    row.status = ISSUED
        if isinstance(outcome, ConfirmationError):
            raise outcome
        return outcome

    def _polled(
        self, session: Session, code: str, person: UserId | None
    ) -> Row | ConfirmationError:
        now = self.now()
        row = session.get(self.row_type, session_key(code), with_for_update=True)
        owner = self._owner_of(row) if row is not None else None
        if (
            row is None
            or (owner is not None and owner != person)
            or row.status == ISSUED
            or row.expires_at <= now
        ):
            return ConfirmationError(
                f"{self.words.expired}: run '{self.words.command}' again", code="expired_token"
            )
        last, row.last_polled_at = row.last_polled_at, now
        if last is not None and now - last < timedelta(seconds=row.interval_s) - POLL_SLACK:
            return ConfirmationError(
                f"polling too fast: wait at least {row.interval_s} s between polls",
                code="slow_down",
            )
        if row.status == DENIED:
            return ConfirmationError(self.words.denied, code="access_denied")
        if row.status == PENDING:
            return ConfirmationError(self.words.pending, code="authorization_pending")
        return row

    # --- plumbing -------------------------------------------------------------------------
    def _pending(
        self, session: Session, user_code: str, person: UserId | None, *, lock: bool = False
    ) -> Row:
        code = normalise_user_code(user_code, self.words)
        table = self.row_type
        query = select(table).where(
            table.user_code == code, table.status == PENDING, table.expires_at > self.now()
        )
        row = session.execute(query.with_for_update() if lock else query).scalars().first()
        if row is None:
            raise NotFound(
                f"no {self.words.request} waits for code {code}: it expired (codes last "
                f"{int(TTL.total_seconds() // 60)} minutes), was already answered, or was "
                f"mistyped. Run '{self.words.command}' again for a new code",
                code=self.words.unknown_code,
            )
        owner = self._owner_of(row)
        if owner is not None and owner != person:
            raise PermissionDenied(
                f"the {self.words.request} {code} was started by another person: only they "
                f"can {self.words.verb} it, signed in as themselves",
                code=self.words.not_yours_code,
            )
        return row

    def _decide(self, session: Session, row: Row, answer: Answer, status: str) -> None:
        row.status, row.decided_at, row.decided_ip = status, self.now(), answer.source_ip
        self._decided(session, row, replace(answer, user_code=row.user_code), status)

    def _fresh_user_code(self, session: Session, now: datetime) -> str:
        table = self.row_type
        while True:
            letters = "".join(secrets.choice(USER_CODE_ALPHABET) for _ in range(8))
            code = f"{letters[:4]}-{letters[4:]}"
            taken = session.execute(
                select(table.id).where(table.user_code == code, table.expires_at > now)
            ).first()
            if taken is None:
                return code

    # --- what a purpose fills in ----------------------------------------------------------
    def _view(self, row: Row) -> View:
        raise NotImplementedError

    def _owner_of(self, row: Row) -> str | None:
        """Who alone may answer and collect `row` (None: any signed-in person answers)."""
        return None

    def _begin_step_up(
        self, session: Session, row: Row, person: UserId
    ) -> tuple[str, dict[str, Any]]:
        raise NotImplementedError

    def _verify(self, session: Session, row: Row, answer: Answer, step_up: StepUp) -> None:
        """Check the person's fresh assertion (`step_up`) over the request's challenge."""
        raise NotImplementedError

    def _decided(self, session: Session, row: Row, answer: Answer, status: str) -> None:
        """The audit entry (and any security event) of an approval or denial."""

    def _refused(self, session: Session, answer: Answer, step_up: StepUp, exc: KinkoError) -> None:
        """Record an approval attempt refused with `exc`."""
