"""PolicyService on both databases: context from the store, reservations, release."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from kinko.context import Context
from kinko.core.clock import FixedClock
from kinko.core.errors import Conflict
from kinko.core.events import SecurityEvent
from kinko.custody.model import Tier, WalletId
from kinko.policy.loader import load_policy
from kinko.policy.model import FreezeScope, Outcome, OwnerKind, ScreeningVerdict
from kinko.policy.service import PolicyService
from kinko.services import build_services
from kinko.store.tables.audit import AuditEntryRow
from kinko.store.tables.policy import PolicyVersionRow, VelocityLedgerRow
from tests.integration.policy.support import COLD_ADDR, HOT_POLICY, decision_for, eth_request
from tests.support.addressbook import add_entry
from tests.support.services import adopt, services_of


@pytest.fixture
def service(ctx: Context) -> PolicyService:
    """The policy service of a process deciding with the test policy (its address book
    cools entries off by that policy)."""
    return adopt(build_services(ctx, policy=load_policy(HOT_POLICY, source="test"))).policy


def test_allow_reserves_and_is_audited(ctx: Context, service: PolicyService) -> None:
    decision = decision_for(ctx, service, eth_request(amount=400), "wd_1")
    assert decision.outcome is Outcome.ALLOW
    with ctx.db.transaction() as s:
        ledger = s.execute(select(VelocityLedgerRow)).scalars().all()
        actions = s.execute(select(AuditEntryRow.action)).scalars().all()
        version = s.get(PolicyVersionRow, service.policy.digest)
    assert {(r.scope, r.amount) for r in ledger} == {
        ("wallet", 400),
        ("asset", 400),
        ("customer", 400),
    }
    assert "policy.decision" in actions
    assert "policy.activated" in actions
    assert version is not None and version.text == HOT_POLICY


def test_velocity_window_counts_reservations_and_rolls(
    ctx: Context, service: PolicyService, clock: FixedClock
) -> None:
    assert decision_for(ctx, service, eth_request(amount=600), "wd_1").outcome is Outcome.ALLOW
    over = decision_for(ctx, service, eth_request(amount=500), "wd_2")
    assert over.outcome is Outcome.DENY
    assert "already 600" in over.summary()
    clock.advance(timedelta(hours=1, seconds=1))
    assert decision_for(ctx, service, eth_request(amount=500), "wd_3").outcome is Outcome.ALLOW


def test_denied_requests_reserve_nothing_and_release_frees_the_window(
    ctx: Context, service: PolicyService
) -> None:
    decision_for(ctx, service, eth_request(amount=900), "wd_1")
    assert decision_for(ctx, service, eth_request(amount=200), "wd_2").denied
    with ctx.db.transaction() as s:
        assert service.release(s, "wd_2") == 0
        assert service.release(s, "wd_1") == 900
        assert service.release(s, "wd_1") == 0
    assert decision_for(ctx, service, eth_request(amount=200), "wd_3").outcome is Outcome.ALLOW


def test_reevaluating_a_withdrawal_replaces_its_reservation(
    ctx: Context, service: PolicyService
) -> None:
    decision_for(ctx, service, eth_request(amount=900), "wd_1")
    assert decision_for(ctx, service, eth_request(amount=900), "wd_1").outcome is Outcome.ALLOW
    with ctx.db.transaction() as s:
        live = (
            s.execute(select(VelocityLedgerRow).where(VelocityLedgerRow.released_at.is_(None)))
            .scalars()
            .all()
        )
    assert len(live) == 3


def test_customer_and_asset_windows_are_separate_counters(
    ctx: Context, service: PolicyService
) -> None:
    decision_for(ctx, service, eth_request(amount=900, customer_ref="c1"), "wd_1")
    other_wallet = eth_request(amount=900, customer_ref="c1", wallet_id=WalletId("w_hot2"))
    held = decision_for(ctx, service, other_wallet, "wd_2")
    assert held.outcome is Outcome.HOLD  # customer 24h limit 1500, on_exceed: hold
    other_customer = eth_request(amount=900, customer_ref="c2", wallet_id=WalletId("w_hot3"))
    assert decision_for(ctx, service, other_customer, "wd_3").outcome is Outcome.ALLOW


def test_freeze_in_the_store_denies(ctx: Context, service: PolicyService) -> None:
    with ctx.db.transaction() as s:
        service.freezes.freeze(
            s, scope=FreezeScope.ASSET, target="ethereum:ETH", reason="drain", actor="u_sec"
        )
    decision = decision_for(ctx, service, eth_request(), "wd_1")
    assert decision.outcome is Outcome.DENY
    assert "asset ethereum:ETH frozen by u_sec: drain" in decision.summary()


def test_screening_verdict_is_passed_through(ctx: Context, service: PolicyService) -> None:
    stale = decision_for(ctx, service, eth_request(), "wd_1", screening=ScreeningVerdict.STALE)
    assert stale.outcome is Outcome.HOLD


def test_cold_wallet_waits_for_the_address_book_cooling_off(
    ctx: Context, service: PolicyService, clock: FixedClock
) -> None:
    cold = eth_request(tier=Tier.COLD, wallet_id=WalletId("w_cold"), destination=COLD_ADDR)
    assert decision_for(ctx, service, cold, "wd_1").denied
    add_entry(
        ctx, COLD_ADDR.lower(), label="partner", owner_kind=OwnerKind.PARTNER, tiers=[Tier.COLD]
    )
    cooling = decision_for(ctx, service, cold, "wd_2")
    assert cooling.denied and "cooling off" in cooling.summary()
    clock.advance(timedelta(hours=72))  # the test policy's cold cooling-off
    assert decision_for(ctx, service, cold, "wd_3").outcome is Outcome.REQUIRE_APPROVALS


def test_a_version_may_not_name_two_texts(ctx: Context, service: PolicyService) -> None:
    decision_for(ctx, service, eth_request(), "wd_1")
    changed = load_policy(HOT_POLICY.replace("limit: 1000", "limit: 9000"), source="edited")
    with pytest.raises(Conflict, match="already used for a different text"):
        decision_for(ctx, services_of(ctx).policy.deciding_with(changed), eth_request(), "wd_2")


def test_wei_sized_amounts_sum_exactly_on_both_databases(ctx: Context) -> None:
    """Velocity totals beyond 2**63 (about 9.2 ETH in wei) stay exact."""
    text = (
        HOT_POLICY.replace("limit: 1000\n", f"limit: {3 * 10**20}\n")
        .replace("limit: 1500", f"limit: {10**22}")
        .replace("max_amount: 1000", f"max_amount: {2 * 10**20}")
    )
    service = services_of(ctx).policy.deciding_with(load_policy(text, source="wei"))
    for i in range(2):
        big = eth_request(amount=10**20 + i, customer_ref=f"c{i}")
        assert decision_for(ctx, service, big, f"wd_{i}").outcome is Outcome.ALLOW
    rest = 3 * 10**20 - (2 * 10**20 + 1)
    assert (
        decision_for(ctx, service, eth_request(amount=rest, customer_ref="c9"), "wd_a").outcome
        is Outcome.ALLOW
    )
    over = decision_for(ctx, service, eth_request(amount=1, customer_ref="c8"), "wd_b")
    assert over.outcome is Outcome.DENY
    assert f"already {3 * 10**20}" in over.summary()


def test_a_weaker_policy_is_audited_and_published(ctx: Context) -> None:
    events: list[SecurityEvent] = []
    ctx.bus.subscribe(events.append)
    strict = services_of(ctx).policy.deciding_with(load_policy(HOT_POLICY, source="v1"))
    looser_text = HOT_POLICY.replace('version: "it-1"', 'version: "it-2"').replace(
        "limit: 1000", "limit: 5000"
    )
    looser = services_of(ctx).policy.deciding_with(load_policy(looser_text, source="v2"))
    with ctx.db.transaction() as s:
        assert strict.record_version(s) == []  # the first policy has nothing to compare with
        assert strict.record_version(s) == []  # already in force: nothing happens
    with ctx.db.transaction() as s:
        found = looser.record_version(s)
    assert [(w.change.value, w.rule_id) for w in found] == [("limit_raised", "eth-wallet-1h")]
    assert [(e.type, e.fields["change"]) for e in events] == [("policy.change", "limit_raised")]
    with ctx.db.transaction() as s:
        back = strict.record_version(s)  # going back to the stricter text loosens nothing
        entries = (
            s.execute(select(AuditEntryRow.entry).where(AuditEntryRow.action == "policy.activated"))
            .scalars()
            .all()
        )
    assert back == []
    assert len(entries) == 3
    assert b'"weakenings":[{"change":"limit_raised"' in entries[1]
