"""Balances read from a real in-process Ethereum chain into the custody tables."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from kinko.chains.ethereum import EthereumAdapter
from kinko.context import Context
from kinko.core.amount import Asset
from kinko.core.errors import InputError
from kinko.custody import holdings, wallets
from kinko.store.tables.custody import WalletBalanceRow
from tests.integration.chains import minimal_erc20
from tests.support.services import services_of

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")
ACTOR = "user:custodian"


@pytest.fixture(scope="module")
def chain() -> Iterator[dict[str, Any]]:
    from web3 import EthereumTesterProvider, Web3

    w3 = Web3(EthereumTesterProvider())
    sender = w3.eth.accounts[0]
    tx = w3.eth.send_transaction(
        {"from": sender, "data": minimal_erc20.deploy_code(123_456_789), "gas": 500_000}
    )
    token = w3.eth.wait_for_transaction_receipt(tx)["contractAddress"]
    yield {"w3": w3, "sender": sender, "token": token}


def test_sync_records_native_and_token_balances_with_their_source(
    ctx: Context, chain: dict[str, Any]
) -> None:
    adapter = EthereumAdapter("devnet", web3=chain["w3"])
    with ctx.db.transaction() as s:
        wallets.unsafe_register_asset(ctx, s, Asset("ETH", "ethereum", 18), actor=ACTOR)
        wallets.unsafe_register_asset(
            ctx, s, Asset("TKN", "ethereum", 6, chain["token"]), actor=ACTOR
        )
        wallet_id = wallets.unsafe_register_wallet(
            ctx,
            s,
            wallets.NewWallet(
                name="eth-hot",
                chain="ethereum",
                network="devnet",
                assets=("ethereum:ETH", "ethereum:TKN"),
                tier="hot",
                owner_class="customer",
                purpose="operational",
                quorum_m=1,
                quorum_n=1,
                address=chain["sender"],
            ),
            actor=ACTOR,
        )
        read = holdings.sync_balances_from_chain(ctx, s, wallet_id, adapter, actor=ACTOR)
    assert read == {
        "ethereum:ETH": chain["w3"].eth.get_balance(chain["sender"]),
        "ethereum:TKN": 123_456_789,
    }
    with ctx.db.transaction() as s:
        row = s.get(WalletBalanceRow, (wallet_id, "ethereum:TKN"))
        assert row is not None and (row.base_units, row.source) == (123_456_789, "chain:devnet")
        other = wallets.unsafe_register_wallet(
            ctx,
            s,
            wallets.NewWallet(
                name="btc",
                chain="ethereum",
                network="devnet",
                assets=("ethereum:ETH",),
                tier="cold",
                owner_class="customer",
                purpose="long_term_cold",
                quorum_m=1,
                quorum_n=1,
            ),
            actor=ACTOR,
        )
    with (
        pytest.raises(InputError, match="not an ethereum address wallet"),
        ctx.db.transaction() as s,
    ):
        holdings.sync_balances_from_chain(ctx, s, other, adapter, actor=ACTOR)


def test_nonce_check_backfills_our_signatures_from_the_chain(
    ctx: Context, chain: dict[str, Any]
) -> None:
    from kinko.chains.ethereum import Fees, Transfer
    from kinko.custody import keys

    w3 = chain["w3"]
    adapter = EthereumAdapter("devnet", web3=w3)
    sender = chain["sender"]
    secret = (1).to_bytes(32, "big")  # eth-tester's first account
    before = str(w3.eth.block_number)
    for amount in (1, 2, 3):
        nonce = w3.eth.get_transaction_count(sender)
        payload = adapter.build(
            Transfer(
                sender,
                sender.lower().replace("7e", "7f", 1),
                amount,
                nonce,
                Fees(2 * 10**9, 10**9, 21_000),
            )
        )
        w3.eth.wait_for_transaction_receipt(adapter.broadcast(adapter.sign(payload, secret)))
    added, skipped, cursor = keys.import_chain_signatures(ctx, adapter, [sender], before)
    assert (added, skipped) == (3, 0)
    assert int(cursor) == w3.eth.block_number
    assert keys.import_chain_signatures(ctx, adapter, [sender], cursor)[:2] == (0, 0)
    report = services_of(ctx).nonce_check(ACTOR)
    assert report.passed and report.scanned == 3
    # from genesis: the contract deployment (no destination) is counted as skipped
    assert keys.import_chain_signatures(ctx, adapter, [sender], None)[1] == 1
