"""Commands run before `kinko init`: one sentence and exit 2, never a traceback or a file."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from kinko.cli.main import app

runner = CliRunner()
COMMANDS = [
    ("user", "list"),
    ("audit", "checkpoint"),
    ("lists", "show"),
    ("custody", "status"),
    ("withdraw", "list"),
    ("monitor", "alerts", "list"),
    ("policy", "show"),
]


def run(data: Path, *args: str, env: dict[str, str] | None = None) -> tuple[int, str]:
    result = runner.invoke(app, ["--data-dir", str(data), *args], env=env or {})
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.output, result.output
    return result.exit_code, " ".join(result.output.split())


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_a_missing_data_dir_says_to_run_init(tmp_path: Path, command: tuple[str, ...]) -> None:
    data = tmp_path / "nowhere"
    code, out = run(data, *command)
    assert code == 2, out
    assert f"{data} does not exist: run 'kinko init --data-dir {data}' first" in out
    assert not data.exists()


@pytest.mark.parametrize("command", COMMANDS[:3], ids=" ".join)
def test_an_empty_data_dir_says_to_run_init_and_stays_empty(
    tmp_path: Path, command: tuple[str, ...]
) -> None:
    data = tmp_path / "data"
    data.mkdir()
    code, out = run(data, *command)
    assert code == 2, out
    assert f"{data} is not initialised: run 'kinko init --data-dir {data}' first" in out
    assert list(data.iterdir()) == []


def test_a_database_without_kinko_tables_says_to_run_init_then_init_works(
    tmp_path: Path, empty_database_url: str
) -> None:
    """SQLite (an empty file) and PostgreSQL (an empty database)."""
    data = tmp_path / "data"
    data.mkdir()
    env = {"KINKO_DATABASE_URL": empty_database_url}
    if empty_database_url.startswith("sqlite"):
        Path(empty_database_url.removeprefix("sqlite:///")).touch()
    code, out = run(data, "user", "list", env=env)
    assert code == 2 and "is not initialised (the database at" in out
    assert f"run 'kinko init --data-dir {data}' first" in out
    code, out = run(tmp_path, "init", "--data-dir", str(data), env=env)
    assert code == 0, out
    code, out = run(data, "user", "list", env=env)
    assert code == 0 and "admin" in out
