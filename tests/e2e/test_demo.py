"""`kinko demo --no-serve` walks a withdrawal to the chain, shows the signer refusing an
altered bundle and co-signs a cold Bitcoin 2-of-3 withdrawal offline on regtest; running
it again works on the same data directory."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from kinko.cli.main import app

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def test_demo_walks_and_refuses_and_is_rerunnable(tmp_path: Path) -> None:
    runner = CliRunner()
    env = {"COLUMNS": "400", "KINKO_LOG_JSON": "false"}
    for run in ("first", "second"):
        result = runner.invoke(
            app, ["--data-dir", str(tmp_path / "data"), "demo", "--no-serve"], env=env
        )
        assert result.exit_code == 0, f"{run}: {result.output}"
        out = " ".join(result.output.split())  # Rich wraps to the terminal width
        assert ("created users" if run == "first" else "reusing users") in out
        assert "bob approves with a WebAuthn assertion over the digest → pending_approval" in out
        assert "carol approves with a WebAuthn assertion over the digest → approved" in out
        assert "signed and broadcast: txid 0x" in out
        assert "confirmed" in out
        assert "kinko cosign (offline) REFUSED: the audit log recorded digest" in out
        assert "online signer REFUSED: the audit log recorded digest" in out
        assert "security event signer.refused (severity critical); wallet wal_eth_hot frozen" in out
        assert "lift the freeze" in out
        assert "3. a cold Bitcoin 2-of-3 withdrawal on regtest, co-signed offline" in out
        assert out.count("▶ imported UTXO") == 2
        assert "1 change output to the wallet" in out
        assert "bob approves the BTC withdrawal over its digest → pending_approval" in out
        assert "carol approves the BTC withdrawal over its digest → approved" in out
        assert "bundle exported with the PSBT and the wallet descriptor" in out
        assert "key holder 1 verifies the bundle offline and adds a partial signature" in out
        assert "key holder 2 verifies the bundle offline and adds a partial signature" in out
        assert "wal_btc_regtest: P2WSH 2-of-3 on regtest" in out
        assert "bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080 (regtest) allow-listed" in out
        assert "regtest PSBT built from the imported UTXOs" in out
        assert "2-of-3 reached: finalised regtest transaction" in out
        assert "mainnet" not in out
