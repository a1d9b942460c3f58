"""The pure policy engine: each rule kind, the built-in gates and how outcomes combine."""

from __future__ import annotations

from datetime import timedelta

import pytest

from kinko.chains.base import CallKind
from kinko.custody.model import Tier, WalletId
from kinko.policy.engine import evaluate
from kinko.policy.loader import load_policy
from kinko.policy.model import (
    Decision,
    FreezeId,
    FreezeRecord,
    FreezeScope,
    Outcome,
    ScreeningVerdict,
    VelocityScope,
)
from tests.unit.policy.helpers import NOW, POLICY, context, entry, request

policy = load_policy(POLICY, source="test")


def fired(decision: Decision) -> set[str]:
    return {hit.rule_id for hit in decision.fired}


def test_small_hot_withdrawal_is_auto_approved_and_names_version_and_rule() -> None:
    decision = evaluate(policy, request(amount=100), context(), NOW)
    assert decision.outcome is Outcome.ALLOW
    assert decision.policy_version == "t-1"
    assert decision.policy_digest == policy.digest
    assert fired(decision) == {"eth-hot-auto"}
    assert decision.required_approvals == 0


def test_above_auto_approval_needs_two_approvers() -> None:
    decision = evaluate(policy, request(amount=101), context(), NOW)
    assert decision.outcome is Outcome.REQUIRE_APPROVALS
    assert decision.required_approvals == 2
    assert dict(decision.required_roles) == {"approver": 2}
    assert fired(decision) == {"eth-approval"}


def test_large_amount_needs_a_senior_approver_strictest_tier_wins() -> None:
    decision = evaluate(policy, request(amount=500), context(), NOW)
    assert decision.outcome is Outcome.REQUIRE_APPROVALS
    assert decision.required_approvals == 3
    assert dict(decision.required_roles) == {"approver": 2, "senior_approver": 1}
    assert fired(decision) == {"eth-approval", "eth-large"}
    assert "1 senior_approver" in decision.summary()


def test_per_transfer_maximum_denies_and_still_lists_every_rule() -> None:
    decision = evaluate(policy, request(amount=1001), context(), NOW)
    assert decision.outcome is Outcome.DENY
    assert {"eth-max", "eth-approval", "eth-large"} <= fired(decision)
    assert decision.required_approvals == 0
    assert "exceeds the per-transfer maximum 1000" in decision.summary()


def test_velocity_limit_counts_what_is_already_reserved() -> None:
    near = context(
        velocity={(VelocityScope.WALLET, 3600): 1950, (VelocityScope.CUSTOMER, 86400): 0}
    )
    assert evaluate(policy, request(amount=50), near, NOW).outcome is Outcome.ALLOW
    over = evaluate(policy, request(amount=51), near, NOW)
    assert over.outcome is Outcome.DENY
    assert "would be 2001 (already 1950), over the limit 2000" in over.summary()


def test_velocity_on_exceed_hold() -> None:
    ctx = context(velocity={(VelocityScope.WALLET, 3600): 0, (VelocityScope.CUSTOMER, 86400): 2990})
    decision = evaluate(policy, request(amount=11), ctx, NOW)
    assert decision.outcome is Outcome.HOLD
    assert "eth-customer-24h" in fired(decision)


def test_missing_velocity_total_fails_closed() -> None:
    decision = evaluate(policy, request(), context(velocity={}), NOW)
    assert decision.outcome is Outcome.DENY
    assert {"eth-wallet-1h", "eth-customer-24h"} <= fired(decision)


@pytest.mark.parametrize(
    ("verdict", "outcome"),
    [(ScreeningVerdict.HIT, Outcome.DENY), (ScreeningVerdict.STALE, Outcome.HOLD)],
)
def test_screening_hit_denies_stale_holds(verdict: ScreeningVerdict, outcome: Outcome) -> None:
    decision = evaluate(policy, request(), context(screening=verdict), NOW)
    assert decision.outcome is outcome
    assert "builtin.screening" in fired(decision)


@pytest.mark.parametrize(
    "kind", [CallKind.DANGEROUS, CallKind.CONTRACT_CALL, CallKind.TOKEN_APPROVAL]
)
def test_call_kinds_outside_the_allowed_set_are_denied(kind: CallKind) -> None:
    decision = evaluate(policy, request(call_kind=kind), context(), NOW)
    assert decision.outcome is Outcome.DENY
    assert "builtin.call_kind" in fired(decision)


