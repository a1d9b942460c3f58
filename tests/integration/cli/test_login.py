"""`kinko login --totp`, `whoami`, `logout`: the CLI's own session, stored 0600 (issue 13).

Through the real API on both databases (`create_app(ctx)` in this process); the browser
device flow runs against a real `kinko serve` in tests/e2e/test_cli_as_person.py.
"""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pyotp
import pytest
from click.testing import Result
from typer.testing import CliRunner

from kinko.cli.main import app
from kinko.context import Context
from kinko.identity.model import RoleGrant
from kinko.identity.permissions import Role
from kinko.identity.service import IdentityService
from tests.support.cli_api import route_cli_to_api
from tests.support.identity import ensure_secret_key

runner = CliRunner()


def kinko(*args: str, env: dict[str, str] | None = None, stdin: str | None = None) -> Result:
    result = runner.invoke(app, list(args), env=env, input=stdin)
    assert "Traceback" not in result.output, result.output
    return result


def one_line(result: Result) -> str:
    return " ".join(result.output.split())


@pytest.fixture
def config_home(tmp_path: Path) -> Path:
    return tmp_path / "config"


@pytest.fixture
def ann(ctx: Context, config_home: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A requester with a TOTP factor (the policy allows TOTP for her role); her secret."""
    ensure_secret_key(ctx)
    ids = IdentityService(ctx)
    with ctx.db.transaction() as session:
        user_id, secret = ids.users.add_user(session, "ann", actor="system:test")
        grant = RoleGrant(Role.REQUESTER)
        ids.roles.unsafe_direct_grant(session, user_id, grant, reason="test fixture")
    with ctx.db.transaction() as session:
        totp_secret, _, _ = ids.enrol_totp(session, "ann", secret)
    route_cli_to_api(ctx, monkeypatch, config_home)
    return totp_secret


def code(ctx: Context, secret: str) -> str:
    return pyotp.TOTP(secret).at(ctx.clock.now())


def test_totp_login_whoami_logout(ctx: Context, ann: str, config_home: Path) -> None:
    assert kinko("whoami").exit_code == 1  # not signed in yet
    assert "kinko login" in one_line(kinko("whoami"))

    wrong = kinko("login", "--totp", "--username", "ann", stdin="000000\n")
    assert wrong.exit_code == 1 and "invalid credentials" in one_line(wrong)
    assert not (config_home / "kinko" / "session.json").exists()

    done = kinko("login", "--totp", "--username", "ann", stdin=code(ctx, ann) + "\n")
    assert done.exit_code == 0, done.output
    assert "Signed in to http://kinko.test as ann" in one_line(done)
    stored = config_home / "kinko" / "session.json"
    assert stat.S_IMODE(stored.stat().st_mode) == 0o600
    assert stat.S_IMODE(stored.parent.stat().st_mode) == 0o700
    saved = json.loads(stored.read_text())
    assert (saved["username"], saved["addr"]) == ("ann", "http://kinko.test")

    me = kinko("whoami", "--json")
    assert me.exit_code == 0, me.output
    shown = json.loads(me.stdout)
    assert shown["username"] == "ann" and shown["kind"] == "user"
    assert shown["credential"] == str(stored) and shown["token_id"] is None
    assert "requester" in [g["role"] for g in shown["roles"]]

    # A session file others may read is refused, saying the chmod.
    stored.chmod(0o644)
    exposed = kinko("whoami")
    assert exposed.exit_code == 2 and f"chmod 600 {stored}" in one_line(exposed)
    stored.chmod(0o600)

    # Sent only to the server it came from.
    elsewhere = kinko("whoami", env={"KINKO_ADDR": "http://other.test"})
    assert elsewhere.exit_code == 1
    assert "your session is for http://kinko.test" in one_line(elsewhere)

    out = kinko("logout")
    assert out.exit_code == 0 and "Signed out of http://kinko.test (ann)" in one_line(out)
    assert not stored.exists()
    # ... and the server ended it: the same session no longer works.
    again = kinko("whoami", env={"KINKO_TOKEN": saved["session_token"]})
    assert again.exit_code == 1 and "sign in again" in one_line(again)
    assert kinko("logout").exit_code == 0  # nothing to do


def test_an_api_token_as_kinko_token(ctx: Context, ann: str) -> None:
    """KINKO_TOKEN is any bearer: an API token is shown as such; a bad one is 401 → 1."""
    from tests.support.identity import owned_token

    with ctx.db.reading() as session:
        ann_id = IdentityService(ctx).users.require_user(session, "ann").id
    token = owned_token(ctx, ann_id, ["withdrawals:read"])
    me = kinko("whoami", env={"KINKO_TOKEN": token})
    assert me.exit_code == 0, me.output
    assert "ann" in me.stdout and "API token tok_" in one_line(me)
    bad = kinko("whoami", "--json", env={"KINKO_TOKEN": "kko_nope_nope"})
    assert bad.exit_code == 1
    assert json.loads(bad.stdout)["error"] == "unauthenticated"
