"""Wallets, balances, liabilities, prices, snapshots and status on both databases."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from kinko.context import Context
from kinko.core.errors import Conflict, InputError, NotFound, Unavailable
from kinko.custody import holdings, wallets
from kinko.custody.coldshare import Regime
from kinko.store.tables.audit import AuditEntryRow
from kinko.store.tables.custody import CustodySnapshotRow, WalletRow
from tests.integration.custody.exchange import (
    ACTOR,
    BTC,
    DAY,
    ETH,
    ETH_COLD,
    _spec,
    fund,
    set_up,
)


def _actions(ctx: Context) -> list[str]:
    with ctx.db.transaction() as s:
        return list(s.execute(select(AuditEntryRow.action).order_by(AuditEntryRow.seq)).scalars())


def test_registration_normalises_addresses_and_is_audited(ctx: Context) -> None:
    ids = set_up(ctx)
    with ctx.db.transaction() as s:
        cold = s.get(WalletRow, ids.eth_cold)
        btc = s.get(WalletRow, ids.btc_cold)
    assert cold is not None and cold.address == ETH_COLD  # lower-case input, EIP-55 stored
    assert btc is not None and btc.address is not None and btc.address.startswith("bcrt1q")
    assert _actions(ctx).count("custody.wallet.register") == 5


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"address": "0x5aaeb6053F3E94C9b9A09f33669435E7Ef1BeAed"}, "address"),
        ({"address": "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4", "chain": "bitcoin"}, "address"),
        ({"tier": "lukewarm"}, "tier"),
        ({"m": 3, "n": 2}, "quorum"),
        ({"chain": "bitcoin", "descriptor": "TBD", "m": 2, "n": 3}, "descriptor"),
    ],
)
def test_bad_wallets_are_refused_naming_the_field_and_nothing_is_stored(
    ctx: Context, kwargs: dict[str, object], field: str
) -> None:
    set_up(ctx)
    kwargs = dict(kwargs)
    chain = str(kwargs.pop("chain", "ethereum"))
    tier = str(kwargs.pop("tier", "hot"))
    with pytest.raises(InputError) as err, ctx.db.transaction() as s:
        wallets.unsafe_register_wallet(
            ctx, s, _spec("new", chain, tier, "customer", **kwargs), actor=ACTOR
        )
    assert err.value.field == field
    with ctx.db.transaction() as s:
        assert s.execute(select(func.count()).select_from(WalletRow)).scalar_one() == 5


def test_descriptor_quorum_must_match_the_declared_quorum(ctx: Context) -> None:
    set_up(ctx)
    from tests.unit.chains.btc_fixtures import descriptor

    with (
        pytest.raises(InputError, match="descriptor is 2-of-3, not 3-of-3"),
        ctx.db.transaction() as s,
    ):
        wallets.unsafe_register_wallet(
            ctx,
            s,
            _spec("x", "bitcoin", "cold", "customer", m=3, n=3, descriptor=descriptor((7, 8, 9))),
            actor=ACTOR,
        )


def test_a_descriptor_wallet_s_address_is_its_first_receive_address(ctx: Context) -> None:
    """A Bitcoin descriptor wallet registered with another address would have reserves
    proofs of control (BIP-322) prove that address, not these keys: refused, naming the
    descriptor's 0/0; given that address or none, it is kept."""
    from kinko.chains.bitcoin.networks import network as bitcoin_network
    from kinko.chains.bitcoin.wallet import MultisigWallet
    from tests.unit.chains.btc_fixtures import descriptor

    set_up(ctx)
    keys = descriptor((7, 8, 9))
    first = MultisigWallet.parse(keys, bitcoin_network("regtest")).address(0, 0)
    other = MultisigWallet.parse(descriptor((1, 2, 3)), bitcoin_network("regtest")).address(0, 0)
    spec = _spec("x", "bitcoin", "cold", "customer", descriptor=keys, address=other)
    with (
        pytest.raises(InputError, match="first receive address") as refused,
        ctx.db.transaction() as s,
    ):
        wallets.unsafe_register_wallet(ctx, s, spec, actor=ACTOR)
    assert refused.value.field == "address" and first in refused.value.message
    with ctx.db.transaction() as s:
        wallets.unsafe_register_wallet(
            ctx,
            s,
            _spec("y", "bitcoin", "cold", "customer", descriptor=keys, address=first),
            actor=ACTOR,
        )


