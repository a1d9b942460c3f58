"""`kinko lists load|rescreen|show --json` shapes; version ids whole at 80 columns."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from kinko.context import Context
from tests.support.cli import json_out, kinko, narrow_cli
from tests.support.cli_api import as_person, route_cli_to_api
from tests.support.identity import make_user

FIXTURES = Path(__file__).parents[2] / "fixtures" / "screening"


@pytest.fixture
def cli(ctx: Context, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> CliRunner:
    """At 80 columns; commands go to the API on `ctx` as a security admin (lists are
    loaded with screening:write, by a person with their own session)."""
    monkeypatch.setenv("KINKO_CONFIG", "")
    route_cli_to_api(ctx, monkeypatch, tmp_path / "config")
    make_user(ctx, "keeper", ["security_admin"], with_authenticator=False)
    for name, value in as_person(ctx, "keeper").items():
        monkeypatch.setenv(name, value)
    return narrow_cli(ctx, monkeypatch)


def test_load_rescreen_and_show(cli: CliRunner) -> None:
    listing = str(FIXTURES / "sdn_advanced_excerpt.xml")
    result = kinko(cli, "lists", "load", listing, "--json")
    assert result.exit_code == 0, result.output
    loaded = json_out(result)
    [version] = loaded["versions"]
    assert version["list"] == "ofac-sdn" and version["id"].startswith("lv")
    assert version["entities"] > 0 and version["addresses"] > 0
    assert "XMR" in version["unknown_tickers"]
    assert len(version["sha256"]) == 64 and version["active"] is True
    assert loaded["unchanged"] == [] and loaded["alerts"] == []

    again = json_out(kinko(cli, "lists", "load", listing, "--json"))
    assert again == {"versions": [], "unchanged": ["ofac-sdn"], "proposed": [], "alerts": []}

    result = kinko(cli, "lists", "rescreen", "--json")
    assert result.exit_code == 0, result.output
    assert json_out(result) == {"alerts": []}

    result = kinko(cli, "lists", "show")
    assert result.exit_code == 0, result.output
    assert version["id"] in result.stdout


def test_screen_and_load_errors_as_json(cli: CliRunner, tmp_path: Path) -> None:
    address = "0x098B716B8Aaf21512996dC57EB0615e2383E2F96"  # a broken EIP-55 checksum
    result = kinko(cli, "screen", "address", address, "--json")
    assert result.exit_code == 2
    error = json_out(result)
    assert error["ok"] is False and error["error"] == "invalid_input"

    empty = tmp_path / "list.csv"
    empty.write_bytes(b"")
    plain = kinko(cli, "lists", "load", str(empty))
    result = kinko(cli, "lists", "load", str(empty), "--json")
    assert result.exit_code == plain.exit_code == 2
    assert json_out(result)["ok"] is False
