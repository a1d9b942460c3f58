"""A cold Bitcoin 2-of-3 withdrawal: imported UTXOs -> PSBT built with the wallet's
descriptor and decoded back -> approvals over the digest -> bundle with the descriptor."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from kinko.chains.bitcoin import BitcoinAdapter
from kinko.core.errors import InputError
from kinko.store.tables.utxos import UtxoRow
from kinko.withdrawals.bitcoin import FEE_CAP, import_utxo
from kinko.withdrawals.export import export_bundle
from kinko.withdrawals.states import State
from kinko.withdrawals.wiring import IdentityDirectory
from tests.integration.withdrawals.btc_exchange import (
    DEST,
    WALLET,
    adapter,
    add_btc_wallet,
    approved,
    descriptor,
    funding,
)
from tests.integration.withdrawals.exchange import Exchange
from tests.integration.withdrawals.test_cli import kinko
from tests.support.cli_api import route_cli_to_api
from tests.support.identity import make_user
from tests.support.services import services_of


def test_cold_btc_withdrawal_builds_decodes_and_bundles(exchange: Exchange) -> None:
    btc = add_btc_wallet(exchange)
    wd = approved(btc)
    assert wd.state is State.APPROVED, wd
    assert wd.intent is not None and wd.intent["destination"] == DEST
    assert wd.intent["amount"] == "250000"
    change = [o for o in wd.intent["outputs"] if o["is_change"]]
    assert len(change) == 1
    assert 0 < int(wd.intent["fee"]) <= FEE_CAP
    with exchange.ctx.db.transaction() as session:
        bundle = export_bundle(
            exchange.ctx, session, IdentityDirectory(services_of(exchange.ctx).identity), wd.id
        )
        reserved = session.execute(
            select(UtxoRow).where(UtxoRow.reserved_for_txid.is_not(None))
        ).scalars()
        assert len(list(reserved)) >= 1
    assert bundle.descriptor == descriptor()
    assert len(bundle.approvals) == 2
    decoded = BitcoinAdapter("mainnet", descriptor=bundle.descriptor).decode(bundle.unsigned_tx)
    assert decoded.to_json() == dict(bundle.intent)
    assert bundle.to_json()["withdrawal"]["descriptor"] == descriptor()


def test_reserved_utxos_are_not_spent_twice(exchange: Exchange) -> None:
    btc = add_btc_wallet(exchange)
    approved(btc, amount="0.0028", key="k1")  # needs all three imported outputs
    with pytest.raises(InputError) as err:
        approved(btc, amount="0.0001", key="k2")
    assert err.value.field == "amount" and "imported UTXOs" in err.value.message
    first = btc.withdrawals.list(state="approved")[0]
    btc.withdrawals.cancel(first.id, actor="ops", reason="customer withdrew the request")
    again = approved(btc, amount="0.0001", key="k3")  # the cancelled one's outputs are free
    assert again.state is State.APPROVED


def test_a_psbt_swapped_in_the_database_does_not_free_the_outputs_it_reserved(
    exchange: Exchange,
) -> None:
    """The PSBT waiting for signatures is swapped (DMM Bitcoin): its txid changes, but the
    outputs the withdrawal reserved when it was built stay reserved, so no later withdrawal
    is built from them (a double spend)."""
    from embit.psbt import PSBT

    from kinko.store.tables.withdrawals import WithdrawalRow

    btc = add_btc_wallet(exchange)
    first = approved(btc, amount="0.0028", key="k1")  # needs all three imported outputs
    with exchange.ctx.db.transaction() as session:
        row = session.get(WithdrawalRow, first.id)
        assert row is not None and row.unsigned_tx is not None
        swapped = PSBT.parse(bytes(row.unsigned_tx))
        swapped.outputs[0].value -= 1  # another transaction, another txid
        row.unsigned_tx = swapped.serialize()
    with pytest.raises(InputError) as err:
        approved(btc, amount="0.0001", key="k2")

    assert err.value.field == "amount" and "imported UTXOs" in err.value.message


@pytest.mark.parametrize("rewrite", ["psbt", "psbt, digest and intent"])
def test_a_rewritten_record_is_not_exported_for_offline_signing(
    exchange: Exchange, rewrite: str
) -> None:
    """The approved withdrawal's record is rewritten before its bundle is exported for the
    offline cosigners: the PSBT alone (its digest no longer matches), or the PSBT with
    its digest and intent (consistent, but not what the audit log recorded at the
    policy's decision). Kinko refuses to export it, audits the refusal and freezes the
    wallet — the offline signer would refuse too, but leaves no trace in Kinko."""
    from embit.psbt import PSBT

    from kinko.core.errors import IntegrityError
    from kinko.store.tables.audit import AuditEntryRow
    from kinko.store.tables.withdrawals import WithdrawalRow
    from kinko.withdrawals.export import checked_export

    btc = add_btc_wallet(exchange)
    first = approved(btc, amount="0.0028", key="k1")
    good = checked_export(exchange.ctx, btc.withdrawals.ports, first.id, actor="user:ops")
    assert good.digest.hex() == first.digest
    wallet_adapter = adapter()
    with exchange.ctx.db.transaction() as session:
        row = session.get(WithdrawalRow, first.id)
        assert row is not None and row.unsigned_tx is not None
        swapped = PSBT.parse(bytes(row.unsigned_tx))
        swapped.outputs[0].value -= 1000  # a little more to the fee, as a thief's start
        row.unsigned_tx = swapped.serialize()
        if rewrite != "psbt":
            row.digest = wallet_adapter.signing_digest(row.unsigned_tx).hex()
            row.intent = wallet_adapter.decode(row.unsigned_tx).to_json()
    with pytest.raises(IntegrityError) as refused:
        checked_export(exchange.ctx, btc.withdrawals.ports, first.id, actor="user:ops")
    expected = "transaction_altered" if rewrite == "psbt" else "digest_mismatch"
    assert refused.value.code == expected, refused.value.message
    with exchange.ctx.db.transaction() as session:
        actions = session.scalars(
            select(AuditEntryRow.action).where(AuditEntryRow.subject == first.id)
        ).all()
    assert "withdrawal.bundle_refused" in actions
    with exchange.ctx.db.transaction() as session:
        reason = btc.withdrawals.ports.freezes.frozen_reason_for_wallet(session, WALLET)
    assert reason is not None and first.id in reason


def test_utxo_import_refuses_foreign_outputs_and_duplicates(exchange: Exchange) -> None:
    btc = add_btc_wallet(exchange)
    foreign = funding(adapter((4, 5, 6)), [10_000], salt=9)[0]
    with pytest.raises(InputError, match="does not pay to wallet"):
        import_utxo(btc.ex.ctx, wallet_id=WALLET, prev_tx=foreign.prev_tx, vout=0, actor="ops")
    again = funding(adapter(), [100_000], salt=7)[0]
    with pytest.raises(InputError, match="already imported"):
        import_utxo(btc.ex.ctx, wallet_id=WALLET, prev_tx=again.prev_tx, vout=0, actor="ops")
    with pytest.raises(InputError) as err:
        import_utxo(btc.ex.ctx, wallet_id=WALLET, prev_tx=again.prev_tx, vout=3, actor="ops")
    assert err.value.field == "vout"


def test_utxo_import_cli(
    exchange: Exchange, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An operator (custody:write) records the output through the API; a requester may not."""
    add_btc_wallet(exchange)
    make_user(exchange.ctx, "ops", ["operator"], with_authenticator=False)
    route_cli_to_api(exchange.ctx, monkeypatch, tmp_path / "config")
    path = tmp_path / "funding.hex"
    path.write_text(funding(adapter(), [55_000], salt=11)[0].prev_tx.hex() + "\n")
    args = ("withdraw", "utxo-import", "--wallet", WALLET, "--tx", str(path), "--vout", "0")
    code, out = kinko(exchange, *args, as_="alice")
    assert code == 1 and "custody:write" in out
    code, out = kinko(exchange, *args, as_="ops")
    assert code == 0 and "(55000 sat) for wal_btc_cold" in out, out
    code, out = kinko(exchange, *args, as_="ops")
    assert code == 2 and "already imported" in out and "Traceback" not in out
    path.write_text("not hex")
    code, out = kinko(exchange, *args, as_="ops")
    assert code == 2 and "--tx" in out
