"""Address-book entries are network-bound: a cold withdrawal from a regtest wallet is
allow-listed only by a regtest entry, and one from a mainnet wallet only by a mainnet
entry, though both addresses carry the same witness program. Real services, both
databases."""

from __future__ import annotations

from datetime import timedelta

import pytest
from embit.script import Script
from embit.transaction import Transaction, TransactionInput, TransactionOutput

from kinko.chains.bitcoin import BitcoinAdapter
from kinko.core.clock import FixedClock
from kinko.core.errors import InputError
from kinko.custody.model import Tier
from kinko.demo.bitcoin import demo_descriptor
from kinko.policy.model import OwnerKind
from kinko.withdrawals.bitcoin import cold_multisig_wallet, import_utxo
from kinko.withdrawals.records import WithdrawalView
from kinko.withdrawals.service import WithdrawalRequest
from tests.integration.withdrawals.btc_exchange import DEST as MAINNET_DEST
from tests.integration.withdrawals.btc_exchange import WALLET as MAINNET_WALLET
from tests.integration.withdrawals.btc_exchange import BtcExchange, add_btc_wallet
from tests.integration.withdrawals.exchange import Exchange
from tests.support.addressbook import add_entry
from tests.support.services import services_of

REGTEST_WALLET = "wal_btc_cold_regtest"
REGTEST_DEST = "bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080"  # MAINNET_DEST's program
SHORT = dict.fromkeys(Tier, timedelta(minutes=1))


def add_regtest_wallet(btc: BtcExchange) -> None:
    ctx = btc.ex.ctx
    descriptor = demo_descriptor()
    with ctx.db.transaction() as session:
        session.add(
            cold_multisig_wallet(
                REGTEST_WALLET,
                name="BTC cold (regtest)",
                network="regtest",
                descriptor=descriptor,
                created_at=ctx.clock.now(),
            )
        )
    wallet = BitcoinAdapter("regtest", descriptor=descriptor).wallet
    assert wallet is not None
    for i in range(2):
        prev = Transaction(
            vin=[TransactionInput(bytes([9, i]) + bytes(30), 0)],
            vout=[TransactionOutput(100_000, Script(wallet.script_pubkey(0, i)))],
        )
        import_utxo(
            ctx, wallet_id=REGTEST_WALLET, prev_tx=bytes(prev.serialize()), vout=0, actor="ops"
        )


def request(btc: BtcExchange, wallet: str, destination: str, key: str) -> WithdrawalView:
    return btc.withdrawals.request(
        WithdrawalRequest(
            asset="BTC", amount="0.0005", destination=destination, source_wallet=wallet
        ),
        requester=btc.ex.user("alice"),
        idempotency_key=key,
        channel="api",
    )


def test_entries_only_allow_list_wallets_on_their_own_network(exchange: Exchange) -> None:
    btc = add_btc_wallet(exchange)  # mainnet wallet; MAINNET_DEST listed and effective
    add_regtest_wallet(btc)
    ctx = exchange.ctx
    book = services_of(ctx).address_book

    # Only the mainnet entry: the regtest wallet's same-program address is not listed.
    denied = request(btc, REGTEST_WALLET, REGTEST_DEST, "r1")
    assert denied.state.value == "denied"
    assert f"{REGTEST_DEST} is not in the address book" in str(denied.reason)
    allowed = request(btc, MAINNET_WALLET, MAINNET_DEST, "m1")
    assert allowed.state.value == "pending_approval", allowed.reason
    # Naming the listed mainnet string from the regtest wallet does not get past its adapter.
    with pytest.raises(InputError) as err:
        request(btc, REGTEST_WALLET, MAINNET_DEST, "r2")
    assert err.value.code == "wrong_network"

    # Swap: remove the mainnet entry, list the regtest address (four eyes, cooling off).
    with ctx.db.transaction() as s:
        book.remove(s, chain="bitcoin", address=MAINNET_DEST, actor="user:sec1", reason="swap")
    entry = add_entry(
        ctx,
        REGTEST_DEST.upper(),
        chain="bitcoin",
        label="regtest customer",
        owner_kind=OwnerKind.CUSTOMER_VERIFIED,
        tiers=[Tier.COLD],
    )
    assert entry.address == REGTEST_DEST
    assert isinstance(ctx.clock, FixedClock)
    ctx.clock.advance(book.cooling_off[Tier.COLD] + timedelta(minutes=1))
    with ctx.db.transaction() as s:
        assert book.lookup(s, "bitcoin", REGTEST_DEST) is not None
        assert book.lookup(s, "bitcoin", MAINNET_DEST) is None

    allowed = request(btc, REGTEST_WALLET, REGTEST_DEST, "r3")
    assert allowed.state.value == "pending_approval", allowed.reason
    assert allowed.intent is not None
    assert (allowed.intent["network"], allowed.intent["destination"]) == ("regtest", REGTEST_DEST)
    denied = request(btc, MAINNET_WALLET, MAINNET_DEST, "m2")
    assert denied.state.value == "denied"
    assert f"{MAINNET_DEST} is not in the address book" in str(denied.reason)
