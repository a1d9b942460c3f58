"""A cold Bitcoin 2-of-3 withdrawal after `kinko cosign`: its co-signed PSBT comes back
(signed), the operator broadcasts it (broadcast) and sees it in a block (confirmed), like an
Ethereum withdrawal; real PSBTs signed by the cosigners' keys, on both databases."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from embit.transaction import Transaction
from sqlalchemy import select
from typer.testing import CliRunner

from kinko.cli.main import app
from kinko.core.errors import Conflict, InputError, IntegrityError
from kinko.signer.offline import read_key_file
from kinko.store.tables.custody import SignatureLogRow
from kinko.withdrawals.export import export_bundle
from kinko.withdrawals.offline import OfflineSettlement
from kinko.withdrawals.wiring import IdentityDirectory, WalletFreezes
from tests.integration.signer.test_bitcoin_cosign import cosign_with, key_file, verify_scripts
from tests.integration.withdrawals.btc_exchange import BtcExchange, add_btc_wallet, approved
from tests.integration.withdrawals.exchange import Exchange
from tests.support.cli_api import as_person, route_cli_to_api
from tests.support.services import services_of

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")
runner = CliRunner()


@pytest.fixture
def btc(exchange: Exchange, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> BtcExchange:
    """The exchange with a cold Bitcoin wallet; the CLI's requests go to its API."""
    route_cli_to_api(exchange.ctx, monkeypatch, tmp_path / "config")
    return add_btc_wallet(exchange)


def cosigned(
    btc: BtcExchange, tmp_path: Path, key: str = "k-btc", amount: str = "0.0025"
) -> tuple[str, bytes, bytes]:
    """(withdrawal id, PSBT signed by holders 1 and 3, PSBT signed by holder 1 only)."""
    wd = approved(btc, amount=amount, key=key)
    ctx = btc.ex.ctx
    with ctx.db.transaction() as session:
        bundle = export_bundle(ctx, session, IdentityDirectory(services_of(ctx).identity), wd.id)
    first = cosign_with(btc, bundle, read_key_file(key_file(tmp_path, 1)), None)
    second = cosign_with(btc, bundle, read_key_file(key_file(tmp_path, 3)), first.signed_tx)
    assert second.final_tx is not None
    return wd.id, second.signed_tx, first.signed_tx


def settlement(btc: BtcExchange) -> OfflineSettlement:
    return OfflineSettlement(btc.ex.ctx, btc.withdrawals.ports)


def kinko(btc: BtcExchange, *args: str) -> tuple[int, str]:
    """`kinko ARGS` run by bob (an approver) with his own session."""
    ctx = btc.ex.ctx
    env = {
        "KINKO_DATA_DIR": str(ctx.settings.data_dir),
        "KINKO_DATABASE_URL": ctx.settings.resolved_database_url,
        "KINKO_CONFIG": "",
        "COLUMNS": "400",
        **as_person(ctx, "bob"),
    }
    result = runner.invoke(app, list(args), env=env)
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    if "--json" in args:
        return result.exit_code, result.stdout
    return result.exit_code, " ".join(result.output.split())


def test_cosigned_bitcoin_withdrawal_goes_signed_broadcast_confirmed(
    btc: BtcExchange, tmp_path: Path
) -> None:
    wd_id, signed, _ = cosigned(btc, tmp_path)
    path = tmp_path / "signed.hex"
    path.write_text(signed.hex() + "\n", encoding="ascii")

    code, out = kinko(btc, "withdraw", "submit", wd_id, "--signed", str(path), "--json")
    assert code == 0, out
    shown = json.loads(out)
    assert shown["state"] == "signed"
    with btc.ex.ctx.db.transaction() as session:
        stored = (
            session.execute(
                select(SignatureLogRow).where(SignatureLogRow.txid == f"withdrawal:{wd_id}")
            )
            .scalars()
            .all()
        )
    assert btc.withdrawals.get(wd_id).state.value == "signed"
    inputs = len(Transaction.parse(_signed_tx(btc, wd_id)).vin)
    assert len(stored) == 2 * inputs  # both cosigners' signatures, for the nonce self-test
    verify_scripts(btc, _signed_tx(btc, wd_id))  # what is stored is the spendable tx

    # Kinko has no Bitcoin node: execute says how to go on instead of sending.
    code, out = kinko(btc, "withdraw", "execute", wd_id)
    assert code == 1 and "kinko withdraw sent" in out
    code, out = kinko(btc, "withdraw", "sent", wd_id, "--json")
    assert code == 0, out
    txid = Transaction.parse(_signed_tx(btc, wd_id)).txid().hex()
    assert (json.loads(out)["state"], json.loads(out)["txid"]) == ("broadcast", txid)

    code, out = kinko(btc, "withdraw", "confirm", wd_id, "--txid", "ab" * 32)
    assert code == 2 and f"was broadcast as {txid}" in out
    code, out = kinko(btc, "withdraw", "confirm", wd_id, "--txid", txid.upper())
    assert code == 0 and "confirmed" in out, out
    # Recording the same PSBT again changes nothing.
    code, out = kinko(btc, "withdraw", "submit", wd_id, "--signed", str(path))
    assert code == 0 and btc.withdrawals.get(wd_id).state.value == "confirmed"


def _signed_tx(btc: BtcExchange, wd_id: str) -> bytes:
    from kinko.store.tables.withdrawals import WithdrawalRow

    with btc.ex.ctx.db.transaction() as session:
        row = session.get(WithdrawalRow, wd_id)
        assert row is not None and row.signed_tx is not None
        return bytes(row.signed_tx)


def test_what_is_not_the_approved_transaction_fully_signed_is_refused(
    btc: BtcExchange, tmp_path: Path
) -> None:
    wd_id, signed, half = cosigned(btc, tmp_path, amount="0.0011")  # one 120,000 sat input
    other_id, other_signed, _ = cosigned(btc, tmp_path, key="k-btc-2", amount="0.0009")
    settle = settlement(btc)
    with pytest.raises(InputError, match="signed by 1/2 required cosigners"):
        settle.record_signed(wd_id, half, actor="user:ops")
    with pytest.raises(IntegrityError, match="something else than the approved transaction"):
        settle.record_signed(wd_id, other_signed, actor="user:ops")
    with pytest.raises(InputError, match="not a PSBT"):
        settle.record_signed(wd_id, b"\x02\x00", actor="user:ops")
    with pytest.raises(Conflict, match="record its co-signed transaction first"):
        settle.record_sent(wd_id, actor="user:ops")
    assert btc.withdrawals.get(wd_id).state.value == "approved"
    # A frozen wallet's transaction is not taken toward sending.
    ctx = btc.ex.ctx
    with ctx.db.transaction() as session:
        WalletFreezes(services_of(ctx).freezes).freeze_wallet(
            session, "wal_btc_cold", reason="drill", actor=f"user:{btc.ex.user('alice')}"
        )
    with pytest.raises(Conflict, match="is frozen") as refused:
        settle.record_signed(other_id, other_signed, actor="user:ops")
    assert refused.value.code == "wallet_frozen"
    assert btc.withdrawals.get(other_id).state.value == "approved"
    assert signed != half
