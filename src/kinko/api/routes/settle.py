"""HTTP routes for the rest of a withdrawal's life that a person drives from the CLI:
the rebalancing plan turned into requests, a Bitcoin output the wallet may spend, and an
offline-signed withdrawal back into Kinko (signed, then broadcast, then confirmed).

Thin: parse, call the same services as before, render. Scopes hold as on every route.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends
from pydantic import BaseModel, ConfigDict, Field

from kinko.api.auth import require
from kinko.api.deps import get_ctx
from kinko.api.routes.withdrawal_deps import Approver, Stack, WithNames, answer, in_scope
from kinko.api.scopes import Concern, Scopes
from kinko.context import Context
from kinko.core.errors import InputError
from kinko.identity.model import Principal
from kinko.withdrawals.offline import OfflineSettlement
from kinko.withdrawals.stack import WithdrawalStack

router = APIRouter(tags=["withdrawals"])
Ctx = Annotated[Context, Depends(get_ctx)]
BASE = "/v1/withdrawals"


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class RebalanceBody(_Body):
    plan_id: str | None = Field(
        default=None, min_length=1, max_length=64, description="default: today's date (UTC)"
    )


class SignedBody(_Body):
    signed: str = Field(
        min_length=2,
        max_length=2_000_000,
        description="hex: the PSBT with the key holders' signatures (Bitcoin) or the signed "
        "transaction (Ethereum), as `kinko cosign --out` wrote it",
    )


class ConfirmedBody(_Body):
    txid: str = Field(min_length=1, max_length=200)


class UtxoBody(_Body):
    tx: str = Field(min_length=2, max_length=2_000_000, description="raw transaction (hex)")
    vout: int = Field(ge=0, le=100_000)


def _hex(value: str, field: str) -> bytes:
    try:
        return bytes.fromhex(value.strip())
    except ValueError:
        raise InputError(field, "must be hex") from None


def _settlement(
    services: WithdrawalStack, withdrawal_id: str, principal: Principal
) -> OfflineSettlement:
    """The offline settlement, once the caller may approve this withdrawal (403 naming
    its asset and wallet otherwise)."""
    in_scope(services, withdrawal_id, principal, "withdrawals:approve")
    return OfflineSettlement(services.ctx, services.ports)


@router.post(BASE + "/rebalance", status_code=201, summary="Request the rebalancing plan")
def rebalance(
    body: RebalanceBody,
    services: Stack,
    principal: Annotated[Principal, Depends(require("withdrawals:create"))],
    names: WithNames = False,
) -> dict[str, Any]:
    """Turn the custody rebalancing plan (sweeps and refills) into ordinary withdrawal
    requests by the caller; the plan spans every wallet, so a scoped grant may not."""
    from kinko.custody.holdings import rebalance_plan
    from kinko.withdrawals.rebalancing import submit_plan

    principal.require_unscoped("withdrawals:create", "the rebalancing plan")
    ctx = services.ctx
    with ctx.db.transaction() as session:
        plan = rebalance_plan(session)
    views = submit_plan(
        services.withdrawals,
        plan,
        requester=str(principal.subject),
        plan_id=body.plan_id or ctx.clock.now().date().isoformat(),
    )
    return {
        "withdrawals": [answer(services, v, principal, names) for v in views],
        "problems": list(plan.problems),
    }


@router.post(BASE + "/{withdrawal_id}/signed", summary="Record the co-signed transaction")
def signed(
    withdrawal_id: str,
    body: SignedBody,
    services: Stack,
    principal: Approver,
    names: WithNames = False,
) -> dict[str, Any]:
    """approved -> signed: checked against the approved transaction (and finalised)."""
    settlement = _settlement(services, withdrawal_id, principal)
    payload = _hex(body.signed, "signed")
    view = settlement.record_signed(withdrawal_id, payload, actor=principal.actor)
    return answer(services, view, principal, names)


@router.post(BASE + "/{withdrawal_id}/sent", summary="Record that the transaction was sent")
def sent(
    withdrawal_id: str,
    services: Stack,
    principal: Approver,
    names: WithNames = False,
) -> dict[str, Any]:
    """signed -> broadcast: you sent the stored transaction with your own node."""
    view = _settlement(services, withdrawal_id, principal).record_sent(
        withdrawal_id, actor=principal.actor
    )
    return answer(services, view, principal, names)


@router.post(BASE + "/{withdrawal_id}/confirmed", summary="Record that it is in a block")
def confirmed(
    withdrawal_id: str,
    body: ConfirmedBody,
    services: Stack,
    principal: Approver,
    names: WithNames = False,
) -> dict[str, Any]:
    """broadcast -> confirmed, when `txid` is the stored transaction's."""
    settlement = _settlement(services, withdrawal_id, principal)
    view = settlement.record_confirmed(withdrawal_id, txid=body.txid, actor=principal.actor)
    return answer(services, view, principal, names)


@router.post(
    "/v1/custody/wallets/{wallet_id}/utxos",
    status_code=201,
    summary="Record a Bitcoin output the wallet may spend",
)
def import_utxo(
    wallet_id: str,
    body: UtxoBody,
    ctx: Ctx,
    principal: Annotated[Principal, Depends(require("custody:write"))],
) -> dict[str, Any]:
    from kinko.withdrawals.bitcoin import import_utxo as record

    Scopes.reading(principal, "custody:write", ctx).require(Concern(wallet=wallet_id))
    done = record(
        ctx, wallet_id=wallet_id, prev_tx=_hex(body.tx, "tx"), vout=body.vout, actor=principal.actor
    )
    return {
        "wallet_id": done.wallet_id,
        "txid": done.txid,
        "vout": done.vout,
        "amount": str(done.amount),
    }