def test_japan_status_passes_then_fails_when_hot_grows(ctx: Context) -> None:
    ids = set_up(ctx)
    fund(
        ctx,
        ids,
        btc_hot=4 * 10**8,
        btc_cold=96 * 10**8,
        eth_hot=0,
        eth_cold=1000 * 10**18,
        eth_guarantee=0,
    )
    with ctx.db.transaction() as s:
        holdings.set_liabilities(
            ctx, s, {BTC: 100 * 10**8, ETH: 1000 * 10**18}, source="ledger", actor=ACTOR
        )
        # guarantee covers nothing yet: BTC hot 4 needs 4 BTC of guarantee
        result = holdings.custody_status(s, Regime.JP, DAY)
    checks = {c.name: c for c in result.checks}
    assert checks["jp.outside_cold_at_most_5pct"].passed
    assert not checks["jp.guarantee_covers_hot"].passed
    assert checks[f"full_reserve.{BTC}"].passed and checks[f"full_reserve.{ETH}"].passed
    fund(
        ctx,
        ids,
        btc_hot=10 * 10**8,
        btc_cold=90 * 10**8,
        eth_hot=0,
        eth_cold=1000 * 10**18,
        eth_guarantee=0,
    )
    with ctx.db.transaction() as s:
        after = holdings.custody_status(s, Regime.JP, DAY)
    cold = next(c for c in after.checks if c.name == "jp.outside_cold_at_most_5pct")
    # owed: 100 BTC x 15M + 1000 ETH x 500000.5 = 2,000,000,500 JPY; 5% = 100,000,025
    assert cold.limit == Decimal("100000025.000")
    assert cold.value == Decimal(150_000_000) and not cold.passed


def test_korea_status_averages_a_year_of_prices(ctx: Context) -> None:
    ids = set_up(ctx)
    fund(ctx, ids, btc_hot=20 * 10**8, btc_cold=80 * 10**8, eth_hot=0, eth_cold=0, eth_guarantee=0)
    with ctx.db.transaction() as s:
        holdings.set_liabilities(ctx, s, {BTC: 100 * 10**8}, source="ledger", actor=ACTOR)
        holdings.set_prices(ctx, s, DAY - timedelta(days=400), "KRW", {BTC: "1"}, actor=ACTOR)
        holdings.set_prices(ctx, s, DAY - timedelta(days=364), "KRW", {BTC: "100"}, actor=ACTOR)
        holdings.set_prices(ctx, s, DAY, "KRW", {BTC: "300"}, actor=ACTOR)
        result = holdings.custody_status(s, Regime.KR, DAY)
    cold = result.checks[0]
    assert cold.name == "kr.cold_at_least_80pct"
    assert cold.value == Decimal(16_000)  # 80 BTC x 200 (the day-400 price is outside)
    assert cold.passed and cold.margin == 0


def test_status_without_prices_fails_closed(ctx: Context) -> None:
    set_up(ctx)
    with pytest.raises(Unavailable, match="no price for bitcoin:BTC"), ctx.db.transaction() as s:
        holdings.set_liabilities(ctx, s, {BTC: 1}, source="ledger", actor=ACTOR)
        holdings.custody_status(s, Regime.KR, DAY)
    with pytest.raises(Unavailable, match="no JPY prices on or before"), ctx.db.transaction() as s:
        holdings.custody_status(s, Regime.JP, DAY - timedelta(days=1))