@pytest.mark.parametrize(
    ("scope", "target", "covered"),
    [
        (FreezeScope.ALL, None, True),
        (FreezeScope.CHAIN, "ethereum", True),
        (FreezeScope.CHAIN, "bitcoin", False),
        (FreezeScope.ASSET, "ethereum:ETH", True),
        (FreezeScope.ASSET, "ethereum:USDC", False),
        (FreezeScope.WALLET, "w_hot", True),
        (FreezeScope.WALLET, "w_other", False),
    ],
)
def test_freezes_deny_what_they_cover(
    scope: FreezeScope, target: str | None, covered: bool
) -> None:
    freeze = FreezeRecord(FreezeId("frz_1"), scope, target, "incident 7", "u_sec", NOW)
    decision = evaluate(policy, request(), context(freezes=(freeze,)), NOW)
    assert (decision.outcome is Outcome.DENY) is covered
    if covered:
        assert "incident 7" in decision.summary()


@pytest.mark.parametrize(
    ("scope", "target", "destination_wallet", "denied"),
    [
        (FreezeScope.WALLET, "w_cold_target", "w_cold_target", True),  # refilling it
        (FreezeScope.WALLET, "w_cold_target", "w_elsewhere", False),
        (FreezeScope.WALLET, "w_cold_target", None, False),  # a customer's address
        (FreezeScope.ASSET, "ethereum:USDC", "w_cold_target", False),  # another asset
    ],
)
def test_nothing_refills_a_frozen_wallet(
    scope: FreezeScope, target: str, destination_wallet: str | None, denied: bool
) -> None:
    """Coincheck, Upbit: a frozen hot wallet's key may be the thief's; a rebalancing into
    it would hand them more. Paying into one of the exchange's frozen wallets is refused."""
    freeze = FreezeRecord(FreezeId("frz_1"), scope, target, "keys leaked", "u_sec", NOW)
    ctx = context(freezes=(freeze,), destination_wallet=destination_wallet)
    decision = evaluate(policy, request(), ctx, NOW)
    assert (decision.outcome is Outcome.DENY) is denied
    if denied:
        assert "destination is the exchange's wallet w_cold_target" in decision.summary()


def test_freeze_outcome_can_be_hold() -> None:
    held = load_policy(
        POLICY.replace('version: "t-1"', 'version: "t-2"\nfreeze_outcome: hold'), source="t"
    )
    freeze = FreezeRecord(FreezeId("frz_1"), FreezeScope.ALL, None, "drill", "u_sec", NOW)
    assert evaluate(held, request(), context(freezes=(freeze,)), NOW).outcome is Outcome.HOLD


def test_cold_wallet_needs_an_effective_address_book_entry() -> None:
    cold = request(tier=Tier.COLD, wallet_id=WalletId("w_cold"), amount=200)
    missing = evaluate(policy, cold, context(), NOW)
    assert missing.outcome is Outcome.DENY
    assert "not in the address book" in missing.summary()
    cooling = evaluate(
        policy, cold, context(address_entry=entry(effective_at=NOW + timedelta(hours=1))), NOW
    )
    assert cooling.outcome is Outcome.DENY
    assert "cooling off" in cooling.summary()
    wrong_tier = evaluate(
        policy, cold, context(address_entry=entry(tiers=frozenset({Tier.HOT}))), NOW
    )
    assert wrong_tier.outcome is Outcome.DENY
    assert "not allowed for cold wallets" in wrong_tier.summary()
    ok = evaluate(policy, cold, context(address_entry=entry()), NOW)
    assert ok.outcome is Outcome.REQUIRE_APPROVALS
    assert ok.required_approvals == 2


def test_entry_for_another_address_does_not_count() -> None:
    other = entry()
    cold = request(tier=Tier.WARM, destination="0x" + "cd" * 20)
    assert evaluate(policy, cold, context(address_entry=other), NOW).outcome is Outcome.DENY


def test_time_window_holds_cold_withdrawals_outside_business_hours() -> None:
    cold = request(tier=Tier.COLD, amount=200)
    ctx = context(address_entry=entry())
    assert evaluate(policy, cold, ctx, NOW).outcome is Outcome.REQUIRE_APPROVALS
    evening = evaluate(policy, cold, ctx, NOW + timedelta(hours=9))  # 19:00 Tokyo
    assert evening.outcome is Outcome.HOLD
    assert "outside 09:00-18:00" in evening.summary()
    saturday = evaluate(policy, cold, ctx, NOW + timedelta(days=3))
    assert saturday.outcome is Outcome.HOLD


