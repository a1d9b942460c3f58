"""HTTP routes for custody: wallets, liabilities, key inventory, status, rebalancing plan."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, ConfigDict, Field

from kinko.api.auth import Principal, require
from kinko.api.deps import get_ctx
from kinko.api.routes.custody_changes import router as changes_router
from kinko.api.routes.custody_delegations import readable_wallets
from kinko.api.routes.custody_delegations import router as delegations_router
from kinko.context import Context
from kinko.core.amount import Amount
from kinko.core.errors import InputError
from kinko.custody import holdings, keys, wallets
from kinko.custody.coldshare import Regime

router = APIRouter(prefix="/v1/custody", tags=["custody"])
CtxDep = Annotated[Context, Depends(get_ctx)]


class LiabilityItem(BaseModel):
    model_config = ConfigDict(extra="forbid")
    asset: str = Field(min_length=3, max_length=80, description="chain:SYMBOL")
    amount: str = Field(min_length=1, max_length=100, description='Decimal string, e.g. "1.5"')


class LiabilitiesBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    source: str = Field(min_length=1, max_length=200)
    liabilities: list[LiabilityItem] = Field(min_length=1, max_length=100_000)


def _status(ctx: Context, regime: Regime, day: date | None, snapshot: bool) -> dict[str, Any]:
    with ctx.db.transaction() as session:
        result = holdings.custody_status(
            session, regime, day or ctx.clock.now().date(), from_snapshot=snapshot
        )
    return result.to_json()


@router.get("/status", summary="Cold share and reserve checks for a regime, with margins")
async def get_status(
    ctx: CtxDep,
    principal: Annotated[Principal, Depends(require("custody:read"))],
    regime: Annotated[Regime, Query()] = Regime.JP,
    day: Annotated[date | None, Query()] = None,
    snapshot: Annotated[bool, Query(description="Use the day's snapshot")] = False,
) -> dict[str, Any]:
    principal.require_unscoped("custody:read", "the custody status")
    return await run_in_threadpool(_status, ctx, regime, day, snapshot)


def _wallets(ctx: Context, principal: Principal) -> list[dict[str, Any]]:
    """The wallets `principal` may read (scopes hold on reads: its wallets and assets)."""
    with ctx.db.transaction() as session:
        return [
            {
                "id": w.id,
                "name": w.name,
                "chain": w.chain,
                "network": w.network,
                "assets": w.assets,
                "tier": w.tier,
                "owner_class": w.owner_class,
                "purpose": w.purpose,
                "quorum": {"m": w.quorum_m, "n": w.quorum_n},
                "address": w.address,
            }
            for w in wallets.list_wallets(session)
            if principal.allows_any("custody:read", assets=w.assets, wallet=w.id)
        ]


@router.get("/wallets", summary="Registered wallets")
async def get_wallets(
    ctx: CtxDep, principal: Annotated[Principal, Depends(require("custody:read"))]
) -> list[dict[str, Any]]:
    return await run_in_threadpool(_wallets, ctx, principal)


def _liabilities(ctx: Context, principal: Principal) -> dict[str, str]:
    with ctx.db.transaction() as session:
        owed = holdings.liabilities(session)
    return {k: str(v) for k, v in sorted(owed.items()) if principal.allows("custody:read", asset=k)}


@router.get("/liabilities", summary="Customer liabilities per asset, in base units")
async def get_liabilities(
    ctx: CtxDep, principal: Annotated[Principal, Depends(require("custody:read"))]
) -> dict[str, str]:
    return await run_in_threadpool(_liabilities, ctx, principal)


def _put_liabilities(ctx: Context, body: LiabilitiesBody, actor: str) -> dict[str, str]:
    with ctx.db.transaction() as session:
        known = wallets.assets(session)
        owed: dict[str, int] = {}
        for i, item in enumerate(body.liabilities):
            field = f"liabilities[{i}]"
            asset = known.get(item.asset)
            if asset is None:
                raise InputError(f"{field}.asset", f"unknown asset {item.asset!r}")
            if item.asset in owed:
                raise InputError(f"{field}.asset", f"{item.asset} appears twice")
            owed[item.asset] = (
                0
                if item.amount == "0"
                else Amount.parse(asset, item.amount, field=f"{field}.amount").base_units
            )
        holdings.set_liabilities(ctx, session, owed, source=body.source, actor=actor)
    return {k: str(v) for k, v in sorted(owed.items())}


@router.put("/liabilities", summary="Set customer liabilities for the listed assets")
async def put_liabilities(
    ctx: CtxDep,
    body: LiabilitiesBody,
    principal: Annotated[Principal, Depends(require("custody:write"))],
) -> dict[str, str]:
    for item in body.liabilities:
        principal.require_scope("custody:write", asset=item.asset)
    return await run_in_threadpool(_put_liabilities, ctx, body, principal.actor)


def _keys(ctx: Context, wallet_id: str | None, principal: Principal) -> list[dict[str, Any]]:
    with ctx.db.transaction() as session:
        reads = readable_wallets(session, principal)
        return [
            {
                "id": s.id,
                "wallet_id": s.wallet_id,
                "holder": s.holder,
                "device": s.device,
                "site": s.site,
                "legal_entity": s.legal_entity,
                "public_key": s.public_key,
                "status": s.status,
                "created_at": s.created_at.isoformat(),
                "ceremony": s.ceremony,
            }
            for s in keys.shares(session, wallet_id)
            if reads(s.wallet_id)
        ]


@router.get("/keys", summary="Key-share inventory")
async def get_keys(
    ctx: CtxDep,
    principal: Annotated[Principal, Depends(require("custody:read"))],
    wallet_id: Annotated[str | None, Query(max_length=64)] = None,
) -> list[dict[str, Any]]:
    return await run_in_threadpool(_keys, ctx, wallet_id, principal)


def _plan(ctx: Context) -> dict[str, Any]:
    with ctx.db.transaction() as session:
        plan = holdings.rebalance_plan(session)
    day = ctx.clock.now().date().isoformat()
    return {
        "proposals": [p.request(f"plan-{day}") for p in plan.proposals],
        "problems": list(plan.problems),
    }


@router.get("/rebalance", summary="Proposed sweeps and refills (not sent)")
async def get_rebalance(
    ctx: CtxDep, principal: Annotated[Principal, Depends(require("custody:read"))]
) -> dict[str, Any]:
    principal.require_unscoped("custody:read", "the rebalancing plan")
    return await run_in_threadpool(_plan, ctx)


# What changes custody data (assets, wallets, balances, ...): its own module, same prefix.
router.include_router(changes_router)
router.include_router(delegations_router)  # delegations of an entity's signing (Ronin)
