"""`kinko freeze|addressbook|policy` listings: --json shapes, people by name, whole ids."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from kinko.cli import policy as policy_cli
from kinko.context import Context
from kinko.store.tables.custody import AssetRow
from tests.integration.policy.support import COLD_ADDR
from tests.support.cli import assert_iso, json_out, kinko, narrow_cli
from tests.support.cli_api import as_person, route_cli_to_api
from tests.support.identity import make_user
from tests.support.votes import key_args

SAMPLE = Path(policy_cli.__file__).parent.parent / "policy" / "default_policy.yaml"


@pytest.fixture
def cli(ctx: Context, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> CliRunner:
    monkeypatch.setenv("KINKO_CONFIG", "")
    monkeypatch.setenv("KINKO_POLICY_PATH", str(SAMPLE))
    route_cli_to_api(ctx, monkeypatch, tmp_path / "config")
    return narrow_cli(ctx, monkeypatch)


@pytest.fixture
def staff(ctx: Context) -> dict[str, str]:
    ids = {}
    for name, roles in (
        ("sec1", ["security_admin"]),
        ("op", ["operator"]),
        ("both", ["requester", "senior_approver"]),
    ):
        ids[name], _ = make_user(ctx, name, roles)
    with ctx.db.transaction() as s:
        s.add(AssetRow(chain="ethereum", symbol="ETH", decimals=18))
    return ids


def test_freeze_list(ctx: Context, cli: CliRunner, staff: dict[str, str]) -> None:
    result = kinko(
        cli, "freeze", "asset", "ethereum:ETH", "--reason", "drain", env=as_person(ctx, "op")
    )
    assert result.exit_code == 0, result.output
    assert "ethereum:ETH frozen by op: drain" in " ".join(result.stdout.split())
    freeze_id = re.search(r"frz_[0-9a-z]+", result.stdout)
    assert freeze_id is not None
    assert kinko(
        cli, "unfreeze", "propose", freeze_id.group(0), "--reason", "ok", env=as_person(ctx, "sec1")
    )

    result = kinko(cli, "freeze", "list", "--json")
    assert result.exit_code == 0, result.output
    listed = json_out(result)
    [freeze] = listed["freezes"]
    assert freeze["id"] == freeze_id.group(0)
    assert (freeze["scope"], freeze["target"], freeze["reason"]) == (
        "asset",
        "ethereum:ETH",
        "drain",
    )
    assert (freeze["actor"], freeze["actor_username"]) == (f"user:{staff['op']}", "op")
    assert_iso(freeze["created_at"])
    [proposal] = listed["unfreeze_proposals"]
    assert proposal["id"].startswith("prp_") and proposal["freeze_id"] == freeze["id"]
    assert proposal["proposer_username"] == "sec1" and proposal["reason"] == "ok"
    assert_iso(proposal["created_at"])

    result = kinko(cli, "freeze", "list")
    assert result.exit_code == 0, result.output
    assert freeze["id"] in result.stdout and proposal["id"] in result.stdout
    assert "op" in result.stdout and "by sec1" in result.stdout
    assert "usr_" not in result.stdout

    # Refusals name people too.
    key = key_args(ctx, "proposal", proposal["id"], as_="sec1")  # refused: none
    result = kinko(cli, "unfreeze", "approve", proposal["id"], *key, env=as_person(ctx, "sec1"))
    message = " ".join(result.output.split())
    assert result.exit_code == 1 and "sec1 proposed the unfreeze" in message
    result = kinko(
        cli, "unfreeze", "propose", freeze["id"], "--reason", "x", env=as_person(ctx, "op")
    )
    message = " ".join(result.output.split())
    assert result.exit_code == 1 and "freeze:release" in message and "usr_" not in message


def test_addressbook_list(ctx: Context, cli: CliRunner, staff: dict[str, str]) -> None:
    result = kinko(
        cli, "addressbook", "propose", "--chain", "ethereum", "--address", COLD_ADDR,
        "--label", "cold storage of the exchange, second site", "--owner", "own_wallet",
        "--tier", "cold", "--tier", "warm", env=as_person(ctx, "both"),
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    result = kinko(cli, "addressbook", "list", "--json")
    assert result.exit_code == 0, result.output
    [proposal] = json_out(result)["proposals"]
    assert proposal["address"] == COLD_ADDR and proposal["action"] == "add"
    assert (proposal["proposer"], proposal["proposer_username"]) == (
        f"user:{staff['both']}",
        "both",
    )
    result = kinko(cli, "addressbook", "list")
    assert result.exit_code == 0, result.output
    assert proposal["id"] in result.stdout and "by both" in result.stdout


def test_policy_validate_and_show(cli: CliRunner, tmp_path: Path) -> None:
    result = kinko(cli, "policy", "validate", str(SAMPLE), "--json")
    assert result.exit_code == 0, result.output
    policy = json_out(result)
    assert policy["ok"] is True and policy["version"] == "2026-11-21.1"
    assert len(policy["sha256"]) == 64 and policy["source"].endswith("default_policy.yaml")
    rules = {r["id"]: r for r in policy["rules"]}
    assert rules["btc-hot-max"]["kind"] == "transfer_max"
    assert set(rules["btc-hot-max"]["match"]) == {"chains", "assets", "wallets", "tiers"}
    assert json_out(kinko(cli, "policy", "show", "--json")) == policy

    result = kinko(cli, "policy", "show")
    assert result.exit_code == 0, result.output
    for rule_id in rules:
        assert rule_id in result.stdout

    bad = tmp_path / "bad.yaml"
    bad.write_text("version: 'v1'\nrules:\n  - {id: a, kind: transfer_max, max: 1.5}\n")
    result = kinko(cli, "policy", "validate", str(bad), "--json")
    assert result.exit_code == 2
    error = json_out(result)
    assert error["ok"] is False and error["error"] == "invalid_config"
    assert "rules[0] (id=a).match" in error["message"]
