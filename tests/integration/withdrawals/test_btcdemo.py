"""The demo's Bitcoin act on regtest, end to end on both databases: a regtest wallet with
tpub keys, a bcrt1 destination in the address book, a regtest PSBT co-signed offline by
two key holders and finalised into a transaction that pays the bcrt1 address; the
withdrawal then moves signed -> broadcast -> confirmed like an Ethereum one."""

from __future__ import annotations

from datetime import timedelta

import pytest
from embit.transaction import Transaction
from sqlalchemy import select

from kinko.audit.note import generate_signer
from kinko.chains.bitcoin import BitcoinAdapter
from kinko.chains.bitcoin.address import address_of
from kinko.chains.bitcoin.networks import network
from kinko.context import Context
from kinko.core.clock import FixedClock
from kinko.core.errors import InputError
from kinko.core.secretfile import write_secret_file
from kinko.demo import bitcoin as btcdemo
from kinko.demo.exchange import build_demo_exchange
from kinko.store.tables.audit import AuditEntryRow
from kinko.store.tables.custody import WalletRow
from kinko.store.tables.withdrawals import WithdrawalRow
from kinko.withdrawals.export import export_bundle
from kinko.withdrawals.stack import log_vkey_of
from kinko.withdrawals.wiring import IdentityDirectory
from tests.support.identity import ensure_secret_key
from tests.support.services import services_of

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")
STATES = [
    "withdrawal.approved",
    "withdrawal.signed",
    "withdrawal.broadcast",
    "withdrawal.confirmed",
]
REGTEST = network("regtest")


def test_btc_act_runs_on_regtest_end_to_end(ctx: Context, clock: FixedClock) -> None:
    ensure_secret_key(ctx)
    write_secret_file(
        ctx.settings.resolved_audit_key_path,
        generate_signer(ctx.settings.audit_origin)[0].encode(),
    )
    ex = build_demo_exchange(ctx)
    btcdemo.prepare(ex)  # wallet, key files and the bcrt1 entry (one-second cooling-off)
    clock.advance(timedelta(seconds=2))
    lines: list[str] = []
    walk = btcdemo.walk_bitcoin(ex, log_vkey_of(ctx), "demo_test", lines.append)

    with ctx.db.transaction() as session:
        wallet = session.get(WalletRow, btcdemo.WALLET)
        assert wallet is not None
        assert (wallet.network, wallet.tier, wallet.quorum_m, wallet.quorum_n) == (
            "regtest",
            "cold",
            2,
            3,
        )
        assert wallet.descriptor is not None
        assert wallet.descriptor.count("]tpub") == 3 and "xpub" not in wallet.descriptor
        bundle = export_bundle(
            ctx, session, IdentityDirectory(services_of(ctx).identity), walk.withdrawal_id
        )
        entries = btcdemo.demo_policy_service(ex).addresses.entries(session)
    assert [e.address for e in entries if e.chain == "bitcoin"] == [btcdemo.BTC_CUSTOMER]
    assert btcdemo.BTC_CUSTOMER.startswith("bcrt1")
    for n in (1, 2, 3):
        key = ctx.settings.data_dir / btcdemo.KEY_DIR / f"holder{n}.key"
        assert key.read_text().startswith("tprv")

    # The PSBT is a regtest one: it decodes with the regtest descriptor, the mainnet
    # adapter refuses the wallet's keys.
    assert (bundle.chain, bundle.network, bundle.descriptor) == (
        "bitcoin",
        "regtest",
        wallet.descriptor,
    )
    intent = BitcoinAdapter("regtest", descriptor=bundle.descriptor).decode(bundle.unsigned_tx)
    assert (intent.network, intent.destination, intent.amount) == (
        "regtest",
        btcdemo.BTC_CUSTOMER,
        200_000,
    )
    with pytest.raises(InputError) as err:
        BitcoinAdapter("mainnet", descriptor=bundle.descriptor)
    assert err.value.code == "wrong_network"

    # The finalised transaction pays the bcrt1 customer and change to the wallet, and
    # every input carries two signatures and the 2-of-3 witness script.
    tx = Transaction.parse(walk.final_tx)
    paid = {address_of(out.script_pubkey.data, REGTEST): out.value for out in tx.vout}
    assert paid.pop(btcdemo.BTC_CUSTOMER) == 200_000
    assert len(paid) == 1 and next(iter(paid)).startswith("bcrt1q")  # the change
    assert all(len(vin.witness.items) == 4 for vin in tx.vin)  # "", sig, sig, script
    assert tx.txid().hex() == intent.details["txid"]

    # It did not stay approved: signed with the finalised transaction, broadcast and
    # confirmed under its txid, each move audited.
    with ctx.db.transaction() as session:
        row = session.get(WithdrawalRow, walk.withdrawal_id)
        assert row is not None
        assert (row.state, row.signed_tx, row.txid) == ("confirmed", walk.final_tx, tx.txid().hex())
        moves = (
            session.execute(
                select(AuditEntryRow.action).where(AuditEntryRow.subject == walk.withdrawal_id)
            )
            .scalars()
            .all()
        )
    assert [m for m in moves if m in STATES] == STATES

    text = "\n".join(lines)
    assert "→ signed" in text and "→ broadcast" in text and "→ [green]confirmed" in text
    assert "P2WSH 2-of-3 on regtest" in text
    assert "regtest PSBT built from the imported UTXOs" in text
    assert f"sat to {btcdemo.BTC_CUSTOMER} on regtest" in text
    assert text.count("adds a partial signature (tprv key file") == 2
    assert "2-of-3 reached: finalised regtest transaction" in text
    assert "mainnet" not in text
