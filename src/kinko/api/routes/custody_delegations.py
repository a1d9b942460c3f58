"""HTTP routes for delegations of a legal entity's signing for a wallet (issue 18, Ronin).

``GET /v1/custody/delegations`` lists them with their state (``live``, ``pending``,
``expired``, ``revoked``; ``custody:read``); ``POST /v1/custody/delegations`` proposes one
(four eyes: 202 with the proposal, nothing registered until a second person approves it;
``custody:write`` for the wallet); ``POST /v1/custody/delegations/{id}/revoke`` revokes one
at once (one person: it takes access away; audited). A delegation past its end, or one
that would let one entity reach the wallet's quorum, is refused (422 ``delegation_expired``,
409 ``quorum_within_one_entity``). Thin: parse, call `kinko.custody.delegations`, render.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from kinko.api.auth import Principal, require
from kinko.api.deps import AppServices, get_ctx
from kinko.api.routes.custody_changes import PROPOSED, Writer, propose_as
from kinko.api.scopes import Concern, Scopes
from kinko.context import Context
from kinko.core.errors import NotFound
from kinko.custody import delegations, wallets
from kinko.identity.model import ProposalKind

router = APIRouter()
CtxDep = Annotated[Context, Depends(get_ctx)]


class DelegationBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    wallet_id: str = Field(min_length=1, max_length=64)
    from_entity: str = Field(min_length=1, max_length=200)
    to_entity: str = Field(min_length=1, max_length=200)
    starts_at: str | None = Field(default=None, max_length=64, description="ISO 8601 with zone")
    ends_at: str = Field(min_length=1, max_length=64, description="ISO 8601 with zone")
    reason: str | None = Field(default=None, min_length=1, max_length=500)


class RevokeBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: str = Field(min_length=1, max_length=1000)


def readable_wallets(session: Session, principal: Principal) -> Callable[[str], bool]:
    """Whether `principal` reads custody data of a wallet (an unscoped reader: all)."""
    if principal.unscoped("custody:read"):
        return lambda _wallet: True
    readable = {
        w.id
        for w in wallets.list_wallets(session)
        if principal.allows_any("custody:read", assets=w.assets, wallet=w.id)
    }
    return readable.__contains__


def _list(ctx: Context, wallet_id: str | None, principal: Principal) -> list[dict[str, Any]]:
    now = ctx.clock.now()
    with ctx.db.transaction() as session:
        reads = readable_wallets(session, principal)
        return [
            delegations.to_json(row, now)
            for row in delegations.delegations(session, wallet_id)
            if reads(row.wallet_id)
        ]


@router.get("/delegations", summary="Delegations of a legal entity's signing")
async def get_delegations(
    ctx: CtxDep,
    principal: Annotated[Principal, Depends(require("custody:read"))],
    wallet_id: Annotated[str | None, Query(max_length=64)] = None,
) -> list[dict[str, Any]]:
    return await run_in_threadpool(_list, ctx, wallet_id, principal)


@router.post("/delegations", status_code=202, responses=PROPOSED, summary="Propose a delegation")
def add_delegation(
    body: DelegationBody, ctx: CtxDep, services: AppServices, principal: Writer
) -> JSONResponse:
    Scopes.reading(principal, "custody:write", ctx).require(Concern(wallet=body.wallet_id))
    payload = body.model_dump(exclude={"reason"}, exclude_none=True)
    reason = body.reason or (
        f"delegate {body.from_entity}'s signing for {body.wallet_id} to {body.to_entity} "
        f"until {body.ends_at}"
    )
    return propose_as(
        ctx,
        services,
        principal,
        kind=ProposalKind.REGISTER_DELEGATION,
        payload=payload,
        reason=reason,
    )


@router.post("/delegations/{delegation_id}/revoke", summary="Revoke a delegation at once")
def revoke_delegation(
    delegation_id: str, body: RevokeBody, ctx: CtxDep, principal: Writer
) -> dict[str, Any]:
    with ctx.db.transaction() as session:
        found = [d for d in delegations.delegations(session) if d.id == delegation_id]
        if not found:
            raise NotFound(f"no delegation {delegation_id!r}")
        Scopes.within(principal, "custody:write", session).require(
            Concern(wallet=found[0].wallet_id)
        )
        delegations.revoke(ctx, session, delegation_id, reason=body.reason, actor=principal.actor)
        return delegations.to_json(found[0], ctx.clock.now())
