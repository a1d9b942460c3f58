"""Driving `kinko` in-process as a person at an 80-column terminal, or a script (--json)."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from click.testing import Result
from typer.testing import CliRunner

from kinko.cli.common import console, state
from kinko.cli.main import app
from kinko.context import Context

# What --json promises for times: ISO 8601 in UTC, microseconds, Z.
ISO_Z = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$")
COLUMNS = 80


def narrow_cli(ctx: Context, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    """A runner on `ctx`'s database whose console is 80 columns wide, as a small terminal."""
    monkeypatch.setenv("KINKO_DATABASE_URL", ctx.settings.resolved_database_url)
    monkeypatch.setenv("KINKO_LOG_JSON", "false")
    monkeypatch.setenv("COLUMNS", str(COLUMNS))
    monkeypatch.setattr(state, "data_dir", ctx.settings.data_dir)
    monkeypatch.setattr(console, "width", COLUMNS)
    return CliRunner()


def kinko(runner: CliRunner, *args: str, env: dict[str, str] | None = None) -> Result:
    """`kinko ARGS` (with `env`: e.g. a person's session, tests/support/cli_api.py)."""
    return runner.invoke(app, ["--data-dir", str(state.data_dir), *args], env=env)


def json_out(result: Result) -> Any:
    """The JSON document a --json command printed on stdout (only that on stdout)."""
    return json.loads(result.stdout)


def assert_iso(value: object) -> None:
    assert isinstance(value, str) and ISO_Z.match(value), value
