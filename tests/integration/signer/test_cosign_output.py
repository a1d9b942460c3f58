"""`kinko cosign --json`: what was verified and the signed transaction; a refused bundle is
a JSON error with exit 1."""

from __future__ import annotations

import json
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


def cosign_json(ex: Exchange, tmp_path: Path, raw: bytes) -> tuple[int, dict[str, object]]:
    (tmp_path / "bundle.json").write_bytes(raw)
    key = tmp_path / "hot.key"
    key.write_text(HOT_KEY.hex())
    key.chmod(0o600)
    (tmp_path / "log.vkey").write_text(ex.vkey)
    args = ["cosign", str(tmp_path / "bundle.json"), "--key", str(key)]
    result = CliRunner().invoke(
        app, [*args, "--vkey", str(tmp_path / "log.vkey"), "--json"], env={"COLUMNS": "80"}
    )
    return result.exit_code, json.loads(result.stdout)


def test_cosign_json(exchange: Exchange, tmp_path: Path) -> None:
    # The CLI checks expiry against the real clock: run this withdrawal on it too.
    assert isinstance(exchange.ctx.clock, FixedClock)
    exchange.ctx.clock.set(datetime.now(UTC))
    bundle = approved_bundle(exchange)
    code, report = cosign_json(exchange, tmp_path, bundle.to_bytes())
    assert code == 0, report
    assert report["ok"] is True and report["freeze_checked"] is False
    assert report["withdrawal_id"] == bundle.withdrawal_id
    assert (report["wallet_id"], report["chain"]) == ("wal_eth_hot", "ethereum")
    assert report["digest"] == bundle.digest.hex()
    intent = report["intent"]
    assert isinstance(intent, dict)
    assert (intent["asset"], intent["amount"]) == ("ETH", str(2 * 10**18))
    assert report["requester"] == exchange.user("alice")
    assert report["approvers"] == [exchange.user("bob"), exchange.user("carol")]
    assert report["required_approvals"] == 2 and report["final_tx"] is None
    signed = bytes.fromhex(str(report["signed_tx"]))
    assert EthereumAdapter("devnet").decode(signed).destination == RECIPIENT

    forged = altered(exchange, bundle, destination=ATTACKER).to_bytes()
    code, error = cosign_json(exchange, tmp_path, forged)
    assert code == 1
    assert error["ok"] is False and "audit log recorded digest" in str(error["message"])
