"""`kinko serve --workers`: refused before anything starts when it cannot work (several
processes on SQLite, or on PostgreSQL without Redis; a port in use)."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
from typer.testing import CliRunner

from kinko.cli.main import app

runner = CliRunner()


def test_worker_count_is_checked() -> None:
    result = runner.invoke(app, ["serve", "--workers", "0"])
    assert result.exit_code == 2
    assert "--workers: must be 1 to 64" in result.output


def test_a_port_in_use_is_refused(tmp_path: Path) -> None:
    """Exit 2 naming the fix (uvicorn alone exited 3)."""
    data = tmp_path / "data"
    assert runner.invoke(app, ["init", "--data-dir", str(data)]).exit_code == 0
    with socket.socket() as other:
        other.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        other.bind(("127.0.0.1", 0))
        other.listen()
        port = other.getsockname()[1]
        result = runner.invoke(
            app,
            ["--data-dir", str(data), "serve", "--port", str(port)],
            env={"KINKO_LOG_JSON": "false"},
        )
    assert result.exit_code == 2, result.output
    message = " ".join(result.output.split())
    assert f"cannot listen on 127.0.0.1:{port} (Address already in use)" in message
    assert "choose another --port" in message


def test_several_processes_on_sqlite_are_refused_naming_the_fix(tmp_path: Path) -> None:
    """SQLite is served by one process: --workers 2 is exit 2, pointing at PostgreSQL +
    Redis, before anything starts."""
    data = tmp_path / "data"
    assert runner.invoke(app, ["init", "--data-dir", str(data)]).exit_code == 0
    result = runner.invoke(
        app, ["--data-dir", str(data), "serve", "--workers", "2"], env={"KINKO_LOG_JSON": "false"}
    )
    assert result.exit_code == 2, result.output
    message = " ".join(result.output.split())
    assert "--workers: 2 processes on SQLite" in message
    assert "PostgreSQL + Redis" in message and "docs/serving.md" in message


@pytest.mark.parametrize("backend", ["postgresql"])
def test_several_processes_on_postgresql_need_redis(
    tmp_path: Path, empty_database_url: str
) -> None:
    """Without Redis the processes' events would meet N monitors, each seeing a part:
    refused at start (exit 2), naming redis_url."""
    result = runner.invoke(
        app,
        ["--data-dir", str(tmp_path / "data"), "serve", "--workers", "2"],
        env={"KINKO_LOG_JSON": "false", "KINKO_DATABASE_URL": empty_database_url},
    )
    assert result.exit_code == 2, result.output
    message = " ".join(result.output.split())
    assert "redis_url: --workers 2 on PostgreSQL needs Redis" in message
    assert "KINKO_REDIS_URL" in message


@pytest.mark.parametrize("command", [["signer", "serve"], ["demo"]], ids=" ".join)
def test_other_servers_refuse_a_port_in_use_before_starting(
    tmp_path: Path, command: list[str]
) -> None:
    """Exit 2 at once (the demo does not walk first), not uvicorn's exit 3 afterwards."""
    data = tmp_path / "data"
    with socket.socket() as other:
        other.bind(("127.0.0.1", 0))
        other.listen()
        port = other.getsockname()[1]
        result = runner.invoke(
            app,
            ["--data-dir", str(data), *command, "--host", "127.0.0.1", "--port", str(port)],
            env={"KINKO_LOG_JSON": "false"},
        )
    assert result.exit_code == 2, result.output
    assert f"cannot listen on 127.0.0.1:{port}" in " ".join(result.output.split())
    assert not data.exists()
