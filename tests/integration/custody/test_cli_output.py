"""`kinko wallet|custody` listings: --json shapes, names and full ids at 80 columns."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from kinko.context import Context
from kinko.custody import keys
from tests.integration.custody.exchange import BTC, fund, proposal_in, set_up
from tests.integration.custody.test_keys import _same_k_signatures
from tests.support.cli import json_out, kinko, narrow_cli
from tests.support.cli_api import as_person, route_cli_to_api
from tests.support.identity import ensure_secret_key, make_user
from tests.support.votes import key_args


@pytest.fixture
def cli(ctx: Context, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> CliRunner:
    route_cli_to_api(ctx, monkeypatch, tmp_path / "config")
    return narrow_cli(ctx, monkeypatch)


def test_wallet_and_key_listings(ctx: Context, cli: CliRunner, tmp_path: Path) -> None:
    ids = set_up(ctx)
    ensure_secret_key(ctx)
    alice, _ = make_user(ctx, "alice", with_authenticator=False)
    make_user(ctx, "ops", ["operator"], with_authenticator=False)  # custody:write
    make_user(ctx, "ops2", ["operator"])  # the second pair of eyes
    fund(ctx, ids, btc_hot=5 * 10**8, btc_cold=1, eth_hot=0, eth_cold=0, eth_guarantee=0)

    result = kinko(cli, "wallet", "list", "--json")
    assert result.exit_code == 0, result.output
    listed = {w["name"]: w for w in json_out(result)}
    assert listed["btc-hot"]["id"] == ids.btc_hot
    assert listed["btc-hot"]["network"] == "regtest" and listed["btc-hot"]["assets"] == [BTC]
    assert listed["eth-hot"]["quorum"] == "1-of-1" and listed["eth-hot"]["tier"] == "hot"
    result = kinko(cli, "wallet", "list")
    assert result.exit_code == 0, result.output
    for wallet in listed.values():
        assert wallet["id"] in result.stdout
        assert wallet["address"] is None or wallet["address"] in result.stdout

    ceremony = tmp_path / "ceremony.json"
    record = {"performed_at": "2026-11-01", "witnesses": ["a", "b"], "procedure": "KGC-7"}
    ceremony.write_text(json.dumps(record))
    result = kinko(
        cli, "custody", "keys", "add", "--wallet", ids.btc_cold, "--holder", alice,
        "--device", "hsm-1", "--site", "tokyo", "--entity", "Kinko KK",
        "--public-key", "pk1", "--ceremony", str(ceremony), env=as_person(ctx, "ops"),
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    pid = proposal_in(" ".join(result.output.split()))
    approve = ("role", "approve", pid, *key_args(ctx, "proposal", pid, as_="ops2"))
    result = kinko(cli, *approve, env=as_person(ctx, "ops2"))  # a second operator
    assert result.exit_code == 0, result.output
    result = kinko(cli, "custody", "keys", "list", "--json")
    assert result.exit_code == 0, result.output
    [share] = json_out(result)
    assert share["id"].startswith("key_") and share["wallet_id"] == ids.btc_cold
    assert (share["holder"], share["holder_username"]) == (alice, "alice")
    assert share["status"] == "active"
    result = kinko(cli, "custody", "keys", "list")
    assert result.exit_code == 0, result.output
    assert share["id"] in result.stdout  # for 'keys revoke'
    assert "alice" in result.stdout and alice not in result.stdout
    assert "btc-cold" in result.stdout

    result = kinko(cli, "custody", "rebalance")
    assert result.exit_code == 0, result.output
    assert "btc-hot" in result.stdout and ids.btc_hot not in result.stdout

    result = kinko(cli, "custody", "liabilities", "show", "--json")
    assert result.exit_code == 0 and json_out(result) == {}


def test_nonce_check_json(ctx: Context, cli: CliRunner) -> None:
    result = kinko(cli, "custody", "nonce-check", "--json")
    assert result.exit_code == 0, result.output
    assert json_out(result) == {
        "ok": True,
        "scanned": 0,
        "findings": [],
        "frozen": [],
        "imported": None,
    }

    leaked = _same_k_signatures(0xC0FFEE, 0x1234567, [b"withdrawal 1", b"withdrawal 2"])
    with ctx.db.transaction() as s:
        keys.record_signatures(ctx, s, "bitcoin", "tx-a", leaked[:1])
        keys.record_signatures(ctx, s, "bitcoin", "tx-b", leaked[1:])
    result = kinko(cli, "custody", "nonce-check", "--json")
    assert result.exit_code == 1  # a finding fails the check, with or without --json
    report = json_out(result)
    assert report["ok"] is False and report["scanned"] == 2
    [finding] = report["findings"]
    assert finding["kind"] == "repeated_r_same_key"
    assert finding["transactions"] == ["bitcoin:tx-a", "bitcoin:tx-b"]
    assert finding["r"] == f"{leaked[0].r:064x}"
    assert report["frozen"] == ["chain:bitcoin"]  # no wallet known for the key: fail closed


def test_status_json_error(cli: CliRunner) -> None:
    result = kinko(cli, "custody", "status", "--regime", "us", "--json")
    assert result.exit_code == 2
    error = json_out(result)
    assert error == {
        "ok": False,
        "error": "invalid_input",
        "field": "regime",
        "message": "regime: use jp or kr",
    }
