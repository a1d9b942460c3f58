"""A hot wallet over its cap: the custody plan becomes an ordinary withdrawal request."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from kinko.cli.main import app
from kinko.custody.holdings import rebalance_plan, set_balance
from kinko.store.tables.custody import WalletRow
from kinko.withdrawals.rebalancing import submit_plan
from tests.integration.withdrawals.exchange import Exchange
from tests.support.cli_api import as_person, route_cli_to_api

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

COLD_ADDRESS = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"
ETH = 10**18


def over_cap(ex: Exchange) -> None:
    with ex.ctx.db.transaction() as session:
        hot = session.get(WalletRow, ex.wallet_id)
        assert hot is not None
        hot.cap_base_units = 10 * ETH
        hot.floor_base_units = 2 * ETH
        session.add(
            WalletRow(
                id="wal_eth_cold",
                name="ETH cold",
                chain="ethereum",
                network="devnet",
                assets=["ethereum:ETH"],
                tier="cold",
                owner_class="customer",
                purpose="long_term_cold",
                quorum_m=2,
                quorum_n=3,
                eligible_roles=["senior_approver"],
                address=COLD_ADDRESS,
                limits={},
                active=True,
                created_at=ex.ctx.clock.now(),
            )
        )
        set_balance(
            ex.ctx, session, ex.wallet_id, "ethereum:ETH", 25 * ETH, source="test", actor="t"
        )


def test_sweep_goes_through_policy_and_is_idempotent(exchange: Exchange) -> None:
    ex = exchange
    over_cap(ex)
    with ex.ctx.db.transaction() as session:
        plan = rebalance_plan(session)
    assert len(plan.proposals) == 1
    sweep = plan.proposals[0]
    assert (sweep.source, sweep.destination) == (ex.wallet_id, "wal_eth_cold")
    first = submit_plan(ex.withdrawals, plan, requester=ex.user("alice"), plan_id="p1")
    assert len(first) == 1
    wd = first[0]
    assert wd.wallet_id == ex.wallet_id and wd.destination == COLD_ADDRESS
    assert wd.amount == sweep.amount
    # An ordinary request: decided by policy, nothing signed without its quorum.
    assert wd.state.value == "pending_approval", wd.state
    again = submit_plan(ex.withdrawals, plan, requester=ex.user("alice"), plan_id="p1")
    assert [v.id for v in again] == [wd.id]


def test_cli_submits_the_plan(
    exchange: Exchange, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    ex = exchange
    over_cap(ex)
    route_cli_to_api(ex.ctx, monkeypatch, tmp_path / "config")
    runner = CliRunner()
    env = {"KINKO_DATABASE_URL": ex.ctx.settings.resolved_database_url}
    args = ["--data-dir", str(ex.ctx.settings.data_dir), "withdraw", "rebalance", "--json"]
    refused = runner.invoke(app, args, env={**env, **as_person(ex.ctx, "bob")})
    assert refused.exit_code == 1 and "withdrawals:create" in refused.output  # an approver
    result = runner.invoke(app, args, env={**env, **as_person(ex.ctx, "alice")})
    assert result.exit_code == 0, result.output
    assert '"destination": "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"' in result.output
