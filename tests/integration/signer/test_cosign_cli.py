"""`kinko cosign BUNDLE --key KEYFILE --vkey VKEY`: exit 0 and the signed tx, exit 1 with
the reason for an altered bundle, exit 2 for unreadable input."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from kinko.chains.ethereum.adapter import EthereumAdapter
from kinko.cli.main import app
from kinko.core.clock import FixedClock
from tests.integration.signer.test_signer import ATTACKER, altered, approved_bundle
from tests.integration.withdrawals.exchange import HOT_KEY, RECIPIENT, Exchange

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def run_cosign(ex: Exchange, tmp_path: Path, raw: bytes) -> tuple[int, str]:
    (tmp_path / "bundle.json").write_bytes(raw)
    (tmp_path / "hot.key").write_text(HOT_KEY.hex())
    (tmp_path / "hot.key").chmod(0o600)
    (tmp_path / "log.vkey").write_text(ex.vkey)
    result = CliRunner().invoke(
        app,
        [
            "cosign",
            str(tmp_path / "bundle.json"),
            "--key",
            str(tmp_path / "hot.key"),
            "--vkey",
            str(tmp_path / "log.vkey"),
            "--out",
            str(tmp_path / "signed.hex"),
        ],
        env={"COLUMNS": "400"},
    )
    # Rich wraps long lines to the terminal width: compare with whitespace collapsed.
    return result.exit_code, " ".join(result.output.split())


def test_cosign_cli(exchange: Exchange, tmp_path: Path) -> None:
    # The CLI checks expiry against the real clock: run this withdrawal on it too.
    assert isinstance(exchange.ctx.clock, FixedClock)
    exchange.ctx.clock.set(datetime.now(UTC))
    bundle = approved_bundle(exchange)
    code, out = run_cosign(exchange, tmp_path, bundle.to_bytes())
    assert code == 0, out
    assert "approved by 2/2" in out
    signed = bytes.fromhex((tmp_path / "signed.hex").read_text())
    assert EthereumAdapter("devnet").decode(signed).destination == RECIPIENT
    code, out = run_cosign(
        exchange, tmp_path, altered(exchange, bundle, destination=ATTACKER).to_bytes()
    )
    assert code == 1 and "audit log recorded digest" in out
    dup = replace(bundle, approvals=(bundle.approvals[0], bundle.approvals[0]))
    code, out = run_cosign(exchange, tmp_path, dup.to_bytes())
    assert code == 1 and "distinct people" in out
    code, out = run_cosign(exchange, tmp_path, b"{not json")
    assert code == 2 and "bundle" in out


def test_cosign_refuses_a_bundle_whose_approvals_sign_the_bare_digest(
    exchange: Exchange, tmp_path: Path
) -> None:
    """Bundle versions 1 and 2 (approvals over the digest alone, replayable on another
    withdrawal with the same digest) are refused with what to do instead."""
    assert isinstance(exchange.ctx.clock, FixedClock)
    exchange.ctx.clock.set(datetime.now(UTC))
    document = json.loads(approved_bundle(exchange).to_bytes())
    document["version"] = 2
    code, out = run_cosign(exchange, tmp_path, json.dumps(document).encode())
    assert code == 2, out
    assert "bundle.version: version 2 is refused" in out
    assert "Export the bundle again with this Kinko (version 3" in out
    assert not (tmp_path / "signed.hex").exists()