def test_liabilities_csv_import_is_all_or_nothing(ctx: Context) -> None:
    set_up(ctx)
    with ctx.db.transaction() as s:
        holdings.import_liabilities_csv(
            ctx, s, "asset,amount\nbitcoin:BTC,2.5\n", source="day1.csv", actor=ACTOR
        )
    with pytest.raises(InputError, match="line 3"), ctx.db.transaction() as s:
        holdings.import_liabilities_csv(
            ctx, s, "asset,amount\nbitcoin:BTC,9\nbitcoin:XRP,1\n", source="bad.csv", actor=ACTOR
        )
    with ctx.db.transaction() as s:
        assert holdings.liabilities(s) == {BTC: 250_000_000}
    assert _actions(ctx).count("custody.liabilities.import") == 1


def test_balances_refuse_assets_the_wallet_does_not_hold(ctx: Context) -> None:
    ids = set_up(ctx)
    with pytest.raises(InputError, match="does not hold ethereum:ETH"), ctx.db.transaction() as s:
        holdings.set_balance(ctx, s, ids.btc_hot, ETH, 1, source="x", actor=ACTOR)
    with pytest.raises(InputError, match="non-negative"), ctx.db.transaction() as s:
        holdings.set_balance(ctx, s, ids.btc_hot, BTC, -5, source="x", actor=ACTOR)


def test_daily_snapshot_is_kept_once_per_day(ctx: Context) -> None:
    ids = set_up(ctx)
    fund(ctx, ids, btc_hot=1, btc_cold=2, eth_hot=3, eth_cold=4, eth_guarantee=5)
    with ctx.db.transaction() as s:
        holdings.set_liabilities(ctx, s, {BTC: 3}, source="ledger", actor=ACTOR)
        assert holdings.take_snapshot(ctx, s, DAY, actor=ACTOR) == 6
    with pytest.raises(Conflict, match="already exists"), ctx.db.transaction() as s:
        holdings.take_snapshot(ctx, s, DAY, actor=ACTOR)
    with ctx.db.transaction() as s:
        rows = s.execute(
            select(CustodySnapshotRow).where(CustodySnapshotRow.day == DAY.isoformat())
        )
        units = sorted(r.base_units for r in rows.scalars())
    assert units == [1, 2, 3, 3, 4, 5]


def test_status_of_a_past_day_uses_that_days_snapshot(ctx: Context) -> None:
    ids = set_up(ctx)
    fund(ctx, ids, btc_hot=0, btc_cold=100 * 10**8, eth_hot=0, eth_cold=0, eth_guarantee=0)
    with ctx.db.transaction() as s:
        holdings.set_liabilities(ctx, s, {BTC: 100 * 10**8}, source="ledger", actor=ACTOR)
        holdings.take_snapshot(ctx, s, DAY, actor=ACTOR)
    # later the hot wallet grows far beyond 5%: today's status fails, the snapshot's passes
    fund(ctx, ids, btc_hot=50 * 10**8, btc_cold=50 * 10**8, eth_hot=0, eth_cold=0, eth_guarantee=0)
    with ctx.db.transaction() as s:
        assert not holdings.custody_status(s, Regime.JP, DAY).passed
        then = holdings.custody_status(s, Regime.JP, DAY, from_snapshot=True)
    assert then.passed
    assert then.checks[0].value == 0
    with (
        pytest.raises(NotFound, match=f"no custody snapshot for {DAY - timedelta(days=1)}"),
        ctx.db.transaction() as s,
    ):
        holdings.custody_status(s, Regime.JP, DAY - timedelta(days=1), from_snapshot=True)


def test_rebalance_plan_sweeps_the_hot_btc_wallet_to_cold(ctx: Context) -> None:
    ids = set_up(ctx)
    fund(ctx, ids, btc_hot=3 * 10**8, btc_cold=0, eth_hot=0, eth_cold=0, eth_guarantee=0)
    with ctx.db.transaction() as s:
        plan = holdings.rebalance_plan(s)
        cold = s.get(WalletRow, ids.btc_cold)
    (proposal,) = plan.proposals
    assert proposal.source == ids.btc_hot and proposal.destination == ids.btc_cold
    assert proposal.amount == 3 * 10**8 - (10**8 + 10**7) // 2
    assert cold is not None and proposal.destination_address == cold.address
