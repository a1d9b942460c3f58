"""Properties of `evaluate` over generated requests and contexts (hypothesis)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kinko.chains.base import CallKind
from kinko.core.errors import InputError
from kinko.custody.model import Tier, WalletId
from kinko.policy.engine import evaluate
from kinko.policy.loader import load_policy
from kinko.policy.model import (
    FreezeId,
    FreezeRecord,
    FreezeScope,
    Outcome,
    PolicyContext,
    PolicyRequest,
    ScreeningVerdict,
    VelocityScope,
)
from tests.unit.policy.helpers import NOW, POLICY, entry, request

policy = load_policy(POLICY, source="test")

requests = st.builds(
    request,
    tier=st.sampled_from(list(Tier)),
    amount=st.integers(min_value=1, max_value=3000),
    call_kind=st.sampled_from(list(CallKind)),
    wallet_id=st.sampled_from([WalletId("w_hot"), WalletId("w_cold")]),
)
contexts = st.builds(
    PolicyContext,
    velocity=st.fixed_dictionaries(
        {
            (VelocityScope.WALLET, 3600): st.integers(0, 3000),
            (VelocityScope.CUSTOMER, 86400): st.integers(0, 4000),
        }
    ),
    address_entry=st.one_of(
        st.none(),
        st.builds(
            entry,
            tiers=st.frozensets(st.sampled_from(list(Tier)), min_size=1),
            effective_at=st.sampled_from([NOW - timedelta(days=3), NOW + timedelta(hours=1)]),
        ),
    ),
    freezes=st.just(()),
    screening=st.sampled_from(list(ScreeningVerdict)),
)
moments = st.integers(0, 7 * 24 * 60).map(lambda minutes: NOW + timedelta(minutes=minutes))


@settings(max_examples=300, deadline=None)
@given(requests, contexts, moments)
def test_outcome_is_the_most_severe_hit_and_quorum_only_when_required(
    req: PolicyRequest, ctx: PolicyContext, now: object
) -> None:
    decision = evaluate(policy, req, ctx, now)  # type: ignore[arg-type]
    assert decision.fired, "every decision names at least one rule"
    assert decision.outcome is max((h.outcome for h in decision.fired), key=lambda o: o.severity)
    assert (decision.required_approvals > 0) is (decision.outcome is Outcome.REQUIRE_APPROVALS)
    assert decision.policy_version == policy.version
    if req.call_kind is CallKind.DANGEROUS or ctx.screening is ScreeningVerdict.HIT:
        assert decision.outcome is Outcome.DENY
    if decision.outcome is Outcome.ALLOW:
        assert req.tier is Tier.HOT and req.amount <= 100


@settings(max_examples=200, deadline=None)
@given(requests, contexts, st.integers(1, 3000))
def test_more_usage_or_a_freeze_never_makes_a_decision_more_permissive(
    req: PolicyRequest, ctx: PolicyContext, extra: int
) -> None:
    before = evaluate(policy, req, ctx, NOW).outcome.severity
    busier = PolicyContext(
        velocity={key: used + extra for key, used in ctx.velocity.items()},
        address_entry=ctx.address_entry,
        freezes=ctx.freezes,
        screening=ctx.screening,
    )
    assert evaluate(policy, req, busier, NOW).outcome.severity >= before
    freeze = FreezeRecord(FreezeId("frz"), FreezeScope.CHAIN, "ethereum", "x", "u", NOW)
    frozen = PolicyContext(
        velocity=ctx.velocity,
        address_entry=ctx.address_entry,
        freezes=(freeze,),
        screening=ctx.screening,
    )
    assert evaluate(policy, req, frozen, NOW).outcome is Outcome.DENY


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"tier": "hot"}, "tier"),
        ({"call_kind": "dangerous"}, "call_kind"),
        ({"amount": 0}, "amount"),
        ({"amount": 1.5}, "amount"),
        ({"destination": ""}, "destination"),
    ],
)
def test_requests_are_parsed_not_trusted(change: dict[str, object], field: str) -> None:
    with pytest.raises(InputError) as caught:
        request(**change)
    assert caught.value.field == field
