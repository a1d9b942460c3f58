"""The monitor's hands: a small adapter onto the services that freeze, lock and hold.

Those services belong to other parts (policy/withdrawals, identity), so they are imported
lazily: a missing one raises `Unavailable`, the response is recorded as failed and the
alert still stands (the monitor never pretends it acted). Every call runs in the
monitor's transaction, so the response, its audit entries and the alert commit together.
"""

from __future__ import annotations

import importlib
from typing import Any, Protocol

from sqlalchemy.orm import Session

from kinko.context import Context
from kinko.core.errors import Unavailable
from kinko.monitor.response_spec import Scope


class ResponseActions(Protocol):
    def freeze(
        self, session: Session, *, scope: Scope, target: str | None, reason: str, actor: str
    ) -> str:
        """Freeze and return the freeze id."""
        ...

    def unfreeze(
        self, session: Session, *, ref: str, proposer: str, approver: str, reason: str
    ) -> None: ...

    def lock_account(self, session: Session, *, user: str, reason: str, actor: str) -> str: ...

    def unlock_account(self, session: Session, *, user: str, reason: str, actor: str) -> None: ...

    def hold_withdrawal(
        self, session: Session, *, withdrawal_id: str, reason: str, actor: str
    ) -> str: ...

    def require_step_up(self, session: Session, *, user: str, reason: str, actor: str) -> str: ...


def _load(module: str, what: str) -> Any:
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise Unavailable(f"{what} is not available ({module} cannot be imported)") from exc


def identity_role_names(ctx: Context) -> Any:
    """`(session, user) -> role names` from the identity service; fails closed if absent."""

    def roles_of(session: Session, user: str) -> frozenset[str]:
        module = _load("kinko.identity.service", "the identity service")
        grants = module.IdentityService(ctx).roles_of(session, user_id_of(user))
        return frozenset(str(getattr(g, "role", g)) for g in grants)

    return roles_of


def user_id_of(actor: str) -> str:
    """Events name staff as ``user:<id>`` (identity's convention) or by bare id."""
    return actor.removeprefix("user:")


class KinkoActions:
    """The real targets: `FreezeService`, the identity service, the withdrawal records."""

    def __init__(self, ctx: Context, *, roles_of: Any = None) -> None:
        self.ctx = ctx
        self.roles_of = roles_of or identity_role_names(ctx)

    def _freezes(self) -> Any:
        freeze = _load("kinko.withdrawals.freeze", "the freeze service")
        return freeze.FreezeService(self.ctx, roles_of=self.roles_of)

    def freeze(
        self, session: Session, *, scope: Scope, target: str | None, reason: str, actor: str
    ) -> str:
        model = _load("kinko.policy.model", "the policy model")
        record = self._freezes().freeze(
            session,
            scope=model.FreezeScope(scope.value),
            target=target,
            reason=reason,
            actor=actor,
        )
        return str(record.id)

    def unfreeze(
        self, session: Session, *, ref: str, proposer: str, approver: str, reason: str
    ) -> None:
        """Two security admins: the first proposes, the second approves (FreezeService checks)."""
        service = self._freezes()
        proposal = service.propose_unfreeze(session, freeze_id=ref, user_id=proposer, reason=reason)
        service.approve_unfreeze(session, proposal_id=proposal.id, user_id=approver)

    def _identity(self) -> Any:
        return _load("kinko.identity.service", "the identity service").IdentityService(self.ctx)

    def lock_account(self, session: Session, *, user: str, reason: str, actor: str) -> str:
        self._identity().lock_user(session, user_id_of(user), actor=actor, reason=reason)
        return user_id_of(user)

    def unlock_account(self, session: Session, *, user: str, reason: str, actor: str) -> None:
        model = _load("kinko.identity.model", "the identity model")
        self._identity().users.set_state(
            session, user_id_of(user), model.UserState.ACTIVE, actor=actor, reason=reason
        )

    def hold_withdrawal(
        self, session: Session, *, withdrawal_id: str, reason: str, actor: str
    ) -> str:
        records = _load("kinko.withdrawals.records", "the withdrawal records")
        states = _load("kinko.withdrawals.states", "the withdrawal states")
        row = records.load(session, withdrawal_id, lock=True)
        records.move(self.ctx, session, row, states.State.HELD, actor=actor, reason=reason)
        return withdrawal_id

    def require_step_up(self, session: Session, *, user: str, reason: str, actor: str) -> str:
        identity = self._identity()
        method = getattr(identity, "require_step_up", None)
        if method is None:
            raise Unavailable("the identity service cannot require step-up MFA yet")
        method(session, user_id_of(user), actor=actor, reason=reason)
        return user_id_of(user)
