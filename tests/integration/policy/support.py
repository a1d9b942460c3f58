"""Shared values for the policy integration tests."""

from __future__ import annotations

from dataclasses import replace

from kinko.chains.base import CallKind
from kinko.context import Context
from kinko.custody.model import Tier, WalletId
from kinko.policy.model import Decision, PolicyRequest, ScreeningVerdict
from kinko.policy.service import PolicyService

# EIP-55 checksummed (the address-book service stores the adapter's canonical form).
COLD_ADDR = "0x52908400098527886E0F7030069857D2E4169EE7"
HOT_DEST = "0x8617E340B3D01FA5F11F306F4090FD50E238070D"

HOT_POLICY = """
version: "it-1"
cooling_off: {hot: 24h, warm: 48h, cold: 72h}
rules:
  - id: eth-wallet-1h
    kind: velocity
    match: {chain: ethereum, asset: ETH}
    scope: wallet
    window: 1h
    limit: 1000
  - id: eth-customer-24h
    kind: velocity
    match: {chain: ethereum, asset: ETH}
    scope: customer
    window: 24h
    limit: 1500
    on_exceed: hold
  - id: eth-hot-auto
    kind: auto_approve
    match: {chain: ethereum, asset: ETH, tier: hot}
    max_amount: 1000
  - id: eth-cold
    kind: approval_tier
    match: {chain: ethereum, asset: ETH, tier: cold}
    min_amount: 1
    approvals: 2
"""


def eth_request(**changes: object) -> PolicyRequest:
    base = PolicyRequest(
        wallet_id=WalletId("w_hot"),
        tier=Tier.HOT,
        chain="ethereum",
        asset="ETH",
        amount=100,
        destination=HOT_DEST,
        customer_ref="cust-1",
        requester="u_carol",
        call_kind=CallKind.NATIVE_TRANSFER,
        source="test",
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def decision_for(
    ctx: Context,
    service: PolicyService,
    request: PolicyRequest,
    withdrawal_id: str,
    *,
    screening: ScreeningVerdict = ScreeningVerdict.CLEAR,
) -> Decision:
    with ctx.db.transaction() as s:
        return service.evaluate_and_reserve(
            s, request, withdrawal_id=withdrawal_id, screening=screening
        )
