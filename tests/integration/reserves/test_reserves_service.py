"""Snapshots on both databases: built against custody, logged, proven, verified; CLI."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import update
from typer.testing import CliRunner

from kinko.context import Context
from kinko.core.errors import InputError, IntegrityError, NotFound
from kinko.custody import holdings
from kinko.reserves.verify import verify_document
from kinko.services import Services
from kinko.store.tables.reserves import ReserveHoldingRow
from tests.integration.custody.exchange import ACTOR, BTC, DAY, ETH, fund, set_up
from tests.support.cli import json_out, kinko, narrow_cli

LEDGER = [
    ("alice", BTC, 150_000_000),
    ("alice", ETH, 2 * 10**18),
    ("bob", BTC, 150_000_000),
    ("carol", BTC, 7),
]
OWED = {BTC: 300_000_007, ETH: 2 * 10**18}


def _custody(ctx: Context, *, eth_cold: int = 3 * 10**18) -> None:
    ids = set_up(ctx)
    fund(ctx, ids, btc_hot=10**8, btc_cold=4 * 10**8, eth_hot=0, eth_cold=eth_cold, eth_guarantee=0)
    with ctx.db.transaction() as s:
        holdings.set_liabilities(ctx, s, OWED, source="ledger", actor=ACTOR)
        holdings.take_snapshot(ctx, s, DAY, actor=ACTOR)


def test_a_snapshot_is_logged_and_every_customer_can_verify_it(
    ctx: Context, vkey: str, services: Services
) -> None:
    _custody(ctx)
    service = services.reserves
    built = service.build(LEDGER, day=DAY, actor=ACTOR)
    assert built.passed
    assert [(c.asset, c.liabilities, c.reserves) for c in built.coverage] == [
        (BTC, 300_000_007, 5 * 10**8),
        (ETH, 2 * 10**18, 3 * 10**18),
    ]
    for account in ("alice", "bob", "carol"):
        result = verify_document(json.loads(service.prove(account)), vkey)
        assert result.snapshot == built.id
    alice = verify_document(json.loads(service.prove("alice", built.id)), vkey)
    assert alice.values == ((BTC, 150_000_000, 300_000_007), (ETH, 2 * 10**18, 2 * 10**18))
    with pytest.raises(NotFound, match="holds nothing"):
        service.prove("mallory")


def test_a_shortfall_in_one_asset_fails_whatever_the_others_hold(
    ctx: Context, vkey: str, services: Services
) -> None:
    """Never netted: a large BTC surplus does not cover an ETH shortfall of one wei."""
    _custody(ctx, eth_cold=2 * 10**18 - 1)
    built = services.reserves.build(LEDGER, day=DAY, actor=ACTOR)
    assert not built.passed
    assert [(c.asset, c.passed) for c in built.coverage] == [(BTC, True), (ETH, False)]
    _, coverage = services.reserves.coverage(built.id)
    assert [c.margin for c in coverage] == [5 * 10**8 - 300_000_007, -1]


def test_a_ledger_that_differs_from_custodys_liabilities_is_refused(
    ctx: Context, services: Services
) -> None:
    _custody(ctx)
    short = [r for r in LEDGER if r[0] != "carol"]
    with pytest.raises(InputError, match="add up to 300000000 base units") as caught:
        services.reserves.build(short, day=DAY, actor=ACTOR)
    assert caught.value.field == "ledger"
    with pytest.raises(NotFound, match="no snapshot yet"):
        services.reserves.prove("alice")


def test_holdings_changed_after_the_build_make_no_proof(
    ctx: Context, vkey: str, services: Services
) -> None:
    _custody(ctx)
    built = services.reserves.build(LEDGER, day=DAY, actor=ACTOR)
    with ctx.db.transaction() as s:
        s.execute(
            update(ReserveHoldingRow)
            .where(ReserveHoldingRow.account == "carol")
            .values(base_units=6)
        )
    with pytest.raises(IntegrityError, match="no longer make the recorded root"):
        services.reserves.prove("alice", built.id)


def _ledger_file(tmp_path: Path) -> Path:
    ledger = tmp_path / "ledger.csv"
    rows = "".join(f"{a},{s},{u}\n" for a, s, u in LEDGER)
    ledger.write_text("account,asset,base_units\n" + rows)
    return ledger


def _kinko(runner: CliRunner, *args: str) -> tuple[int, str]:
    result = kinko(runner, *args)
    assert "Traceback" not in result.output
    return result.exit_code, result.output


def test_the_command_line_builds_proves_and_verifies(
    ctx: Context, vkey: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _custody(ctx)
    cli = narrow_cli(ctx, monkeypatch)
    ledger = _ledger_file(tmp_path)
    code, out = _kinko(
        cli, "reserves", "build", "--ledger", str(ledger), "--day", DAY.isoformat(), "--json"
    )
    assert code == 0, out
    report = json.loads(out)
    assert report["ok"] is True
    assert report["assets"][0] == {
        "asset": BTC,
        "liabilities": "300000007",
        "reserves": "500000000",
        "passed": True,
    }
    proof = tmp_path / "alice.json"
    code, out = _kinko(cli, "reserves", "prove", "alice", "--out", str(proof))
    assert code == 0, out
    key = tmp_path / "log.vkey"
    key.write_text(vkey + "\n")
    code, out = _kinko(cli, "reserves", "verify", str(proof), "--vkey", str(key), "--json")
    assert code == 0, out
    assert json.loads(out)["assets"][0] == {
        "asset": BTC,
        "value": "150000000",
        "total": "300000007",
    }
    doc = json.loads(proof.read_text())
    doc["leaves"][0]["path"][0]["sum"] = "-1"
    proof.write_text(json.dumps(doc))
    code, out = _kinko(cli, "reserves", "verify", str(proof), "--vkey", str(key))
    assert code == 1
    assert "negative" in out


def test_the_command_line_names_the_bad_field(
    ctx: Context, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _custody(ctx)
    cli = narrow_cli(ctx, monkeypatch)
    ledger = tmp_path / "ledger.csv"
    ledger.write_text("account,asset,base_units\nalice,bitcoin:BTC,1.5\n")
    code, out = _kinko(cli, "reserves", "build", "--ledger", str(ledger), "--day", DAY.isoformat())
    assert code == 2
    assert "ledger line 2: base_units" in out
    code, out = _kinko(cli, "reserves", "build", "--ledger", str(ledger), "--day", "07/12/2026")
    assert code == 2
    assert "day" in out


def test_the_command_line_fails_a_shortfall_and_status_repeats_it(
    ctx: Context, vkey: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _custody(ctx, eth_cold=2 * 10**18 - 1)
    cli = narrow_cli(ctx, monkeypatch)
    ledger = _ledger_file(tmp_path)
    code, out = _kinko(cli, "reserves", "build", "--ledger", str(ledger), "--day", DAY.isoformat())
    assert code == 1
    assert "fall short of liabilities in ethereum:ETH" in out
    result = kinko(cli, "reserves", "status", "--json")
    assert result.exit_code == 1
    report = json_out(result)
    assert report["ok"] is False
    assert {a["asset"]: a["passed"] for a in report["assets"]} == {BTC: True, ETH: False}
    code, out = _kinko(cli, "reserves", "status", "--snapshot", "no-such")
    assert code == 2
    assert "no snapshot 'no-such'" in out
