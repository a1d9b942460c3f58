"""The monitor's hands: a small adapter onto the services that freeze, lock and hold.

Those services belong to other parts (policy's freezes, identity's accounts, withdrawals'
holds); the composition root (`kinko.services`) hands them in as typed collaborators. A
response whose collaborator this process was not given raises `Unavailable`: the response
is recorded as failed and the alert still stands (the monitor never pretends it acted).
Freezes, locks and step-ups run in the monitor's transaction, so the response, its audit
entries and the alert commit together; a hold runs in the withdrawal service's own unit of
work right after that commit (it defers its audit entries to its own commit), and the
response row is settled (`applied` or `failed`) in a second, audited transaction.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from sqlalchemy.orm import Session

from kinko.core.errors import PermissionDenied, Unavailable
from kinko.identity.approval_terms import ApprovalKind, ApprovalTerms
from kinko.identity.model import UserId
from kinko.identity.permissions import PRIVILEGED_ROLES
from kinko.identity.step_ups import SecondVote
from kinko.monitor.response_spec import Scope
from kinko.policy.model import FreezeScope


class ResponseActions(Protocol):
    def freeze(
        self, session: Session, *, scope: Scope, target: str | None, reason: str, actor: str
    ) -> str:
        """Freeze and return the freeze id."""
        ...

    def unfreeze(
        self,
        session: Session,
        *,
        ref: str,
        proposer: str,
        approver: str,
        reason: str,
        released: str,
    ) -> None: ...

    def lock_account(self, session: Session, *, user: str, reason: str, actor: str) -> str: ...

    def unlock_account(self, session: Session, *, user: str, reason: str, actor: str) -> None: ...

    def hold_withdrawal(self, *, withdrawal_id: str, reason: str, actor: str) -> str:
        """Hold in the withdrawal service's own unit of work (called after the monitor's
        transaction commits)."""
        ...

    def require_step_up(self, session: Session, *, user: str, reason: str, actor: str) -> str: ...


# --- the collaborators, as the monitor needs them ------------------------------------------


class Freezes(Protocol):
    """Policy's freezes (`kinko.policy.freeze.FreezeService`)."""

    def freeze(
        self,
        session: Session,
        *,
        scope: FreezeScope,
        target: str | None,
        reason: str,
        actor: str,
        require_known_target: bool = False,
    ) -> _Identified: ...

    def propose_unfreeze(
        self, session: Session, *, freeze_id: str, user_id: str, reason: str
    ) -> _Identified: ...

    def approve_unfreeze(
        self, session: Session, *, proposal_id: str, user_id: str, vote: SecondVote
    ) -> object: ...


@dataclass(frozen=True, slots=True)
class ReleasedByVotes:
    """The unfreeze a released response implies. Its two release votes were each
    confirmed with the voter's own bound step-up (`TriageService.vote_release`), so the
    unfreeze proposal made for it needs no third assertion; it vouches for that proposal
    and nothing else."""

    response_id: str
    proposal_id: str

    def confirm(self, session: Session, terms: ApprovalTerms) -> None:
        if terms.kind is not ApprovalKind.PROPOSAL or terms.subject != self.proposal_id:
            raise PermissionDenied(
                f"the release of response {self.response_id} lifts its freeze "
                f"(proposal {self.proposal_id}), nothing else",
                code="step_up_mismatch",
            )


class _Identified(Protocol):
    @property
    def id(self) -> str: ...


class Accounts(Protocol):
    """Identity's accounts (`kinko.identity.service.IdentityService`)."""

    def lock_user(
        self, session: Session, user_id: UserId, *, actor: str, reason: str
    ) -> object: ...

    def unlock_user(
        self, session: Session, user_id: UserId, *, actor: str, reason: str
    ) -> None: ...

    def require_step_up(
        self, session: Session, user_id: UserId, *, actor: str, reason: str
    ) -> None: ...


