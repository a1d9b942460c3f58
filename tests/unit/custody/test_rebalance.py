"""The rebalancing planner: sweeps over cap, refills under floor, never mixes owners."""

from __future__ import annotations

import pytest

from kinko.core.errors import InputError
from kinko.custody.model import OwnerClass, Tier, WalletId
from kinko.custody.rebalance import Action, Position, plan_rebalancing

C, P = OwnerClass.CUSTOMER, OwnerClass.PROPRIETARY


def _p(
    name: str,
    tier: Tier,
    balance: int,
    *,
    owner: OwnerClass = C,
    cap: int | None = None,
    floor: int | None = None,
    asset: str = "bitcoin:BTC",
) -> Position:
    return Position(
        WalletId(name), "bitcoin", asset, tier, owner, balance, f"addr-{name}", cap, floor
    )


def test_hot_over_cap_is_swept_to_cold_down_to_the_midpoint() -> None:
    plan = plan_rebalancing([_p("hot", Tier.HOT, 150, cap=100, floor=20), _p("cold", Tier.COLD, 5)])
    (proposal,) = plan.proposals
    assert proposal.action is Action.SWEEP_TO_COLD
    assert (proposal.source, proposal.destination, proposal.amount) == ("hot", "cold", 90)
    assert proposal.destination_address == "addr-cold"
    assert plan.problems == ()


def test_hot_under_floor_is_refilled_from_warm_without_breaking_warm_floor() -> None:
    plan = plan_rebalancing(
        [
            _p("hot", Tier.HOT, 10, cap=100, floor=40),
            _p("warm", Tier.WARM, 60, floor=30),
        ]
    )
    (proposal,) = plan.proposals
    assert proposal.action is Action.REFILL_FROM_WARM
    assert (proposal.source, proposal.destination) == ("warm", "hot")
    assert proposal.amount == 30  # warm may give only 60 - 30, need was 70 - 10 = 60
    assert plan.problems == ("hot: refill short by 30 bitcoin:BTC",)


def test_wallets_inside_their_band_produce_no_proposal() -> None:
    plan = plan_rebalancing([_p("hot", Tier.HOT, 50, cap=100, floor=20), _p("cold", Tier.COLD, 1)])
    assert plan.proposals == () and plan.problems == ()


def test_owner_classes_and_assets_are_never_mixed() -> None:
    plan = plan_rebalancing(
        [
            _p("hot", Tier.HOT, 500, cap=100),
            _p("house-cold", Tier.COLD, 0, owner=P),
            _p("eth-cold", Tier.COLD, 0, asset="bitcoin:OTHER"),
        ]
    )
    assert plan.proposals == ()
    assert "no cold wallet" in plan.problems[0]


def test_proposals_become_idempotent_withdrawal_requests() -> None:
    plan = plan_rebalancing([_p("hot", Tier.HOT, 150, cap=100), _p("cold", Tier.COLD, 5)])
    request = plan.proposals[0].request("plan-2026-11-21")
    assert request["wallet_id"] == "hot" and request["destination"] == "addr-cold"
    assert request["amount_base_units"] == "50"
    assert request == plan.proposals[0].request("plan-2026-11-21")
    assert request["idempotency_key"] != plan.proposals[0].request("other")["idempotency_key"]


def test_bad_positions_are_refused() -> None:
    with pytest.raises(InputError, match="floor is above cap"):
        _p("hot", Tier.HOT, 1, cap=10, floor=20)
    with pytest.raises(InputError, match="non-negative"):
        _p("hot", Tier.HOT, -1)