def test_time_window_spanning_midnight() -> None:
    text = POLICY.replace('start: "09:00"\n    end: "18:00"', 'start: "22:00"\n    end: "02:00"')
    night = load_policy(text, source="t")
    cold = request(tier=Tier.COLD, amount=200)
    ctx = context(address_entry=entry())
    # NOW is Wed 10:00 Tokyo: outside 22:00-02:00.
    assert evaluate(night, cold, ctx, NOW).outcome is Outcome.HOLD
    # Thu 01:00 Tokyo belongs to Wednesday's window.
    assert (
        evaluate(night, cold, ctx, NOW + timedelta(hours=15)).outcome is Outcome.REQUIRE_APPROVALS
    )
    # Sat 01:00 Tokyo belongs to Friday's window; Sun 01:00 to Saturday's (not listed),
    # Mon 01:00 to Sunday's (not listed); Mon 23:00 opens Monday's window.
    later = {2: Outcome.REQUIRE_APPROVALS, 3: Outcome.HOLD, 4: Outcome.HOLD}
    for days, outcome in later.items():
        at = NOW + timedelta(days=days, hours=15)
        assert evaluate(night, cold, ctx, at).outcome is outcome, at
    monday_night = NOW + timedelta(days=5, hours=13)
    assert evaluate(night, cold, ctx, monday_night).outcome is Outcome.REQUIRE_APPROVALS


def test_no_matching_rule_is_default_deny() -> None:
    btc = request(chain="bitcoin", asset="BTC")
    decision = evaluate(policy, btc, context(velocity={}), NOW)
    assert decision.outcome is Outcome.DENY
    assert fired(decision) == {"builtin.default_deny"}


def test_warm_wallet_is_never_auto_approved() -> None:
    warm = request(tier=Tier.WARM, amount=10)
    decision = evaluate(policy, warm, context(address_entry=entry()), NOW)
    assert decision.outcome is Outcome.REQUIRE_APPROVALS
    assert "eth-hot-auto" not in fired(decision)


def test_most_severe_outcome_wins_and_every_hit_is_listed() -> None:
    freeze = FreezeRecord(FreezeId("frz_1"), FreezeScope.ALL, None, "x", "u", NOW)
    decision = evaluate(
        policy,
        request(amount=1001, call_kind=CallKind.DANGEROUS),
        context(screening=ScreeningVerdict.STALE, freezes=(freeze,)),
        NOW,
    )
    assert decision.outcome is Outcome.DENY
    assert {"builtin.freeze", "builtin.screening", "builtin.call_kind", "eth-max"} <= fired(
        decision
    )


def test_decision_json_round_trip() -> None:
    decision = evaluate(policy, request(amount=600), context(), NOW)
    again = Decision.from_json(decision.to_json())
    assert again == decision


def test_decision_from_json_refuses_garbage() -> None:
    from kinko.core.errors import InputError

    with pytest.raises(InputError, match="decision"):
        Decision.from_json({"outcome": "maybe"})


def test_rules_scoped_to_a_wallet_apply_only_to_it() -> None:
    text = POLICY.replace(
        "rules:\n",
        "rules:\n  - id: w-special-max\n    kind: transfer_max\n"
        "    match: {chain: ethereum, asset: ETH, wallet: w_special}\n    max: 10\n",
    )
    scoped = load_policy(text, source="t")
    special = evaluate(scoped, request(wallet_id=WalletId("w_special"), amount=11), context(), NOW)
    assert special.outcome is Outcome.DENY and "w-special-max" in fired(special)
    other = evaluate(scoped, request(amount=11), context(), NOW)
    assert other.outcome is Outcome.ALLOW


def test_allowlist_rule_extends_the_address_book_check_to_hot_wallets() -> None:
    text = POLICY.replace(
        "rules:\n", "rules:\n  - id: hot-allowlist\n    kind: allowlist\n    match: {tier: hot}\n"
    )
    strict = load_policy(text, source="t")
    unknown = evaluate(strict, request(), context(), NOW)
    assert unknown.outcome is Outcome.DENY and "hot-allowlist" in fired(unknown)
    known = evaluate(strict, request(), context(address_entry=entry()), NOW)
    assert known.outcome is Outcome.ALLOW


def test_an_approval_tier_outranks_an_overlapping_auto_approval() -> None:
    text = POLICY.replace("max_amount: 100", "max_amount: 200")  # overlaps eth-approval
    overlapping = load_policy(text, source="t")
    decision = evaluate(overlapping, request(amount=150), context(), NOW)
    assert decision.outcome is Outcome.REQUIRE_APPROVALS
    assert fired(decision) == {"eth-hot-auto", "eth-approval"}
    assert decision.required_approvals == 2
