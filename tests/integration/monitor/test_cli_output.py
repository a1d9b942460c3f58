"""`kinko monitor` output: watch --json per pass, rules test --json, and alert, response and
rule ids whole (people by name) at 80 columns."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import Result
from typer.testing import CliRunner

from kinko.context import Context
from tests.integration.monitor.test_exit_codes import PAYEE, add_hot_wallet, node_answers
from tests.support.cli import assert_iso, json_out, kinko, narrow_cli
from tests.support.cli_api import as_person, route_cli_to_api
from tests.support.identity import ensure_secret_key, make_user
from tests.support.jsonrpc import json_rpc_node
from tests.support.votes import key_args
from tests.unit.monitor.support import ev


@pytest.fixture
def cli(ctx: Context, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> CliRunner:
    monkeypatch.setenv("KINKO_CONFIG", "")
    route_cli_to_api(ctx, monkeypatch, tmp_path / "config")
    return narrow_cli(ctx, monkeypatch)


def _fatigue(tmp_path: Path, actor: str) -> Path:
    """MFA fatigue on `actor`: the default pack alerts and locks the account."""
    events = [ev("auth.mfa", i * 10, actor=actor, outcome="failure") for i in range(5)]
    events.append(ev("auth.mfa", 60, actor=actor, outcome="success"))
    path = tmp_path / "events.jsonl"
    path.write_text("".join(e.model_dump_json() + "\n" for e in events), encoding="utf-8")
    return path


def test_ingest_alerts_and_ack_name_people(ctx: Context, cli: CliRunner, tmp_path: Path) -> None:
    ensure_secret_key(ctx)
    ann, _ = make_user(ctx, "ann", ["requester"], with_authenticator=False)
    make_user(ctx, "root", ["security_admin"], with_authenticator=False)
    events = _fatigue(tmp_path, f"user:{ann}")

    result = kinko(cli, "monitor", "ingest", str(events))
    assert result.exit_code == 0, result.output
    alert_id = json_out(kinko(cli, "monitor", "alerts", "list", "--json"))[0]["id"]
    assert alert_id in result.stdout
    assert "ann" in result.stdout and ann not in result.stdout  # the locked account, by name

    result = kinko(cli, "monitor", "alerts", "ack", alert_id, env=as_person(ctx, "root"))
    assert result.exit_code == 0, result.output
    assert f"{alert_id} acknowledged by root" in " ".join(result.stdout.split())

    result = kinko(
        cli, "monitor", "alerts", "assign", alert_id, "--to", "ann", env=as_person(ctx, "root")
    )
    assert result.exit_code == 2 and "assignee" in result.output  # ann does not triage alerts
    result = kinko(
        cli, "monitor", "alerts", "assign", alert_id, "--to", "root", env=as_person(ctx, "root")
    )
    assert result.exit_code == 0 and f"{alert_id} assigned to root" in result.stdout, result.output

    result = kinko(cli, "monitor", "alerts", "list", "--json")
    assert result.exit_code == 0, result.output
    [alert] = json_out(result)
    assert alert["id"] == alert_id and alert["rule"] == "kinko-mfa-fatigue"
    assert alert["status"] == "acknowledged" and alert["acknowledged_by_username"] == "root"
    assert alert["assigned_to_username"] == "root"
    assert alert["acknowledged_by"].startswith("user:usr_") and alert["level"]
    assert_iso(alert["created_at"])

    result = kinko(cli, "monitor", "alerts", "list")
    assert result.exit_code == 0, result.output
    assert alert_id in result.stdout and "root" in result.stdout and "usr_" not in result.stdout


def test_ingest_json_gives_the_response_id_to_release(
    ctx: Context, cli: CliRunner, tmp_path: Path
) -> None:
    ensure_secret_key(ctx)
    ann, _ = make_user(ctx, "ann", ["requester"], with_authenticator=False)
    result = kinko(cli, "monitor", "ingest", str(_fatigue(tmp_path, f"user:{ann}")), "--json")
    assert result.exit_code == 0, result.output
    [row] = json_out(result)["alerts"]
    assert row["response"] == "lock_account" and row["response_id"]
    assert row["target"] == f"user:{ann}"

    make_user(ctx, "root", ["security_admin"])
    make_user(ctx, "sec2", ["security_admin"])
    release = ["monitor", "responses", "release", row["response_id"], "--reason", "checked"]

    def vote(person: str) -> Result:  # with the person's key, bound to this release
        key = key_args(ctx, "response-release", row["response_id"], as_=person)
        return kinko(cli, *release, *key, env=as_person(ctx, person))

    result = vote("root")
    assert result.exit_code == 0, result.output
    result = vote("root")  # one person, once
    assert result.exit_code != 0 and "root" in " ".join(result.output.split())
    result = vote("sec2")
    assert result.exit_code == 0, result.output
    assert "released by root and sec2" in " ".join(result.stdout.split())


def test_rules_test_and_list(cli: CliRunner, tmp_path: Path) -> None:
    events = _fatigue(tmp_path, "user:someone")
    result = kinko(cli, "monitor", "rules", "test", "kinko-mfa-fatigue", str(events), "--json")
    assert result.exit_code == 0, result.output
    report = json_out(result)
    assert report["ok"] is True and report["rule"] == "kinko-mfa-fatigue"
    assert report["events"] == 6 and len(report["alerts"]) == 1

    quiet = tmp_path / "quiet.jsonl"
    quiet.write_text(ev("auth.login", actor="user:x").model_dump_json() + "\n")
    result = kinko(cli, "monitor", "rules", "test", "kinko-mfa-fatigue", str(quiet), "--json")
    assert result.exit_code == 1  # the rule never fired: the check fails, in JSON too
    assert json_out(result) == {
        "ok": False,
        "rule": "kinko-mfa-fatigue",
        "events": 1,
        "alerts": [],
    }

    rules = json_out(kinko(cli, "monitor", "rules", "list", "--json"))
    result = kinko(cli, "monitor", "rules", "list")
    assert result.exit_code == 0, result.output
    for rule in rules:
        assert rule["id"] in result.stdout


def test_watch_once_json(ctx: Context, cli: CliRunner, monkeypatch: pytest.MonkeyPatch) -> None:
    result = kinko(cli, "monitor", "watch", "--once", "--json")
    assert result.exit_code == 2  # no node configured
    assert json_out(result)["field"] == "ethereum_node_url"

    add_hot_wallet(ctx)
    chain = {"tip": 5}
    answers = node_answers(chain)
    with json_rpc_node(answers) as url:
        monkeypatch.setenv("KINKO_ETHEREUM_NODE_URL", url)
        monkeypatch.setenv("KINKO_ETHEREUM_NETWORK", "mainnet")
        first = kinko(cli, "monitor", "watch", "--once", "--json")
        chain["tip"] = 6
        second = kinko(cli, "monitor", "watch", "--once", "--json")
    assert first.exit_code == 0, first.output
    [quiet] = [json.loads(line) for line in first.stdout.splitlines()]
    assert quiet["ok"] is True and quiet["outflows"] == [] and quiet["failed_responses"] == []
    assert_iso(quiet["time"])

    assert second.exit_code == 1  # an unexplained outflow: something to look at
    [report] = [json.loads(line) for line in second.stdout.splitlines()]
    assert report["ok"] is False
    [outflow] = report["outflows"]
    assert (outflow["wallet_id"], outflow["wallet_name"]) == ("wal_eth_hot", "ETH hot")
    assert (outflow["amount"], outflow["asset"]) == (str(3 * 10**18), "ETH")
    assert outflow["destination"] == PAYEE and outflow["chain"] == "ethereum"
    assert outflow["txid"] == "0x" + "06" * 32
    assert outflow["withdrawal_id"] is None and outflow["explained"] is False
    assert_iso(outflow["time"])
