"""`kinko token create` of a privileged token through the API, on both databases: the CLI
(ann's own session, `--browser`) asks for the token, prints the console page and code, and
waits; ann, signed in to the console as herself, confirms it there with her security key;
the CLI prints the token once. A refusal in the browser ends it with no token; without
`--browser` a privileged token is refused (a shell is no security key) and says how; a
token without privileged permissions is made at once, as before.

While the CLI waits between polls, the test plays the person at the browser (the
console's own API calls: the challenge bound to the request, her key's assertion, the
approval) and lets the interval pass on the test clock. The browser itself, with a
virtual security key, is tests/e2e/test_browser_identity.py.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result
from fastapi.testclient import TestClient
from sqlalchemy import select
from typer.testing import CliRunner

from kinko.cli import token_request
from kinko.cli.main import app
from kinko.context import Context
from kinko.core.clock import FixedClock
from kinko.identity.softauthn import SoftAuthenticator
from kinko.store.tables.device import TokenRequestRow
from tests.support.cli_api import as_person, route_cli_to_api
from tests.support.confirmations import TOKEN_REQUESTS, answer_in_browser
from tests.support.identity import bearer, make_user, person_headers

runner = CliRunner()


@pytest.fixture
def browser(
    ctx: Context, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, clock: FixedClock
) -> Callable[[str], list[str]]:
    """Route the CLI to the API; `browser(action)` makes ann, at her browser, `action`
    ("approve" or "deny") the first request she sees while the CLI waits. Returns the
    user codes she saw."""
    api = TestClient(route_cli_to_api(ctx, monkeypatch, tmp_path / "config"))
    _, auth = make_user(ctx, "ann", ["security_admin"])
    assert auth is not None
    seen: list[str] = []

    def arm(action: str) -> list[str]:
        def wait(seconds: float) -> None:
            clock.advance(timedelta(seconds=seconds))
            if not seen:
                seen.append(_pending_code(ctx))
                _act(api, ctx, auth, seen[0], action)

        monkeypatch.setattr(token_request, "sleep", wait)
        return seen

    return arm


def _pending_code(ctx: Context) -> str:
    with ctx.db.transaction() as session:
        row = session.execute(
            select(TokenRequestRow).where(TokenRequestRow.status == "pending")
        ).scalar_one()
        return row.user_code


def _act(api: TestClient, ctx: Context, auth: SoftAuthenticator, code: str, action: str) -> None:
    headers = person_headers(ctx, "ann", auth)  # her console session, in the browser
    page = api.get(f"/console/tokens/confirm?code={code}", headers=headers)
    assert page.status_code == 200 and "freeze:set" in page.text, page.text
    if action == "deny":
        done = api.post("/v1/tokens/requests/deny", json={"user_code": code}, headers=headers)
        assert done.status_code == 200, done.text
        return
    done = answer_in_browser(api, ctx, code, headers, auth, prefix=TOKEN_REQUESTS)
    assert done.status_code == 200, done.text


def kinko(ctx: Context, *args: str) -> Result:
    result = runner.invoke(app, list(args), env=as_person(ctx, "ann"))
    assert "Traceback" not in result.output, result.output
    return result


def test_a_privileged_token_is_confirmed_in_the_browser(
    ctx: Context, browser: Callable[[str], list[str]]
) -> None:
    seen = browser("approve")
    args = ["token", "create", "ann", "siem", "--permission", "freeze:set", "--browser"]
    done = kinko(ctx, *args, "--days", "7")
    assert done.exit_code == 0, done.output
    out = " ".join(done.output.split())
    assert len(seen) == 1 and f"/console/tokens/confirm?code={seen[0]}" in out
    assert "security key" in out and "freeze:set" in out
    token = re.search(r"kko_tok_[0-9a-z]+_[0-9a-f]{64}", done.output.replace("\n", ""))
    assert token is not None, out
    api = TestClient(app_of(ctx))
    me = api.get("/v1/auth/me", headers=bearer(token.group(0))).json()
    assert me["username"] == "ann" and me["permissions"] == ["freeze:set"]


def test_refused_in_the_browser_no_token(ctx: Context, browser: Callable[[str], list[str]]) -> None:
    browser("deny")
    args = ["token", "create", "ann", "siem", "--permission", "freeze:set", "--browser"]
    done = kinko(ctx, *args, "--json")
    assert done.exit_code == 1, done.output
    document = json.loads(done.stdout)
    assert document["ok"] is False and document["error"] == "access_denied"
    assert "kko_" not in done.output


def test_a_token_without_privileged_permissions_needs_no_browser(
    ctx: Context, browser: Callable[[str], list[str]]
) -> None:
    seen = browser("approve")
    done = kinko(ctx, "token", "create", "ann", "reader", "--permission", "users:read", "--json")
    assert done.exit_code == 0, done.output
    assert json.loads(done.stdout)["token"].startswith("kko_") and seen == []


def app_of(ctx: Context) -> Any:
    from kinko.server import create_app

    return create_app(ctx)


def test_without_browser_a_privileged_token_is_refused_and_says_how(
    ctx: Context, browser: Callable[[str], list[str]]
) -> None:
    seen = browser("approve")
    done = kinko(ctx, "token", "create", "ann", "siem", "--permission", "freeze:set", "--json")
    assert done.exit_code == 1, done.output
    document = json.loads(done.stdout)
    assert document["error"] == "step_up_required" and "--browser" in document["message"]
    assert seen == []
    with ctx.db.transaction() as session:
        assert session.execute(select(TokenRequestRow)).first() is None
    make_user(ctx, "svc", ["auditor"], with_authenticator=False)
    other = kinko(ctx, "token", "create", "svc", "x", "--permission", "audit:read", "--browser")
    assert other.exit_code == 2 and "OWNER must be you" in " ".join(other.output.split())
