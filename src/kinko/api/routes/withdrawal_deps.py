"""What the withdrawal routes share (`kinko.api.routes.withdrawals`, `.settle` and the
console's approval page): the app's withdrawal services, the scope check on one withdrawal,
and how a write route answers it.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Query, Request
from starlette.concurrency import run_in_threadpool

from kinko.api.auth import require
from kinko.api.scopes import Concern, Scopes
from kinko.core.errors import PermissionDenied
from kinko.identity.model import Principal
from kinko.services import Services
from kinko.withdrawals.records import WithdrawalView
from kinko.withdrawals.stack import WithdrawalStack


def stack_of(app: Any) -> WithdrawalStack:
    """`app`'s withdrawal services: those of its composition root (`kinko.services`), built
    on first use (by a request, or by the periodic execution job of `kinko serve`,
    kinko.api.background). A test may still put withdrawal services of its own on
    ``app.state.withdrawal_stack`` (issue #14: to go once every test passes its services to
    `create_app`)."""
    given: WithdrawalStack | None = getattr(app.state, "withdrawal_stack", None)
    if given is not None:
        return given
    services: Services = app.state.services
    return services.withdrawal_stack()


async def stack(request: Request) -> WithdrawalStack:
    """The app's withdrawal services (`stack_of`; built in the thread pool the first time:
    it reads the policy file and the keys). async: a plain `def` dependency would cost a
    thread hop on every request."""
    services: Services = request.app.state.services
    if services.withdrawal_stack_built and not hasattr(request.app.state, "withdrawal_stack"):
        return services.withdrawal_stack()
    return await run_in_threadpool(stack_of, request.app)


Stack = Annotated[WithdrawalStack, Depends(stack)]


def people(services: WithdrawalStack, view: WithdrawalView, principal: Principal) -> dict[str, str]:
    """Usernames of the requester and the approvers, by user id, for a person's screen
    (the CLI prints names, never ids)."""
    ids = {view.requester, *(str(a["approver"]) for a in view.approvals)} - {""}
    known = {str(principal.subject): principal.username}
    missing = sorted(ids - known.keys())
    if missing:
        from sqlalchemy import select

        from kinko.store.tables.identity import UserRow

        with services.ctx.db.reading() as session:
            rows = session.execute(
                select(UserRow.id, UserRow.username).where(UserRow.id.in_(missing))
            ).all()
        known.update({row.id: row.username for row in rows})
    return {user_id: known[user_id] for user_id in sorted(ids) if user_id in known}


def answer(
    services: WithdrawalStack, view: WithdrawalView, principal: Principal, names: bool
) -> dict[str, Any]:
    """A withdrawal as a write route answers it: its JSON and, asked with
    ``?usernames=true`` (the CLI does), who is who (`people`)."""
    out = view.to_json()
    if names:
        out["usernames"] = people(services, view, principal)
    return out


# ``?usernames=true``: the answer also maps the requester's and approvers' ids to usernames.
WithNames = Annotated[bool, Query(alias="usernames", description="also answer {user id: username}")]


def in_scope(
    services: WithdrawalStack, withdrawal_id: str, principal: Principal, permission: str
) -> WithdrawalView:
    """The withdrawal, if `principal` holds `permission` for its asset and wallet (403
    naming the asset and wallet otherwise): scopes hold on every route, reads included."""
    found = services.withdrawals.get(withdrawal_id)
    Scopes.reading(principal, permission, services.ctx).require(concern(found))
    return found


def concern(view: WithdrawalView) -> Concern:
    """A withdrawal concerns its asset in its wallet (`kinko.api.scopes`)."""
    return Concern(asset=view.asset, wallet=view.wallet_id)


def may_cancel(principal: Principal, found: WithdrawalView) -> None:
    """Refuse (403) unless `principal` may cancel `found`: their own request with
    ``withdrawals:cancel``, anyone's with ``withdrawals:cancel_any``, each granted for the
    withdrawal's asset and wallet (a BTC-only token cannot cancel an ETH withdrawal)."""
    scope = {"asset": found.asset, "wallet": found.wallet_id}
    if principal.allows("withdrawals:cancel_any", **scope):
        return
    if found.requester == str(principal.subject):
        principal.require_scope("withdrawals:cancel", **scope)
        return
    raise PermissionDenied(
        f"withdrawal {found.id} was requested by someone else: only its requester, or a "
        "person holding withdrawals:cancel_any (operator) for its asset and wallet, may "
        "cancel it",
        code="not_requester",
    )


# The caller, holding withdrawals:approve (the withdrawal's scope is checked with `in_scope`).
Approver = Annotated[Principal, Depends(require("withdrawals:approve"))]
