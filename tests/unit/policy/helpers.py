"""Small builders shared by the policy unit tests."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from kinko.chains.base import CallKind
from kinko.custody.model import Tier, WalletId
from kinko.policy.model import (
    AddressBookEntry,
    EntryId,
    OwnerKind,
    PolicyContext,
    PolicyRequest,
    ScreeningVerdict,
    VelocityScope,
)

# A Wednesday, 10:00 in Tokyo (01:00 UTC).
NOW = datetime(2026, 11, 18, 1, 0, tzinfo=UTC)
DEST = "0x" + "ab" * 20

POLICY = """
version: "t-1"
rules:
  - id: eth-max
    kind: transfer_max
    match: {chain: ethereum, asset: ETH}
    max: 1000
  - id: eth-wallet-1h
    kind: velocity
    match: {chain: ethereum, asset: ETH}
    scope: wallet
    window: 1h
    limit: 2000
  - id: eth-customer-24h
    kind: velocity
    match: {chain: ethereum, asset: ETH}
    scope: customer
    window: 24h
    limit: 3000
    on_exceed: hold
  - id: eth-hot-auto
    kind: auto_approve
    match: {chain: ethereum, asset: ETH, tier: hot}
    max_amount: 100
  - id: eth-approval
    kind: approval_tier
    match: {chain: ethereum, asset: ETH}
    min_amount: 101
    approvals: 2
    roles: {approver: 2}
  - id: eth-cold-approval
    kind: approval_tier
    match: {chain: ethereum, asset: ETH, tier: [warm, cold]}
    min_amount: 1
    approvals: 2
  - id: eth-large
    kind: approval_tier
    match: {chain: ethereum, asset: ETH}
    min_amount: 500
    approvals: 3
    roles: {approver: 2, senior_approver: 1}
  - id: cold-hours
    kind: time_window
    match: {tier: cold}
    days: [mon, tue, wed, thu, fri]
    start: "09:00"
    end: "18:00"
    timezone: Asia/Tokyo
"""


def request(**changes: object) -> PolicyRequest:
    base = PolicyRequest(
        wallet_id=WalletId("w_hot"),
        tier=Tier.HOT,
        chain="ethereum",
        asset="ETH",
        amount=50,
        destination=DEST,
        customer_ref="cust-1",
        requester="u_alice",
        call_kind=CallKind.NATIVE_TRANSFER,
        source="test",
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def entry(
    *, tiers: frozenset[Tier] = frozenset(Tier), effective_at: datetime | None = None
) -> AddressBookEntry:
    return AddressBookEntry(
        id=EntryId("abe_1"),
        chain="ethereum",
        address=DEST,
        label="cold storage",
        owner_kind=OwnerKind.OWN_WALLET,
        tiers_allowed=tiers,
        effective_at=effective_at or NOW - timedelta(days=3),
    )


def context(**changes: object) -> PolicyContext:
    base = PolicyContext(
        velocity={(VelocityScope.WALLET, 3600): 0, (VelocityScope.CUSTOMER, 86400): 0},
        address_entry=None,
        freezes=(),
        screening=ScreeningVerdict.CLEAR,
    )
    return replace(base, **changes)  # type: ignore[arg-type]
