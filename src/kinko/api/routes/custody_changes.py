"""HTTP routes that change custody data: assets, wallets, balances, liabilities (CSV),
prices, the daily snapshot and the key-share inventory (`custody:write`).

What the `kinko wallet ...` and `kinko custody ...` commands that change something send,
as the signed-in person. Thin: parse, call the custody services, render. A change that
spans every wallet or asset (a new wallet, prices, a snapshot, a CSV of liabilities)
needs an unscoped grant; one wallet's balance or key share needs the grant for it.

Registering an asset, a wallet or a key share is a four-eyes proposal
(`kinko.custody.proposals`): the route answers 202 with the proposal (id, kind, payload,
expires_at) and nothing is registered until a second person approves it
(``POST /v1/roles/proposals/{id}/approve``).
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from kinko.api.auth import Principal, require
from kinko.api.deps import AppServices, get_ctx
from kinko.api.scopes import Concern, Scopes
from kinko.context import Context
from kinko.core.amount import Asset
from kinko.custody import holdings, keys
from kinko.identity.model import ProposalKind, UserId
from kinko.identity.views import render_proposal
from kinko.services import Services

router = APIRouter()
CtxDep = Annotated[Context, Depends(get_ctx)]
Writer = Annotated[Principal, Depends(require("custody:write"))]


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class _Proposed(_Body):
    reason: str | None = Field(default=None, min_length=1, max_length=500)


class AssetBody(_Proposed):
    symbol: str = Field(min_length=1, max_length=32)
    chain: str = Field(min_length=1, max_length=32)
    decimals: int = Field(ge=0, le=36)
    contract: str | None = Field(default=None, max_length=200)


class WalletBody(_Proposed):
    name: str = Field(min_length=1, max_length=100)
    chain: str = Field(min_length=1, max_length=32)
    network: str = Field(default="mainnet", min_length=1, max_length=32)
    assets: list[str] = Field(min_length=1, max_length=100)
    tier: str
    owner_class: str
    purpose: str = "operational"
    quorum_m: int = Field(ge=1, le=100)
    quorum_n: int = Field(ge=1, le=100)
    eligible_roles: list[str] = Field(default_factory=list)
    address: str | None = Field(default=None, max_length=200)
    descriptor: str | None = Field(default=None, max_length=10_000)
    cap_base_units: int | None = None
    floor_base_units: int | None = None


class BalanceBody(_Body):
    base_units: int
    source: str = Field(default="import", min_length=1, max_length=100)


class LiabilitiesCsv(_Body):
    csv: str = Field(min_length=1, max_length=512 * 1024, description="header asset,amount")
    source: str = Field(min_length=1, max_length=200)


class PricesBody(_Body):
    currency: str = Field(min_length=3, max_length=3)
    day: date | None = None
    prices: dict[str, str] = Field(min_length=1, max_length=10_000)


class SnapshotBody(_Body):
    day: date | None = None


class KeyShareBody(_Proposed):
    wallet_id: str = Field(min_length=1, max_length=64)
    holder: str = Field(min_length=1, max_length=200)
    device: str = Field(min_length=1, max_length=200)
    site: str = Field(min_length=1, max_length=200)
    legal_entity: str = Field(min_length=1, max_length=200)
    public_key: str = Field(min_length=1, max_length=2000)
    ceremony: dict[str, Any]


class KeyStatusBody(_Body):
    status: Literal["revoked", "compromised"]
    reason: str = Field(min_length=1, max_length=1000)


PROPOSED: dict[int | str, dict[str, Any]] = {
    202: {"description": "proposed: a second person approves it (four eyes)"}
}


def propose_as(
    ctx: Context,
    services: Services,
    principal: Principal,
    *,
    kind: ProposalKind,
    payload: dict[str, Any],
    reason: str,
) -> JSONResponse:
    """Propose a registration as `principal`; 202 with the proposal, nothing registered."""
    with ctx.db.transaction() as session:
        proposal = services.identity.roles.propose(
            session, actor=UserId(principal.subject), kind=kind, payload=payload, reason=reason
        )
    return JSONResponse(render_proposal(proposal), status_code=202)


@router.post("/assets", status_code=202, responses=PROPOSED, summary="Propose an asset")
def add_asset(
    body: AssetBody, ctx: CtxDep, services: AppServices, principal: Writer
) -> JSONResponse:
    principal.require_unscoped("custody:write", "a new asset")
    asset = Asset(body.symbol, body.chain, body.decimals, body.contract)
    payload = {**body.model_dump(exclude={"reason"})}
    reason = body.reason or f"register asset {asset.key}"
    return propose_as(
        ctx, services, principal, kind=ProposalKind.REGISTER_ASSET, payload=payload, reason=reason
    )


@router.post("/wallets", status_code=202, responses=PROPOSED, summary="Propose a wallet")
def add_wallet(
    body: WalletBody, ctx: CtxDep, services: AppServices, principal: Writer
) -> JSONResponse:
    principal.require_unscoped("custody:write", "a new wallet")
    payload = body.model_dump(exclude={"reason"})
    reason = body.reason or (
        f"register {body.tier} wallet {body.name} ({body.quorum_m}-of-{body.quorum_n})"
    )
    return propose_as(
        ctx, services, principal, kind=ProposalKind.REGISTER_WALLET, payload=payload, reason=reason
    )


@router.put("/wallets/{wallet_id}/balances/{asset}", summary="Record a wallet's balance")
def set_balance(
    wallet_id: str, asset: str, body: BalanceBody, ctx: CtxDep, principal: Writer
) -> dict[str, Any]:
    principal.require_scope("custody:write", asset=asset, wallet=wallet_id)
    with ctx.db.transaction() as session:
        holdings.set_balance(
            ctx,
            session,
            wallet_id,
            asset,
            body.base_units,
            source=body.source,
            actor=principal.actor,
        )
    return {"wallet_id": wallet_id, "asset": asset, "base_units": str(body.base_units)}


def _import_liabilities(ctx: Context, body: LiabilitiesCsv, actor: str) -> dict[str, str]:
    with ctx.db.transaction() as session:
        owed = holdings.import_liabilities_csv(
            ctx, session, body.csv, source=body.source, actor=actor
        )
    return {k: str(v) for k, v in sorted(owed.items())}


@router.post("/liabilities/import", summary="Set customer liabilities from CSV")
async def import_liabilities(
    body: LiabilitiesCsv, ctx: CtxDep, principal: Writer
) -> dict[str, str]:
    principal.require_unscoped("custody:write", "a liabilities file")
    return await run_in_threadpool(_import_liabilities, ctx, body, principal.actor)


@router.put("/prices", summary="Prices of one whole unit per asset for one day")
def set_prices(body: PricesBody, ctx: CtxDep, principal: Writer) -> dict[str, Any]:
    principal.require_unscoped("custody:write", "prices")
    day = body.day or ctx.clock.now().date()
    with ctx.db.transaction() as session:
        holdings.set_prices(ctx, session, day, body.currency, body.prices, actor=principal.actor)
    return {"day": day.isoformat(), "currency": body.currency, "prices": len(body.prices)}


@router.post("/snapshots", status_code=201, summary="Keep today's balances and liabilities")
def take_snapshot(body: SnapshotBody, ctx: CtxDep, principal: Writer) -> dict[str, Any]:
    principal.require_unscoped("custody:write", "the daily snapshot")
    day = body.day or ctx.clock.now().date()
    with ctx.db.transaction() as session:
        rows = holdings.take_snapshot(ctx, session, day, actor=principal.actor)
    return {"day": day.isoformat(), "rows": rows}


@router.post("/keys", status_code=202, responses=PROPOSED, summary="Propose a key share")
def add_key_share(
    body: KeyShareBody, ctx: CtxDep, services: AppServices, principal: Writer
) -> JSONResponse:
    # A wallet's key share needs custody:write for that wallet (one of its assets in it).
    Scopes.reading(principal, "custody:write", ctx).require(Concern(wallet=body.wallet_id))
    payload = body.model_dump(exclude={"reason"})
    reason = body.reason or f"register a key share of {body.wallet_id} held by {body.holder}"
    return propose_as(
        ctx,
        services,
        principal,
        kind=ProposalKind.REGISTER_KEY_SHARE,
        payload=payload,
        reason=reason,
    )


@router.post("/keys/{share_id}/status", summary="Mark a key share revoked or compromised")
def set_key_status(
    share_id: str, body: KeyStatusBody, ctx: CtxDep, principal: Writer
) -> dict[str, Any]:
    with ctx.db.transaction() as session:
        found = [s for s in keys.shares(session) if s.id == share_id]
        if found:
            scopes = Scopes.within(principal, "custody:write", session)
            scopes.require(Concern(wallet=found[0].wallet_id))
        keys.set_status(  # its security event is published once this commits
            ctx,
            session,
            share_id,
            keys.KeyStatus(body.status),
            reason=body.reason,
            actor=principal.actor,
        )
    return {"id": share_id, "status": body.status}
