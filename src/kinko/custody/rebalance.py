"""The rebalancing planner (pure): keep hot wallets between their floor and cap.

`plan_rebalancing(positions)` looks at every hot wallet that has a cap or a floor:

* above its cap, it proposes a sweep of the excess down to the *target* into a cold
  wallet of the same chain, asset and owner class;
* below its floor, it proposes a refill up to the target from a warm wallet of the same
  chain, asset and owner class, never taking the warm wallet below its own floor.

The target is the midpoint between floor and cap (or the cap / floor alone when only one
is set), so a wallet is not swept and refilled back and forth around one threshold.
A proposal is not a transfer: the withdrawals service turns each one into an ordinary
withdrawal request (`Proposal.request()`), which then goes through screening, policy and
quorum like any other. Owner classes are never mixed (no commingling). Where no eligible
counterpart exists the plan says so in `problems` instead of guessing.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from kinko.core.errors import InputError
from kinko.custody.model import OwnerClass, Tier, WalletId


class Action(StrEnum):
    SWEEP_TO_COLD = "sweep_to_cold"
    REFILL_FROM_WARM = "refill_from_warm"


@dataclass(frozen=True, slots=True)
class Position:
    """One wallet's holding of one asset, with the thresholds set on the wallet."""

    wallet: WalletId
    chain: str
    asset: str
    tier: Tier
    owner: OwnerClass
    balance: int
    address: str | None = None
    cap: int | None = None
    floor: int | None = None

    def __post_init__(self) -> None:
        for name in ("balance", "cap", "floor"):
            value = getattr(self, name)
            if value is not None and (
                isinstance(value, bool) or not isinstance(value, int) or value < 0
            ):
                raise InputError(f"positions.{name}", f"{value!r} is not a non-negative integer")
        if self.cap is not None and self.floor is not None and self.floor > self.cap:
            raise InputError("positions.floor", f"wallet {self.wallet}: floor is above cap")

    @property
    def target(self) -> int:
        if self.cap is not None and self.floor is not None:
            return (self.cap + self.floor) // 2
        return self.cap if self.cap is not None else (self.floor or 0)


@dataclass(frozen=True, slots=True)
class Proposal:
    action: Action
    source: WalletId
    destination: WalletId
    destination_address: str
    asset: str
    amount: int
    reason: str

    def request(self, plan_id: str) -> dict[str, str]:
        """The fields of the withdrawal request this proposal becomes."""
        key = f"{plan_id}|{self.action}|{self.source}|{self.destination}|{self.asset}|{self.amount}"
        return {
            "wallet_id": self.source,
            "asset": self.asset,
            "destination": self.destination_address,
            "amount_base_units": str(self.amount),
            "purpose": f"rebalance:{self.action.value}",
            "reason": self.reason,
            "idempotency_key": "rebalance-" + hashlib.sha256(key.encode()).hexdigest()[:32],
        }


@dataclass(frozen=True, slots=True)
class Plan:
    proposals: tuple[Proposal, ...]
    problems: tuple[str, ...]


def plan_rebalancing(positions: Sequence[Position]) -> Plan:
    proposals: list[Proposal] = []
    problems: list[str] = []
    warm_left = {id(p): p.balance - (p.floor or 0) for p in positions if p.tier is Tier.WARM}
    for hot in sorted(positions, key=lambda p: (p.chain, p.asset, p.wallet)):
        if hot.tier is not Tier.HOT:
            continue
        if hot.cap is not None and hot.balance > hot.cap:
            cold = _peer(positions, hot, Tier.COLD)
            amount = hot.balance - hot.target
            if cold is None or not cold.address:
                problems.append(
                    f"{hot.wallet}: over cap by {hot.balance - hot.cap} {hot.asset} "
                    "but no cold wallet with an address for this asset and owner"
                )
                continue
            proposals.append(
                Proposal(
                    Action.SWEEP_TO_COLD,
                    hot.wallet,
                    cold.wallet,
                    cold.address,
                    hot.asset,
                    amount,
                    f"hot balance {hot.balance} is above cap {hot.cap}; sweep down to {hot.target}",
                )
            )
        elif hot.floor is not None and hot.balance < hot.floor:
            if not hot.address:
                problems.append(f"{hot.wallet}: below floor but has no address to refill")
                continue
            need = hot.target - hot.balance
            warm = _peer(positions, hot, Tier.WARM, warm_left)
            if warm is None:
                problems.append(
                    f"{hot.wallet}: below floor by {hot.floor - hot.balance} "
                    f"{hot.asset} and no warm wallet can refill it"
                )
                continue
            amount = min(need, warm_left[id(warm)])
            warm_left[id(warm)] -= amount
            if amount < need:
                problems.append(f"{hot.wallet}: refill short by {need - amount} {hot.asset}")
            proposals.append(
                Proposal(
                    Action.REFILL_FROM_WARM,
                    warm.wallet,
                    hot.wallet,
                    hot.address,
                    hot.asset,
                    amount,
                    f"hot balance {hot.balance} is below floor {hot.floor}; "
                    f"refill up to {hot.target}",
                )
            )
    return Plan(tuple(proposals), tuple(problems))


def _peer(
    positions: Sequence[Position], hot: Position, tier: Tier, left: dict[int, int] | None = None
) -> Position | None:
    """The same-chain, same-asset, same-owner wallet of `tier` (most funds left first)."""
    peers = [
        p
        for p in positions
        if p.tier is tier
        and p.chain == hot.chain
        and p.asset == hot.asset
        and p.owner is hot.owner
        and (left is None or left[id(p)] > 0)
    ]
    if not peers:
        return None
    if left is not None:
        return max(peers, key=lambda p: (left[id(p)], p.wallet))
    return min(peers, key=lambda p: (p.balance, p.wallet))
