"""`kinko withdraw show|list|approve|reject`: --json shapes; people and wallets by name,
ids and the digest whole at 80 columns."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from kinko.core.clock import FixedClock
from kinko.withdrawals.service import WithdrawalRequest
from kinko.withdrawals.states import State
from tests.integration.withdrawals.exchange import RECIPIENT, Exchange
from tests.support.cli import assert_iso, json_out, kinko, narrow_cli
from tests.support.cli_api import as_person, route_cli_to_api

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


@pytest.fixture
def cli(exchange: Exchange, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> CliRunner:
    # The CLI judges expiry by the real clock: run these withdrawals on it too.
    assert isinstance(exchange.ctx.clock, FixedClock)
    exchange.ctx.clock.set(datetime.now(UTC))
    route_cli_to_api(exchange.ctx, monkeypatch, tmp_path / "config")
    return narrow_cli(exchange.ctx, monkeypatch)


def _pending(ex: Exchange, key: str) -> str:
    wd = ex.withdrawals.request(
        WithdrawalRequest(asset="ETH", amount="2", destination=RECIPIENT),
        requester=ex.user("alice"),
        idempotency_key=key,
        channel="api",
    )
    assert wd.state is State.PENDING_APPROVAL and wd.digest is not None
    return wd.id


def test_show_and_list_name_people_and_wallets(exchange: Exchange, cli: CliRunner) -> None:
    wd_id = _pending(exchange, "k-show")
    result = kinko(cli, "withdraw", "show", wd_id)
    assert result.exit_code == 0, result.output
    shown = json_out(kinko(cli, "withdraw", "show", wd_id, "--json"))
    assert wd_id in result.stdout and shown["digest"] in result.stdout
    assert RECIPIENT in result.stdout
    assert "requester: alice" in " ".join(result.stdout.split())
    assert "ETH hot (wal_eth_hot)" in result.stdout
    assert "usr_" not in result.stdout

    result = kinko(cli, "withdraw", "list")
    assert result.exit_code == 0, result.output
    assert wd_id in result.stdout and "ETH hot" in result.stdout


def test_approve_and_reject_json(exchange: Exchange, cli: CliRunner, tmp_path: Path) -> None:
    ctx = exchange.ctx
    bob = as_person(ctx, "bob")
    wd_id = _pending(exchange, "k-approve")
    digest = json_out(kinko(cli, "withdraw", "show", wd_id, "--json"))["digest"]
    assertion = tmp_path / "bob.json"
    assertion.write_text(json.dumps(exchange.assert_digest("bob", digest)))
    result = kinko(
        cli, "withdraw", "approve", wd_id, "--assertion", str(assertion), "--json", env=bob
    )
    assert result.exit_code == 0, result.output
    view = json_out(result)
    assert view["id"] == wd_id and view["state"] == "pending_approval"
    assert (view["asset"], view["amount"]) == ("ETH", str(2 * 10**18))
    assert view["requester"] == exchange.user("alice")
    [approval] = view["approvals"]
    assert approval["approver"] == exchange.user("bob") and approval["verdict"] == "approve"
    assert_iso(approval["at"])
    assert_iso(view["created_at"])

    assertion.write_text(json.dumps(exchange.assert_digest("carol", digest)))
    result = kinko(
        cli,
        "withdraw",
        "approve",
        wd_id,
        "--assertion",
        str(assertion),
        env=as_person(ctx, "carol"),
    )
    assert result.exit_code == 0, result.output
    text = " ".join(result.stdout.split())
    assert "bob (webauthn)" in text and "carol (webauthn)" in text
    assert "usr_" not in text

    other = _pending(exchange, "k-reject")
    result = kinko(cli, "withdraw", "reject", other, "--reason", "odd", "--json", env=bob)
    assert result.exit_code == 0, result.output
    assert json_out(result)["state"] == "denied"

    result = kinko(cli, "withdraw", "approve", wd_id, "--json", env=bob)
    assert result.exit_code == 2  # neither --assertion nor --totp
    error = json_out(result)
    assert error["ok"] is False and error["field"] == "--assertion"


def test_refusals_name_people(exchange: Exchange, cli: CliRunner, tmp_path: Path) -> None:
    wd_id = _pending(exchange, "k-self")
    digest = json_out(kinko(cli, "withdraw", "show", wd_id, "--json"))["digest"]
    assertion = tmp_path / "bob.json"
    assertion.write_text(json.dumps(exchange.assert_digest("bob", digest)))
    args = ["withdraw", "approve", wd_id, "--assertion", str(assertion)]
    bob = as_person(exchange.ctx, "bob")
    assert kinko(cli, *args, env=bob).exit_code == 0
    result = kinko(cli, *args, env=bob)
    assert result.exit_code == 1
    message = " ".join(result.output.split())
    assert "bob has already answered this withdrawal" in message and "usr_" not in message
    result = kinko(cli, *args, env=as_person(exchange.ctx, "alice"))  # the requester
    message = " ".join(result.output.split())
    assert result.exit_code == 1 and "withdrawals:approve" in message and "usr_" not in message
