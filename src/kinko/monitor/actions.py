"""The monitor's hands: a small adapter onto the services that freeze, lock and hold.

Those services belong to other parts (policy/withdrawals, identity), so they are imported
lazily: a missing one raises `Unavailable`, the response is recorded as failed and the
alert still stands (the monitor never pretends it acted). Freezes, locks and step-ups run
in the monitor's transaction, so the response, its audit entries and the alert commit
together; a hold runs in the withdrawal service's own unit of work right after that commit
(the service defers its audit entries to its own commit), and the response row is settled
(`applied` or `failed`) in a second, audited transaction.
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

    def hold_withdrawal(self, *, withdrawal_id: str, reason: str, actor: str) -> str:
        """Hold in the withdrawal service's own unit of work (called after the monitor's
        transaction commits)."""
        ...

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


def identity_privileged(ctx: Context) -> Any:
    """`(session, user) -> bool`: the person holds a privileged role (identity's list).
    An identity service that cannot be loaded answers True: fail closed."""
    names = identity_role_names(ctx)

    def privileged(session: Session, user: str) -> bool:
        try:
            permissions = importlib.import_module("kinko.identity.permissions")
        except ImportError:
            return True
        privileged_roles = {str(r) for r in permissions.PRIVILEGED_ROLES}
        try:
            return bool(names(session, user) & privileged_roles)
        except Unavailable:
            return True

    return privileged


def user_id_of(actor: str) -> str:
    """Events name staff as ``user:<id>`` (identity's convention) or by bare id."""
    return actor.removeprefix("user:")


class KinkoActions:
    """The real targets: `FreezeService`, the identity service, the withdrawal records."""

    def __init__(self, ctx: Context, *, roles_of: Any = None) -> None:
        self.ctx = ctx
        self.roles_of = roles_of or identity_role_names(ctx)

    def _freezes(self) -> Any:
        freeze = _load("kinko.policy.freeze", "the freeze service")
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

    def hold_withdrawal(self, *, withdrawal_id: str, reason: str, actor: str) -> str:
        service = _load("kinko.withdrawals.service", "the withdrawal service")
        wiring = _load("kinko.withdrawals.wiring", "the withdrawal wiring")
        ports = wiring.default_ports(self.ctx, _NoChains())
        service.WithdrawalService(self.ctx, ports).hold(withdrawal_id, reason=reason, actor=actor)
        return withdrawal_id

    def require_step_up(self, session: Session, *, user: str, reason: str, actor: str) -> str:
        """End the user's console sessions: their next action needs a fresh MFA sign-in.
        An unknown user is refused by the identity service (`NotFound`): recorded `failed`."""
        self._identity().require_step_up(session, user_id_of(user), actor=actor, reason=reason)
        return user_id_of(user)


class _NoChains:
    """The chain gateway the monitor hands the withdrawal service: holding a withdrawal
    never touches a chain, so any use of it is a bug and refuses (fail closed)."""

    def __getattr__(self, name: str) -> Any:
        raise Unavailable(f"the monitor has no chain gateway (asked for {name})")
