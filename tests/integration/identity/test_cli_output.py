"""`kinko user|role|token|mfa list`: --json shapes, and people and full ids at 80 columns."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from kinko.context import Context
from kinko.identity.model import RoleGrant
from kinko.identity.permissions import Role
from kinko.identity.service import IdentityService
from tests.support.cli import assert_iso, json_out, kinko, narrow_cli
from tests.support.cli_api import as_person, route_cli_to_api
from tests.support.identity import ensure_secret_key, make_user
from tests.support.votes import assertion_file

# Wide enough that, at 80 columns, a table that shrinks every column cuts the ids.
ASSETS = ("ethereum:ETH", "ethereum:USDC", "bitcoin:BTC", "tron:USDT", "ethereum:DAI")


@pytest.fixture
def cli(ctx: Context, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> CliRunner:
    route_cli_to_api(ctx, monkeypatch, tmp_path / "config")
    return narrow_cli(ctx, monkeypatch)


@pytest.fixture
def people(ctx: Context) -> dict[str, str]:
    """root (admin), sec2, ann (approver on many assets), svc with a token; ids by name."""
    ensure_secret_key(ctx)
    ids = IdentityService(ctx)
    with ctx.db.transaction() as session:
        ids.bootstrap_admin(session, "root")
        root = ids.users.require_user(session, "root")
        ids.users.consume_enrolment(session, root)
        root_id = root.id
    sec2, _ = make_user(ctx, "sec2", ["security_admin"])
    ann, _ = make_user(ctx, "ann", [RoleGrant(Role.APPROVER, assets=ASSETS)])
    svc, _ = make_user(ctx, "svc", ["requester"], with_authenticator=False)
    return {"root": root_id, "sec2": sec2, "ann": ann, "svc": svc}


def test_user_list(cli: CliRunner, people: dict[str, str]) -> None:
    result = kinko(cli, "user", "list", "--json")
    assert result.exit_code == 0, result.output
    users = {u["username"]: u for u in json_out(result)}
    assert set(users) == set(people)
    ann = users["ann"]
    assert ann["id"] == people["ann"] and ann["state"] == "active"
    assert ann["roles"] == [{"role": "approver", "assets": list(ASSETS), "wallets": []}]
    assert ann["display_name"] == ""
    assert_iso(ann["created_at"])

    result = kinko(cli, "user", "list")
    assert result.exit_code == 0, result.output
    for user_id in people.values():
        assert user_id in result.stdout
    assert "approver[" in result.stdout


def test_role_list_names_people(ctx: Context, cli: CliRunner, people: dict[str, str]) -> None:
    result = kinko(
        cli, "role", "propose", "ann", "senior_approver", "--reason", "promotion",
        env=as_person(ctx, "root"),
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    proposal_id = re.search(r"prp_[0-9a-z]+", result.stdout)
    assert proposal_id is not None

    result = kinko(cli, "role", "list", "--json")
    assert result.exit_code == 0, result.output
    [proposal] = json_out(result)
    assert proposal["id"] == proposal_id.group(0)
    assert (proposal["kind"], proposal["state"]) == ("grant_role", "pending")
    assert (proposal["user_id"], proposal["user_username"]) == (people["ann"], "ann")
    assert (proposal["proposer_id"], proposal["proposer_username"]) == (people["root"], "root")
    assert proposal["payload"]["role"] == "senior_approver"
    assert proposal["decided_by_id"] is None and proposal["reason"] == "promotion"
    assert_iso(proposal["created_at"])

    result = kinko(cli, "role", "list", "--pending")
    assert result.exit_code == 0, result.output
    assert proposal_id.group(0) in result.stdout  # whole, for 'role approve'
    assert "ann" in result.stdout and "root" in result.stdout
    assert "usr_" not in result.stdout  # people by name, not by id


def test_token_list(ctx: Context, cli: CliRunner, people: dict[str, str]) -> None:
    token_ids = []
    for name in ("backend", "reconciliation"):
        result = kinko(
            cli, "token", "create", "svc", name,
            "--permission", "withdrawals:create", "--permission", "withdrawals:read",
            "--asset", "ethereum:ETH", "--allow-ip", "10.0.0.0/8", env=as_person(ctx, "root"),
        )  # fmt: skip
        assert result.exit_code == 0, result.output
        found = re.search(r"tok_[0-9a-z]+", result.stdout)
        proposal = re.search(r"prp_[0-9a-z]+", result.stdout)
        assert found is not None and proposal is not None
        token_ids.append(found.group(0))
        # A service account's token is four eyes: another admin approves it.
        pid = proposal.group(0)
        key = assertion_file(ctx, "proposal", pid, as_="sec2")
        approved = kinko(
            cli, "role", "approve", pid, "--assertion", key, env=as_person(ctx, "sec2")
        )
        assert approved.exit_code == 0, approved.output

    result = kinko(cli, "token", "list", "--json")
    assert result.exit_code == 0, result.output
    tokens = json_out(result)
    assert [t["id"] for t in tokens] == token_ids
    first = tokens[0]
    assert (first["owner_id"], first["owner_username"]) == (people["svc"], "svc")
    assert first["permissions"] == ["withdrawals:create", "withdrawals:read"]
    assert first["assets"] == ["ethereum:ETH"] and first["ip_allowlist"] == ["10.0.0.0/8"]
    assert first["revoked_at"] is None and first["last_used_at"] is None
    assert_iso(first["expires_at"])
    assert_iso(first["created_at"])
    assert "kko_" not in result.stdout

    result = kinko(cli, "token", "list")
    assert result.exit_code == 0, result.output
    for token_id in token_ids:
        assert token_id in result.stdout
    assert "svc" in result.stdout and people["svc"] not in result.stdout


def test_mfa_list(ctx: Context, cli: CliRunner, people: dict[str, str]) -> None:
    with ctx.db.transaction() as session:
        _, secret = IdentityService(ctx).users.add_user(session, "bob", actor="user:x")
    assert kinko(cli, "mfa", "enroll-totp", "bob", secret).exit_code == 0

    result = kinko(cli, "mfa", "list", "bob", "--json")
    assert result.exit_code == 0, result.output
    listed = json_out(result)
    assert listed["username"] == "bob" and listed["user_id"].startswith("usr_")
    totp, codes = listed["factors"]
    assert re.fullmatch(r"totp:\w+_[0-9a-z]+", totp["factor"]), totp
    assert totp["sign_count"] is None and totp["remaining"] is None
    assert codes == {"factor": "recovery_codes", "sign_count": None, "remaining": 10}

    result = kinko(cli, "mfa", "list", "ann")  # a WebAuthn credential: a long factor id
    assert result.exit_code == 0, result.output
    factor = json_out(kinko(cli, "mfa", "list", "ann", "--json"))["factors"][0]["factor"]
    assert factor.startswith("webauthn:") and factor in result.stdout


def test_json_errors_are_json_with_the_same_exit_code(
    cli: CliRunner, people: dict[str, str]
) -> None:
    plain = kinko(cli, "mfa", "list", "nobody")
    result = kinko(cli, "mfa", "list", "nobody", "--json")
    assert result.exit_code == plain.exit_code == 2
    error = json_out(result)
    assert error["ok"] is False and error["error"] == "not_found"
    assert "nobody" in error["message"]
