"""`kinko replay` refuses what it cannot run, naming the field (exit 2), before any work."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from kinko.cli.main import app


def test_unknown_replay_is_exit_2_naming_it() -> None:
    result = CliRunner().invoke(app, ["replay", "mtgox-2014"])
    assert result.exit_code == 2, result.output
    assert "name" in result.output and "dmm-bitcoin-2024" in result.output


def test_json_file_in_a_missing_directory_is_exit_2(tmp_path: Path) -> None:
    target = tmp_path / "nowhere" / "out.json"
    result = CliRunner().invoke(app, ["replay", "bybit-2025", "--json", str(target)])
    assert result.exit_code == 2, result.output
    assert "--json" in result.output and not target.exists()
