"""The CLI acting for a person through the API, in the test's process (issue 13).

A command that acts for a person sends that person's session to `kinko serve`
(`kinko.cli.api`). In-process CLI tests give it the real application on the test's
context (`create_app(ctx)`, every route, dependency and service as served) through an
HTTP client bound to it, and a person's session as ``KINKO_TOKEN``: a console session of
theirs, the credential `kinko login` stores. End-to-end tests run a real `kinko serve`
(tests/support/serve.py).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from kinko.cli import api as cli_api
from kinko.context import Context
from kinko.identity.model import UserId
from kinko.identity.service import IdentityService
from kinko.server import create_app
from kinko.services import Services

ADDR = "http://kinko.test"


def route_cli_to_api(
    ctx: Context,
    monkeypatch: pytest.MonkeyPatch,
    config_home: Path,
    *,
    services: Services | None = None,
    withdrawal_stack: Any = None,
) -> FastAPI:
    """Send the CLI's requests to `create_app(ctx)` in this process; no stored session
    (``XDG_CONFIG_HOME`` is `config_home`). With `services` (a test's, built by the
    composition root on its in-process chains), the API uses them, as `kinko demo` hands
    its services to the server; `withdrawal_stack` replaces just the withdrawal services."""
    app = create_app(ctx, services=services)
    if withdrawal_stack is not None:
        app.state.withdrawal_stack = withdrawal_stack

    def client(base_url: str, headers: Mapping[str, str], timeout: float) -> TestClient:
        return TestClient(app, base_url=base_url, headers=dict(headers))

    monkeypatch.setattr(cli_api, "make_http_client", client)
    monkeypatch.setenv("KINKO_ADDR", ADDR)
    monkeypatch.delenv("KINKO_TOKEN", raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(config_home))
    return app


def session_of(ctx: Context, username: str) -> str:
    """A new session of `username`'s (as signing in makes): what `kinko login` stores."""
    with ctx.db.transaction() as session:
        identity = IdentityService(ctx)  # identity's own flows: no other domain involved
        user = identity.users.require_user(session, username)
        return identity.sessions.create(session, UserId(user.id), source_ip="127.0.0.1")


def as_person(ctx: Context, username: str) -> dict[str, str]:
    """The environment of a CLI command run by `username` with their own session."""
    return {"KINKO_TOKEN": session_of(ctx, username)}


def kinko(ctx: Context, *args: str, as_: str | None = None) -> tuple[int, str]:
    """`kinko ARGS` in this process on `ctx`'s data; with `as_`, run by that person with
    their own session (after `route_cli_to_api`). Returns the exit code and the output:
    a ``--json`` document as printed, anything else with Rich's line wrapping undone."""
    from typer.testing import CliRunner

    from kinko.cli.main import app

    env = {
        "KINKO_DATA_DIR": str(ctx.settings.data_dir),
        "KINKO_DATABASE_URL": ctx.settings.resolved_database_url,
        "KINKO_CONFIG": "",
        "COLUMNS": "300",
        **(as_person(ctx, as_) if as_ else {}),
    }
    result = CliRunner().invoke(app, list(args), env=env)
    assert "Traceback" not in result.output, result.output
    if result.output.lstrip().startswith("{"):
        return result.exit_code, result.output
    return result.exit_code, " ".join(result.output.split())
