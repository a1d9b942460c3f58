"""`kinko serve --workers`: refused before anything starts when it cannot work, and a
worker that cannot reach its monitor does not start (it would serve unmonitored)."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
from typer.testing import CliRunner
from uvicorn.config import STARTUP_FAILURE

from kinko.cli.main import app
from kinko.config import Settings
from kinko.serving.supervisor import SPEC_ENV, WorkerSpec
from kinko.serving.worker import build_worker_app

runner = CliRunner()


def test_worker_count_is_checked() -> None:
    result = runner.invoke(app, ["serve", "--workers", "0"])
    assert result.exit_code == 2
    assert "--workers: must be 1 to 64" in result.output


@pytest.mark.parametrize("workers", ["1", "2"])
def test_a_port_in_use_is_refused_not_shared(tmp_path: Path, workers: str) -> None:
    """Exit 2 naming the fix (one worker: uvicorn alone exited 3). With workers,
    SO_REUSEPORT would otherwise join another server's group and split its traffic."""
    data = tmp_path / "data"
    assert runner.invoke(app, ["init", "--data-dir", str(data)]).exit_code == 0
    with socket.socket() as other:
        other.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        other.bind(("127.0.0.1", 0))
        other.listen()
        port = other.getsockname()[1]
        result = runner.invoke(
            app,
            ["--data-dir", str(data), "serve", "--workers", workers, "--port", str(port)],
            env={"KINKO_LOG_JSON": "false"},
        )
    assert result.exit_code == 2, result.output
    message = " ".join(result.output.split())
    assert f"cannot listen on 127.0.0.1:{port} (Address already in use)" in message
    assert "choose another --port" in message


def test_a_worker_without_its_monitor_does_not_start(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    spec = tmp_path / "worker.json"
    settings = Settings(data_dir=tmp_path, log_json=False)
    WorkerSpec(settings, tmp_path / "no-hub.sock", supervisor_pid=1).write(spec)
    monkeypatch.setenv(SPEC_ENV, str(spec))
    with pytest.raises(SystemExit) as exited:
        build_worker_app()
    assert exited.value.code == STARTUP_FAILURE


def test_a_worker_needs_its_supervisor(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(SPEC_ENV, raising=False)
    with pytest.raises(SystemExit) as exited:
        build_worker_app()
    assert exited.value.code == STARTUP_FAILURE


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
