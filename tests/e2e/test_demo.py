"""`kinko demo --no-serve` walks a withdrawal to the chain and shows the signer refusing
an altered bundle; running it again works on the same data directory."""

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
