"""Rebalancing proposals become ordinary withdrawal requests.

The custody planner (`kinko.custody.rebalance.plan_rebalancing`) only proposes: a sweep
from a hot wallet over its cap to cold storage, or a refill from warm below its floor.
Nothing moves until each proposal has gone through the same screening, policy and quorum
as any other withdrawal. Each proposal's idempotency key is derived from the plan id and
its content, so submitting the same plan twice creates nothing new.
"""

from __future__ import annotations

from sqlalchemy import select

from kinko.core.amount import Amount, Asset
from kinko.core.errors import InputError
from kinko.custody.rebalance import Plan, Proposal
from kinko.store.tables.custody import AssetRow, WalletRow
from kinko.withdrawals.records import WithdrawalView
from kinko.withdrawals.service import WithdrawalRequest, WithdrawalService


def request_for(proposal: Proposal, asset: Asset) -> WithdrawalRequest:
    """The withdrawal request a proposal stands for, amount as an exact decimal string."""
    return WithdrawalRequest(
        asset=asset.symbol,
        amount=Amount(asset, proposal.amount).to_decimal_string(),
        destination=proposal.destination_address,
        source_wallet=proposal.source,
        memo=f"rebalance:{proposal.action.value} to {proposal.destination}: {proposal.reason}",
    )


def submit_plan(
    service: WithdrawalService, plan: Plan, *, requester: str, plan_id: str
) -> list[WithdrawalView]:
    """Request every proposal of `plan` as `requester`; returns the withdrawals, in order."""
    views = []
    for proposal in plan.proposals:
        asset = _asset(service, proposal)
        key = proposal.request(plan_id)["idempotency_key"]
        views.append(
            service.request(
                request_for(proposal, asset),
                requester=requester,
                idempotency_key=key,
                channel="rebalance",
            )
        )
    return views


def _asset(service: WithdrawalService, proposal: Proposal) -> Asset:
    with service.ctx.db.transaction() as session:
        wallet = session.get(WalletRow, proposal.source)
        if wallet is None:
            raise InputError("source_wallet", f"no wallet {proposal.source!r}")
        # the wallet's asset key (chain:SYMBOL), or a bare symbol in an older row
        symbol = proposal.asset.removeprefix(f"{wallet.chain}:")
        row = session.execute(
            select(AssetRow).where(AssetRow.chain == wallet.chain, AssetRow.symbol == symbol)
        ).scalar_one_or_none()
    if row is None:
        raise InputError("asset", f"{proposal.asset} on {wallet.chain} is not a registered asset")
    return Asset(row.symbol, row.chain, row.decimals, row.contract)