class Holds(Protocol):
    """Withdrawals' hold (`kinko.withdrawals.holds.WithdrawalHolds`): no chain needed."""

    def hold(self, withdrawal_id: str, *, reason: str, actor: str) -> object: ...


RoleNames = Callable[[Session, str], frozenset[str]]
"""`(session, user id) -> the role names the person holds now` (identity's answer)."""


def user_id_of(actor: str) -> str:
    """Events name staff as ``user:<id>`` (identity's convention) or by bare id."""
    return actor.removeprefix("user:")


def no_roles(session: Session, user: str) -> frozenset[str]:
    """The answer when nobody told the monitor who holds which role: none (so nobody may
    release a response)."""
    del session, user
    return frozenset()


def privileged_by(roles_of: RoleNames | None) -> Callable[[Session, str], bool]:
    """`(session, user) -> bool`: the person holds a privileged role (identity's list).
    Without `roles_of`, or when it fails, everyone counts as privileged: fail closed (a
    response from outside Kinko is then withheld rather than applied to an admin)."""

    def privileged(session: Session, user: str) -> bool:
        if roles_of is None:
            return True
        try:
            names = roles_of(session, user_id_of(user))
        except Unavailable:
            return True
        return bool(names & {str(r) for r in PRIVILEGED_ROLES})

    return privileged


class KinkoActions:
    """The real targets, as handed in: policy's freezes, identity's accounts, withdrawals'
    holds. Any of them missing: that response fails closed (`Unavailable`)."""

    def __init__(
        self,
        *,
        freezes: Freezes | None = None,
        accounts: Accounts | None = None,
        holds: Holds | None = None,
    ) -> None:
        self._freezes = freezes
        self._accounts = accounts
        self._holds = holds

    def _need_freezes(self) -> Freezes:
        if self._freezes is None:
            raise Unavailable("the freeze service is not wired into this monitor")
        return self._freezes

    def _need_accounts(self) -> Accounts:
        if self._accounts is None:
            raise Unavailable("the identity service is not wired into this monitor")
        return self._accounts

    def freeze(
        self, session: Session, *, scope: Scope, target: str | None, reason: str, actor: str
    ) -> str:
        record = self._need_freezes().freeze(
            session, scope=FreezeScope(scope.value), target=target, reason=reason, actor=actor
        )
        return str(record.id)

    def unfreeze(
        self,
        session: Session,
        *,
        ref: str,
        proposer: str,
        approver: str,
        reason: str,
        released: str,
    ) -> None:
        """Two security admins: the first proposes, the second approves (FreezeService
        checks), as the two confirmed votes that released response `released`."""
        service = self._need_freezes()
        proposal = service.propose_unfreeze(session, freeze_id=ref, user_id=proposer, reason=reason)
        service.approve_unfreeze(
            session,
            proposal_id=proposal.id,
            user_id=approver,
            vote=ReleasedByVotes(released, proposal.id),
        )

    def lock_account(self, session: Session, *, user: str, reason: str, actor: str) -> str:
        user_id = UserId(user_id_of(user))
        self._need_accounts().lock_user(session, user_id, actor=actor, reason=reason)
        return user_id

    def unlock_account(self, session: Session, *, user: str, reason: str, actor: str) -> None:
        user_id = UserId(user_id_of(user))
        self._need_accounts().unlock_user(session, user_id, actor=actor, reason=reason)

    def hold_withdrawal(self, *, withdrawal_id: str, reason: str, actor: str) -> str:
        if self._holds is None:
            raise Unavailable("the withdrawal service is not wired into this monitor")
        self._holds.hold(withdrawal_id, reason=reason, actor=actor)
        return withdrawal_id

    def require_step_up(self, session: Session, *, user: str, reason: str, actor: str) -> str:
        """End the user's console sessions: their next action needs a fresh MFA sign-in.
        An unknown user is refused by the identity service (`NotFound`): recorded `failed`."""
        user_id = UserId(user_id_of(user))
        self._need_accounts().require_step_up(session, user_id, actor=actor, reason=reason)
        return user_id
