"""The second vote of a four-eyes step is a fresh WebAuthn assertion bound to it.

A session proves who signed in, and how: possibly with TOTP where policy allows it, hours
ago. Approving a privileged step (`kinko.identity.approval_terms.ApprovalKind`) needs
more: the approver's own security key, now, over a challenge that commits to this vote on
this content (`kinko.identity.binding`). The owners of those steps (identity's proposals,
freezes, the address book, monitor responses) take a `SecondVote` and call its `confirm`
after their four-eyes rules passed and before anything applies, so that a person who may
not approve is told why without touching a key, and nothing is applied unconfirmed.

`ApprovalStepUps.presented` is the vote the API hands them, from the request's
``step_up``; `UNSAFE_NO_STEP_UP` skips the check for fixtures and the demo's own
bookkeeping, and says so in the log every time.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy.orm import Session

from kinko.context import Context
from kinko.core.errors import PermissionDenied
from kinko.identity.approval_terms import ApprovalKind, ApprovalTerms
from kinko.identity.base import ServiceBase
from kinko.identity.binding import StepUp, check_binding, new_binding
from kinko.identity.mfa import MfaService
from kinko.identity.model import UserId

log = logging.getLogger(__name__)


class SecondVote(Protocol):
    """What an owner's approve method is handed: confirms the vote `terms` describes
    (`ApprovalTerms.of(kind, id, approver, content)`), or raises."""

    def confirm(self, session: Session, terms: ApprovalTerms) -> None: ...


@dataclass(frozen=True, slots=True)
class _Presented:
    """The step-up a request carried (or None): checked against the vote being cast."""

    step_ups: ApprovalStepUps
    step_up: StepUp | None

    def confirm(self, session: Session, terms: ApprovalTerms) -> None:
        kind, subject = terms.kind, terms.subject
        if self.step_up is None:
            raise PermissionDenied(
                f"approving this {kind.value.replace('_', ' ')} ({subject}) needs a fresh "
                "security-key assertion bound to it: POST /v1/auth/step-up/begin with "
                f'{{"purpose": "approve", "approval": {{"kind": "{kind.value}", '
                f'"subject": "{subject}"}}}}, answer it with your authenticator and send '
                "the answer as step_up; or approve in the console with your security key: "
                f"/console/approvals/{kind.value.replace('_', '-')}/{subject} (CLI: 'kinko "
                f"approval challenge {kind.value.replace('_', '-')} {subject}', then the "
                "approve command with --assertion FILE)",
                code="step_up_required",
            )
        self.step_ups.verify(session, terms, self.step_up)


class ApprovalStepUps(ServiceBase):
    """Step-ups for four-eyes votes: issued bound to the vote, checked against it."""

    def __init__(self, ctx: Context, *, mfa: MfaService) -> None:
        """`mfa`: identity's own (the composition root hands it in)."""
        super().__init__(ctx)
        self.mfa = mfa

    def begin(
        self,
        session: Session,
        kind: ApprovalKind,
        subject: str,
        person: UserId,
        content: Mapping[str, Any],
    ) -> tuple[str, dict[str, Any], ApprovalTerms]:
        """A single-use challenge (5 minutes) for `person`'s own authenticator that
        commits to their vote on `subject` as `content` describes it now."""
        terms = ApprovalTerms.of(kind, subject, person, content)
        challenge, document = new_binding(terms)
        challenge_id, options = self.mfa.begin_step_up(
            session, person, purpose=terms.PURPOSE, challenge=challenge, terms=document
        )
        return challenge_id, options, terms

    def verify(self, session: Session, terms: ApprovalTerms, step_up: StepUp) -> None:
        """The approver's fresh assertion over a challenge bound to exactly `terms`
        (consumed now): ``step_up_mismatch`` for another vote's, ``step_up_refused`` for
        a bad one."""
        self.mfa.verify_step_up(
            session,
            UserId(terms.approver),
            step_up.challenge_id,
            step_up.credential,
            purpose=terms.PURPOSE,
            bound=lambda chal: check_binding(chal.challenge, chal.terms, terms),
        )

    def presented(self, step_up: StepUp | None) -> SecondVote:
        """The vote a request carries: `confirm` checks `step_up` (refuses without one)."""
        return _Presented(self, step_up)


class UnsafeNoStepUp:
    """A vote confirmed without any assertion: for test fixtures and the demo's own
    walk-through only. Logs a warning each time it is used."""

    def confirm(self, session: Session, terms: ApprovalTerms) -> None:
        log.warning(
            "UNSAFE: %s %s approved by %s without a fresh security-key assertion",
            terms.kind.value,
            terms.subject,
            terms.approver,
        )


UNSAFE_NO_STEP_UP = UnsafeNoStepUp()
