"""HTTP routes for withdrawals: request, list, show, approve, reject, execute, cancel,
bundle.

Thin: parse, call the withdrawal services, render. The services sign and broadcast what
becomes approved themselves (a request policy allows, the approval that completes the
quorum); `execute` is the operator's retry when that could not happen then. What is
shown of a withdrawal is the DECODED intent of its unsigned transaction and its digest,
never the request's fields alone.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from kinko.api.auth import require
from kinko.api.deps import get_ctx
from kinko.api.routes.settle import router as settle_router
from kinko.api.routes.withdrawal_deps import (
    Approver,
    Stack,
    WithNames,
    answer,
    concern,
    in_scope,
    may_cancel,
)
from kinko.api.scopes import Scopes
from kinko.context import Context
from kinko.core.errors import InputError
from kinko.identity.model import Principal
from kinko.withdrawals.export import checked_export
from kinko.withdrawals.service import WithdrawalRequest

router = APIRouter(tags=["withdrawals"])
BASE = "/v1/withdrawals"
Ctx = Annotated[Context, Depends(get_ctx)]


class NewWithdrawal(BaseModel):
    model_config = ConfigDict(extra="forbid")
    asset: str = Field(min_length=1, max_length=64)
    amount: str = Field(min_length=1, max_length=100, description='decimal string, e.g. "1.5"')
    destination: str = Field(min_length=1, max_length=200)
    source_wallet: str | None = None
    customer_ref: str | None = None
    memo: str | None = None


class Approval(BaseModel):
    """Exactly one of `assertion` (WebAuthn) or `totp` (when `allow_totp_approvals`)."""

    model_config = ConfigDict(extra="forbid")
    assertion: dict[str, Any] | None = Field(
        default=None,
        description="WebAuthn AuthenticationResponseJSON over the challenge from "
        "POST /v1/withdrawals/{id}/approval-challenge",
    )
    totp: str | None = Field(
        default=None,
        min_length=1,
        max_length=16,
        description="current TOTP code: a weaker, server-attested binding (totp_server_attested)",
    )


class Rejection(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: str = Field(min_length=1, max_length=500)


@router.post(
    BASE,
    status_code=201,
    response_class=JSONResponse,
    responses={201: {"description": "the withdrawal, with its decision"}},
)
def create(
    body: NewWithdrawal,
    services: Stack,
    principal: Annotated[Principal, Depends(require("withdrawals:create"))],
    idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key")] = None,
    names: WithNames = False,
) -> JSONResponse:
    if not idempotency_key:
        raise InputError(
            "Idempotency-Key", "this header is mandatory; send a unique key per withdrawal"
        )
    principal.require_scope("withdrawals:create", asset=body.asset.rpartition(":")[2])

    def authorise(asset: str, wallet: str) -> None:
        # The wallet the request resolves to (named or the default hot one), before any
        # write: a requester scoped to the warm wallet cannot spend from the hot one.
        principal.require_scope("withdrawals:create", asset=asset, wallet=wallet)

    view = services.withdrawals.request(
        WithdrawalRequest(**body.model_dump()),
        requester=str(principal.subject),
        idempotency_key=idempotency_key,
        channel="api",
        authorise=authorise,
    )
    principal.require_scope("withdrawals:create", asset=view.asset, wallet=view.wallet_id)
    shown = view.to_json()
    if names:
        shown["usernames"] = {str(principal.subject): principal.username}  # the requester
    # A ready response: FastAPI does not re-validate and re-encode the plain dict.
    return JSONResponse(shown, status_code=201)


@router.get(BASE)
def list_withdrawals(
    services: Stack,
    principal: Annotated[Principal, Depends(require("withdrawals:read"))],
    state: str | None = None,
    limit: int = 100,
) -> dict[str, Any]:
    if not 1 <= limit <= 1000:
        raise InputError("limit", "must be between 1 and 1000")
    # Scopes hold on reads: only the withdrawals of assets and wallets the caller may read,
    # and the limit counts those.
    scopes = Scopes.reading(principal, "withdrawals:read", services.ctx)
    found = services.withdrawals.list(
        state=state, limit=limit, visible=lambda v: scopes.sees(concern(v))
    )
    return {"withdrawals": [v.to_json() for v in found]}


@router.get(BASE + "/{withdrawal_id}")
def show(
    withdrawal_id: str,
    services: Stack,
    principal: Annotated[Principal, Depends(require("withdrawals:read"))],
) -> dict[str, Any]:
    return in_scope(services, withdrawal_id, principal, "withdrawals:read").to_json()


@router.post(BASE + "/{withdrawal_id}/approval-challenge")
def approval_challenge(
    withdrawal_id: str,
    services: Stack,
    principal: Approver,
) -> dict[str, Any]:
    """A one-time WebAuthn challenge for the caller's approval of this withdrawal: it
    commits to the withdrawal id, the digest, the expiry and a server nonce
    (docs/bundle.md). `options` goes to ``navigator.credentials.get({publicKey})``."""
    in_scope(services, withdrawal_id, principal, "withdrawals:approve")
    issued = services.approvals.challenge(withdrawal_id, approver=str(principal.subject))
    return issued.to_json()


@router.post(BASE + "/{withdrawal_id}/approve")
def approve(
    withdrawal_id: str,
    body: Approval,
    services: Stack,
    principal: Approver,
    names: WithNames = False,
) -> dict[str, Any]:
    approver = str(principal.subject)
    in_scope(services, withdrawal_id, principal, "withdrawals:approve")
    if (body.assertion is None) == (body.totp is None):
        raise InputError("assertion", "send exactly one of assertion (WebAuthn) or totp")
    if body.totp is not None:
        view = services.approvals.approve_totp(withdrawal_id, approver=approver, code=body.totp)
    else:
        assert body.assertion is not None
        view = services.approvals.approve(
            withdrawal_id, approver=approver, assertion=body.assertion
        )
    return answer(services, view, principal, names)


@router.post(BASE + "/{withdrawal_id}/execute")
def execute(
    withdrawal_id: str,
    services: Stack,
    principal: Approver,
    names: WithNames = False,
) -> dict[str, Any]:
    """The operator's retry: sign (online signer, every check again) and broadcast an
    approved hot-wallet withdrawal that could not be executed when it was approved (no
    node then, the node unreachable), or send one that was signed but not broadcast.
    Never signs twice."""
    in_scope(services, withdrawal_id, principal, "withdrawals:approve")
    return answer(services, services.execute(withdrawal_id), principal, names)


@router.post(BASE + "/{withdrawal_id}/reject")
def reject(
    withdrawal_id: str,
    body: Rejection,
    services: Stack,
    principal: Approver,
    names: WithNames = False,
) -> dict[str, Any]:
    in_scope(services, withdrawal_id, principal, "withdrawals:approve")
    view = services.approvals.reject(
        withdrawal_id, approver=str(principal.subject), reason=body.reason
    )
    return answer(services, view, principal, names)


class Cancellation(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: str = Field(min_length=1, max_length=500)


@router.post(BASE + "/{withdrawal_id}/cancel")
def cancel(
    withdrawal_id: str,
    body: Cancellation,
    services: Stack,
    principal: Annotated[Principal, Depends(require("withdrawals:cancel"))],
    names: WithNames = False,
) -> dict[str, Any]:
    """Cancel a withdrawal before it is signed: the requester their own
    (``withdrawals:cancel``), anyone else with ``withdrawals:cancel_any``, each for the
    withdrawal's asset and wallet. Signed, broadcast or finished: ``409 not_cancellable``."""
    view = services.withdrawals.cancel(
        withdrawal_id,
        actor=principal.actor,
        reason=body.reason,
        authorise=lambda found: may_cancel(principal, found),
    )
    return answer(services, view, principal, names)


@router.get(BASE + "/{withdrawal_id}/bundle")
def bundle(
    withdrawal_id: str,
    ctx: Ctx,
    services: Stack,
    principal: Annotated[Principal, Depends(require("withdrawals:read"))],
) -> dict[str, Any]:
    in_scope(services, withdrawal_id, principal, "withdrawals:read")
    exported = checked_export(ctx, services.ports, withdrawal_id, actor=principal.actor)
    return exported.to_json()


router.include_router(settle_router)  # rebalancing, UTXO import, offline settlement
