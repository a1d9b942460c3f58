"""The thin layers: exit codes, error shapes, health and the OpenAPI document."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from fastapi.testclient import TestClient
from typer.testing import CliRunner

from kinko import __version__
from kinko.cli.main import app
from kinko.context import Context
from kinko.server import create_app

runner = CliRunner()


def test_console_script_runs() -> None:
    exe = Path(sys.executable).with_name("kinko")
    out = subprocess.run([str(exe), "version"], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == __version__


def test_bad_configuration_exits_2_naming_the_field(tmp_path: Path) -> None:
    result = runner.invoke(
        app, ["--data-dir", str(tmp_path), "serve"], env={"KINKO_PORT": "seventy"}
    )
    assert result.exit_code == 2
    assert "port" in result.output and "KINKO_PORT" in result.output
    assert "Traceback" not in result.output


def test_serve_refuses_an_uninitialised_data_dir(tmp_path: Path) -> None:
    result = runner.invoke(app, ["--data-dir", str(tmp_path / "empty"), "serve"])
    assert result.exit_code == 2
    assert "kinko init" in result.output


def test_unknown_command_is_a_usage_error() -> None:
    result = runner.invoke(app, ["no-such-command"])
    assert result.exit_code == 2


def test_health_and_openapi(ctx: Context) -> None:
    client = TestClient(create_app(ctx))
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "version": __version__}
    spec = client.get("/openapi.json").json()
    assert spec["info"]["title"] == "Kinko"
    assert "/healthz" in spec["paths"]
