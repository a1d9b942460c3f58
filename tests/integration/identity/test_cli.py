"""The identity CLI end to end on a real data directory (both databases)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from kinko.cli.common import console, state
from kinko.cli.main import app
from kinko.context import Context
from kinko.identity.service import IdentityService
from tests.support.cli_api import as_person, route_cli_to_api
from tests.support.identity import ensure_secret_key, make_user
from tests.support.votes import assertion_file, key_args


class Cli(CliRunner):
    """A runner whose commands go to the API on `ctx`, run by `ctx`'s people."""

    def __init__(self, ctx: Context) -> None:
        super().__init__()
        self.ctx = ctx


@pytest.fixture
def cli(ctx: Context, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Cli:
    route_cli_to_api(ctx, monkeypatch, tmp_path / "config")
    monkeypatch.setenv("KINKO_DATABASE_URL", ctx.settings.resolved_database_url)
    monkeypatch.setenv("KINKO_LOG_JSON", "false")
    monkeypatch.setattr(state, "data_dir", ctx.settings.data_dir)
    monkeypatch.setattr(console, "width", 300)  # tables must not truncate ids
    return Cli(ctx)


def _run(cli: Cli, *args: str, as_: str | None = None) -> tuple[int, str]:
    """`kinko ARGS`; with `as_`, run by that person with their own session."""
    env = as_person(cli.ctx, as_) if as_ else None
    result = cli.invoke(app, ["--data-dir", str(state.data_dir), *args], env=env)
    return result.exit_code, " ".join(result.output.split())


def test_user_role_token_commands(ctx: Context, cli: Cli) -> None:
    with ctx.db.transaction() as session:
        IdentityService(ctx).bootstrap_admin(session, "root")
        ids = IdentityService(ctx)
        ids.users.consume_enrolment(session, ids.users.require_user(session, "root"))
    make_user(ctx, "sec2", ["security_admin"])

    code, out = _run(cli, "user", "add", "ann", as_="root")
    assert code == 0, out
    assert "enr_" in out
    code, out = _run(cli, "role", "propose", "ann", "approver", "--reason", "new", as_="root")
    assert code == 0, out
    proposal = re.search(r"prp_[0-9a-z]+", out)
    assert proposal is not None and "pending" in out
    code, out = _run(cli, "role", "approve", proposal.group(0), as_="root")
    assert code == 1 and "four eyes" in out
    pid = proposal.group(0)
    key = assertion_file(ctx, "proposal", pid, as_="sec2")
    code, out = _run(cli, "role", "approve", pid, "--assertion", key, as_="sec2")
    assert code == 0 and "approved" in out
    code, out = _run(cli, "user", "list")
    assert code == 0 and "approver" in out

    code, out = _run(cli, "role", "propose", "ann", "security_admin", "--reason", "x", as_="root")
    assert code == 1 and "separation of duties" in out
    code, out = _run(cli, "role", "propose", "ann", "wizard", "--reason", "x", as_="root")
    assert code == 2 and "role" in out

    make_user(ctx, "svc", ["requester"], with_authenticator=False)
    code, out = _run(
        cli,
        "token",
        "create",
        "svc",
        "backend",
        "--permission",
        "withdrawals:create",
        "--asset",
        "BTC",
        as_="root",
    )
    assert code == 0, out
    token_id = re.search(r"tok_[0-9a-z]+", out)
    assert token_id is not None and "kko_" in out
    # A service account's token is a proposal: listed once another admin approves it.
    token_proposal = re.search(r"prp_[0-9a-z]+", out)
    assert token_proposal is not None and "pending" in out
    code, out = _run(cli, "token", "list")
    assert code == 0 and token_id.group(0) not in out
    pid = token_proposal.group(0)
    code, out = _run(
        cli, "role", "approve", pid, *key_args(ctx, "proposal", pid, as_="sec2"), as_="sec2"
    )
    assert code == 0, out
    code, out = _run(cli, "token", "list")
    assert code == 0 and token_id.group(0) in out and "kko_" not in out
    code, out = _run(cli, "token", "revoke", token_id.group(0), "--reason", "r", as_="root")
    assert code == 0
    # Nobody creates a token for another person (sec2 can sign in: not a service account).
    code, out = _run(cli, "token", "create", "sec2", "x", "--permission", "users:read", as_="root")
    assert code == 1 and "service account" in out

    # ann holds approver (privileged): suspending her is four eyes.
    code, out = _run(cli, "user", "suspend", "ann", "--reason", "leave", as_="root")
    assert code == 0 and "pending" in out, out
    suspend = re.search(r"prp_[0-9a-z]+", out)
    assert suspend is not None
    pid = suspend.group(0)
    code, out = _run(
        cli, "role", "approve", pid, *key_args(ctx, "proposal", pid, as_="sec2"), as_="sec2"
    )
    assert code == 0, out
    code, out = _run(cli, "user", "reinstate", "ann", "--reason", "back", as_="root")
    assert code == 0 and "pending" in out, out
    code, out = _run(cli, "user", "suspend", "svc", "--reason", "retired", as_="root")
    assert code == 0 and "now suspended" in out, out
    code, out = _run(cli, "user", "suspend", "sec2", "--reason", "x", as_="root")
    assert code == 2 and "fewer than two active security_admins" in out
    code, out = _run(cli, "user", "suspend", "nobody", "--reason", "x", as_="root")
    assert code == 2 and "no user named" in out


def test_mfa_commands(ctx: Context, cli: Cli) -> None:
    ensure_secret_key(ctx)
    ids = IdentityService(ctx)
    with ctx.db.transaction() as session:
        ids.bootstrap_admin(session, "root")
        ids.users.consume_enrolment(session, ids.users.require_user(session, "root"))
        _, secret = ids.users.add_user(session, "bob", actor="user:x")
    code, out = _run(cli, "mfa", "enroll-totp", "bob", secret)
    assert code == 0 and "otpauth://" in out, out
    code, out = _run(cli, "mfa", "enroll-totp", "bob", secret)
    assert code == 1  # the enrolment secret was used up
    code, out = _run(cli, "mfa", "list", "bob")
    assert code == 0 and "totp:" in out and "recovery" in out
    code, out = _run(cli, "mfa", "reset", "bob", "--reason", "lost phone", as_="root")
    assert code == 0 and "pending" in out
