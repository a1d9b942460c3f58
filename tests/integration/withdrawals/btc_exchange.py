"""A cold Bitcoin 2-of-3 wallet added to the test exchange: descriptor, imported UTXOs,
an allow-listed destination, and services wired with the Bitcoin gateway.

Mainnet keys and addresses (synthetic funding, nothing is broadcast), so these tests also
cover the mainnet network binding; the demo's Bitcoin act (btcdemo.py) runs on regtest.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from embit import bip32
from embit.networks import NETWORKS
from embit.script import Script
from embit.transaction import Transaction, TransactionInput, TransactionOutput

from kinko.chains.bitcoin import BitcoinAdapter, Utxo
from kinko.context import Context
from kinko.core.clock import FixedClock
from kinko.custody.model import Tier
from kinko.policy.model import OwnerKind
from kinko.store.tables.custody import AssetRow
from kinko.withdrawals.approvals import ApprovalService
from kinko.withdrawals.bitcoin import cold_multisig_wallet, import_utxo
from kinko.withdrawals.records import WithdrawalView
from kinko.withdrawals.service import WithdrawalRequest, WithdrawalService
from tests.integration.withdrawals.exchange import Exchange, load_lists
from tests.support.addressbook import approve_entry, propose_entry

WALLET = "wal_btc_cold"
DEST = "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4"  # BIP-173 test vector
AMOUNTS = [100_000, 120_000, 90_000]
ORIGIN = "48h/0h/0h/2h"
MAIN = NETWORKS["main"]


def master(seed_byte: int) -> bip32.HDKey:
    return bip32.HDKey.from_seed(bytes([seed_byte]) * 32, version=MAIN["xprv"])


def xprv(seed_byte: int) -> str:
    """What a cosigner's key file holds."""
    return str(master(seed_byte).to_base58(version=MAIN["xprv"]))


def descriptor(seeds: tuple[int, ...] = (1, 2, 3)) -> str:
    keys = []
    for seed in seeds:
        root = master(seed)
        xpub = root.derive("m/" + ORIGIN).to_public().to_base58(version=MAIN["xpub"])
        keys.append(f"[{root.my_fingerprint.hex()}/{ORIGIN}]{xpub}/0/*")
    return f"wsh(sortedmulti(2,{','.join(keys)}))"


def adapter(seeds: tuple[int, ...] = (1, 2, 3)) -> BitcoinAdapter:
    return BitcoinAdapter("mainnet", descriptor=descriptor(seeds))


def funding(btc: BitcoinAdapter, amounts: list[int], salt: int = 0) -> list[Utxo]:
    assert btc.wallet is not None
    utxos = []
    for i, amount in enumerate(amounts):
        prev = Transaction(
            vin=[TransactionInput(bytes([salt, i]) + bytes(30), 0)],
            vout=[TransactionOutput(amount, Script(btc.wallet.script_pubkey(0, i)))],
        )
        utxos.append(Utxo(bytes(prev.serialize()), 0))
    return utxos


@dataclass
class BtcExchange:
    ex: Exchange
    withdrawals: WithdrawalService
    approvals: ApprovalService
    prevouts: dict[str, tuple[int, bytes]]  # imported txid -> (amount, output script)


def add_btc_wallet(ex: Exchange) -> BtcExchange:
    ctx: Context = ex.ctx
    with ctx.db.transaction() as session:
        session.add(AssetRow(chain="bitcoin", symbol="BTC", decimals=8, contract=None))
        session.add(
            cold_multisig_wallet(
                WALLET,
                name="BTC cold",
                network="mainnet",
                descriptor=descriptor(),
                created_at=ctx.clock.now(),
            )
        )
    prevouts = {}
    for utxo in funding(adapter(), AMOUNTS, salt=7):
        done = import_utxo(ctx, wallet_id=WALLET, prev_tx=utxo.prev_tx, vout=0, actor="ops")
        script = Transaction.parse(utxo.prev_tx).vout[0].script_pubkey.data
        prevouts[done.txid] = (done.amount, script)
    proposal = propose_entry(
        ctx,
        DEST,
        chain="bitcoin",
        label="customer 2002 (verified)",
        owner_kind=OwnerKind.CUSTOMER_VERIFIED,
        tiers=[Tier.COLD],
    )
    approve_entry(ctx, proposal, with_key=True)
    assert isinstance(ctx.clock, FixedClock)
    # Past the cold cooling-off, at 10:00 Tokyo on a weekday (the sample policy's hours).
    when = (ctx.clock.now() + timedelta(days=4)).replace(hour=1, minute=0)
    while when.weekday() >= 5:
        when += timedelta(days=1)
    ctx.clock.set(when)
    load_lists(ex.services.screening)  # fresh lists at the new time
    stack = ex.services.withdrawal_stack()  # Ethereum on the devnet, Bitcoin offline
    return BtcExchange(ex, stack.withdrawals, stack.approvals, prevouts)


def approved(btc: BtcExchange, amount: str = "0.0025", key: str = "k-btc") -> WithdrawalView:
    ex = btc.ex
    wd = btc.withdrawals.request(
        WithdrawalRequest(asset="BTC", amount=amount, destination=DEST, source_wallet=WALLET),
        requester=ex.user("alice"),
        idempotency_key=key,
        channel="api",
    )
    assert wd.digest is not None and wd.state.value == "pending_approval", wd.reason
    for name in ("bob", "carol"):
        wd = btc.approvals.approve(
            wd.id, approver=ex.user(name), assertion=ex.assert_digest(name, wd.digest)
        )
    return wd


def spent_outputs(btc: BtcExchange, raw_tx: bytes) -> list[tuple[int, bytes]]:
    """(amount, script) of each output the transaction spends, in input order."""
    tx = Transaction.parse(raw_tx)
    return [btc.prevouts[vin.txid.hex()] for vin in tx.vin]
