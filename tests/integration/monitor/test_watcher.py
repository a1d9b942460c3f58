"""The chain watcher on a real in-process Ethereum chain (eth-tester / py-evm), feeding the
real monitor, with withdrawals sent by the real withdrawal flow, on both databases."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select

from kinko.chains.ethereum import EthereumAdapter
from kinko.context import Context
from kinko.core.errors import InputError, Unavailable
from kinko.core.events import SecurityEvent
from kinko.monitor.watcher import ChainWatcher, watcher_from_settings
from kinko.services import Services
from kinko.store.tables.audit import AuditEntryRow
from kinko.store.tables.custody import AssetRow, WalletRow
from kinko.store.tables.withdrawals import WithdrawalRow
from kinko.withdrawals.service import WithdrawalRequest
from kinko.withdrawals.states import State
from tests.integration.withdrawals.exchange import RECIPIENT, Exchange, build_exchange
from tests.support.services import services_of

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

HOT = "wal_eth_hot"
UNEXPLAINED = "kinko-hot-outflow-without-withdrawal"
USDT = "0xdAC17F958D2ee523a2206206994597C13D831ec7"


@pytest.fixture(scope="module")
def w3() -> Iterator[Any]:
    from web3 import EthereumTesterProvider, Web3

    yield Web3(EthereumTesterProvider())


def watcher(ctx: Context, w3: Any) -> ChainWatcher:
    return ChainWatcher(ctx, {("ethereum", "devnet"): EthereumAdapter("devnet", web3=w3)})


def rules_fired(ctx: Context) -> list[str]:
    services = services_of(ctx)
    with ctx.db.transaction() as s:
        return sorted(a.rule_id for a in services.triage.list_alerts(s))


def frozen(ctx: Context) -> list[tuple[str, str | None]]:
    services = services_of(ctx)
    with ctx.db.transaction() as s:
        return [(f.scope.value, f.target) for f in services.freezes.active_freezes(s)]


def send_withdrawal(ex: Exchange, key: str) -> str:
    wd = ex.withdrawals.request(
        WithdrawalRequest(asset="ETH", amount="0.5", destination=RECIPIENT.lower()),
        requester=ex.user("alice"),
        idempotency_key=key,
        channel="api",
    )
    done = ex.executor.execute(wd.id)
    assert done.state is State.BROADCAST and done.txid is not None
    ex.w3.eth.wait_for_transaction_receipt(done.txid)
    return wd.id


def steal(w3: Any, amount: int, to: str = RECIPIENT) -> str:
    tx = w3.eth.send_transaction({"from": w3.eth.accounts[0], "to": to, "value": amount})
    w3.eth.wait_for_transaction_receipt(tx)
    return "0x" + bytes(tx).hex()


def test_unexplained_outflow_freezes_the_wallet_and_a_withdrawal_does_not(
    ctx: Context, services: Services, w3: Any
) -> None:
    ex = build_exchange(ctx, w3)
    services.start_monitor()
    watch = watcher(ctx, w3)
    assert watch.poll_once() == []  # starts watching at the current block

    wd_id = send_withdrawal(ex, "k-watch-explained")
    (explained,) = watch.poll_once()
    assert explained.type == "chain.outflow" and explained.wallet == HOT
    assert explained.fields["withdrawal_id"] == wd_id
    assert (explained.asset, explained.amount) == ("ETH", 5 * 10**17)
    assert UNEXPLAINED not in rules_fired(ctx) and frozen(ctx) == []

    txid = steal(w3, 12345)
    (event,) = watch.poll_once()
    assert (event.wallet, event.asset, event.amount, event.destination) == (
        HOT,
        "ETH",
        12345,
        RECIPIENT,
    )
    assert event.fields["wallet_tier"] == "hot" and event.fields["chain"] == "ethereum"
    assert event.fields["txid"] == txid and "withdrawal_id" not in event.fields
    assert rules_fired(ctx).count(UNEXPLAINED) == 1
    assert frozen(ctx) == [("wallet", HOT)]


def test_a_withdrawal_record_that_differs_from_the_chain_explains_nothing(
    ctx: Context, services: Services, w3: Any
) -> None:
    ex = build_exchange(ctx, w3)
    services.start_monitor()
    watch = watcher(ctx, w3)
    watch.poll_once()
    wd_id = send_withdrawal(ex, "k-watch-tampered")
    with ctx.db.transaction() as s:  # the record no longer says what was sent
        row = s.get(WithdrawalRow, wd_id)
        assert row is not None
        row.amount = 4 * 10**17
    (event,) = watch.poll_once()
    assert "withdrawal_id" not in event.fields
    assert event.fields["withdrawal_mismatch"] == wd_id
    assert UNEXPLAINED in rules_fired(ctx) and frozen(ctx) == [("wallet", HOT)]


def test_cursor_survives_a_restart_without_double_events(ctx: Context, w3: Any) -> None:
    build_exchange(ctx, w3)
    seen: list[SecurityEvent] = []
    ctx.bus.subscribe(seen.append)
    assert watcher(ctx, w3).poll_once() == []
    steal(w3, 777)
    assert [e.amount for e in watcher(ctx, w3).poll_once()] == [777]
    assert watcher(ctx, w3).poll_once() == []  # a new watcher (a restart) resumes after it
    steal(w3, 778)
    assert [e.amount for e in watcher(ctx, w3).poll_once()] == [778]
    assert [e.amount for e in seen if e.type == "chain.outflow"] == [777, 778]
    with ctx.db.transaction() as s:
        audited = s.execute(
            select(AuditEntryRow.action)
            .where(AuditEntryRow.action.like("chain.watch%"))
            .order_by(AuditEntryRow.seq)
        ).scalars()
        assert list(audited) == [
            "chain.watch_started",
            "chain.watch_advanced",
            "chain.watch_advanced",
        ]


def test_move_to_our_own_wallet_names_its_tier(ctx: Context, w3: Any) -> None:
    build_exchange(ctx, w3)
    cold_address = w3.eth.accounts[3]
    add_wallet(ctx, "wal_eth_cold", "cold", cold_address)
    watch = watcher(ctx, w3)
    watch.poll_once()
    steal(w3, 4242, to=cold_address)
    (event,) = watch.poll_once()
    assert event.fields["destination_tier"] == "cold"
    assert event.fields["destination_wallet"] == "wal_eth_cold"
    assert "rebalance_plan" not in event.fields


def test_a_wallet_with_a_bad_address_is_refused_loudly_and_others_still_watched(
    ctx: Context, w3: Any
) -> None:
    build_exchange(ctx, w3)
    add_wallet(ctx, "wal_eth_bad", "hot", "0xnot-an-address")
    seen: list[SecurityEvent] = []
    ctx.bus.subscribe(seen.append)
    watch = watcher(ctx, w3)
    with pytest.raises(InputError, match="wal_eth_bad"):
        watch.poll_once()
    steal(w3, 99)
    with pytest.raises(InputError, match="wal_eth_bad"):
        watch.poll_once()
    outflows = [(e.wallet, e.amount) for e in seen if e.type == "chain.outflow"]
    assert outflows == [(HOT, 99)]
    assert [e.type for e in seen if e.type != "chain.outflow"] == ["chain.unwatched"] * 2


def test_a_blind_watcher_raises_an_alert_not_only_a_log_line(
    ctx: Context, services: Services, w3: Any
) -> None:
    """The node stops answering: each failed pass is a `chain.watch_failed` event, and
    three within 5 minutes raise the critical blind-watcher alert (no freeze: a node
    outage must not be a lever). A wallet whose address does not parse is an alert too."""
    from web3 import HTTPProvider, Web3

    build_exchange(ctx, w3)
    services.start_monitor()
    seen: list[SecurityEvent] = []
    ctx.bus.subscribe(seen.append)
    down = Web3(HTTPProvider("http://127.0.0.1:9", request_kwargs={"timeout": 2}))
    blind = ChainWatcher(ctx, {("ethereum", "devnet"): EthereumAdapter("devnet", web3=down)})
    for _ in range(2):
        with pytest.raises(Unavailable):
            blind.poll_once()
    assert "kinko-chain-watcher-blind" not in rules_fired(ctx)  # two passes: not yet
    with pytest.raises(Unavailable):
        blind.poll_once()
    failed = [e for e in seen if e.type == "chain.watch_failed"]
    assert len(failed) == 3 and failed[0].fields["chain"] == "ethereum"
    assert rules_fired(ctx).count("kinko-chain-watcher-blind") == 1
    assert frozen(ctx) == []

    add_wallet(ctx, "wal_eth_bad", "hot", "0xnot-an-address")
    with pytest.raises(InputError):
        watcher(ctx, w3).poll_once()
    (unwatched,) = [e for e in seen if e.type == "chain.unwatched"]
    assert "wal_eth_bad" in unwatched.fields["error"]
    assert "kinko-chain-wallet-unwatched" in rules_fired(ctx)


def test_no_node_configured_means_no_watcher(ctx: Context) -> None:
    assert watcher_from_settings(ctx) is None


def add_wallet(ctx: Context, wallet_id: str, tier: str, address: str) -> None:
    with ctx.db.transaction() as s:
        s.add(
            WalletRow(
                id=wallet_id,
                name=wallet_id,
                chain="ethereum",
                network="devnet",
                assets=["ETH"],
                tier=tier,
                owner_class="customer",
                purpose="operational",
                quorum_m=2,
                quorum_n=3,
                eligible_roles=["approver"],
                address=address,
                limits={},
                active=True,
                created_at=ctx.clock.now(),
            )
        )


def test_a_configured_node_starts_the_watcher_with_kinko_serve(ctx: Context) -> None:
    from kinko.api.background import job_starter

    configured = replace_settings(
        ctx, ethereum_node_url="http://127.0.0.1:9", ethereum_network="devnet"
    )
    with ctx.db.transaction() as s:
        s.add(AssetRow(chain="ethereum", symbol="USDT", decimals=6, contract=USDT.lower()))
        s.add(AssetRow(chain="ethereum", symbol="ETH", decimals=18, contract=None))
    found = watcher_from_settings(configured)
    assert found is not None and list(found.adapters) == [("ethereum", "devnet")]
    adapter = found.adapters[("ethereum", "devnet")]
    assert isinstance(adapter, EthereumAdapter) and dict(adapter.tokens) == {USDT: "USDT"}

    async def names() -> list[str]:
        tasks = job_starter(configured, check_freshness=lambda: ())()
        for task in tasks:
            task.cancel()
        return sorted(t.get_name() for t in tasks)

    assert asyncio.run(names()) == ["audit-checkpoints", "chain-watcher", "screening-freshness"]


def test_watch_command_needs_a_node_and_fails_closed_when_it_is_down(ctx: Context) -> None:
    from typer.testing import CliRunner

    from kinko.cli.main import app

    runner = CliRunner()
    base = {
        "KINKO_DATA_DIR": str(ctx.settings.data_dir),
        "KINKO_DATABASE_URL": ctx.settings.database_url,
    }
    result = runner.invoke(app, ["monitor", "watch", "--once"], env=base)
    assert result.exit_code == 2 and "KINKO_ETHEREUM_NODE_URL" in result.output
    add_wallet(ctx, "wal_eth_hot", "hot", RECIPIENT)
    down = {
        **base,
        "KINKO_ETHEREUM_NODE_URL": "http://127.0.0.1:9",
        "KINKO_ETHEREUM_NETWORK": "devnet",
    }
    result = runner.invoke(app, ["monitor", "watch", "--once"], env=down)
    assert result.exit_code == 1 and "node is unreachable" in result.output


def replace_settings(ctx: Context, **changes: str) -> Context:
    return dataclasses.replace(ctx, settings=ctx.settings.model_copy(update=changes))
