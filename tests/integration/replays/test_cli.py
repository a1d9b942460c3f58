"""`kinko replay NAME --json FILE`: one replay on a throwaway exchange of its own, its
table on stdout, the JSON document (docs/replays.md) in the file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from kinko.cli.main import app

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def test_replay_writes_the_documented_json(tmp_path: Path) -> None:
    target = tmp_path / "replays.json"
    result = CliRunner().invoke(app, ["replay", "wazirx-2024", "--json", str(target)])
    assert result.exit_code == 0, result.output
    assert "| wazirx-2024 |" in result.output and "**stopped**" in result.output
    (doc,) = json.loads(target.read_text())["replays"]
    assert doc["schema"] == "kinko.replay/1" and doc["outcome"] == "stopped"
    assert doc["loss_units"] == "0" and doc["attempted_units"] == str(100_000 * 10**18)
    names = [c["name"] for c in doc["controls"]]
    assert "signer:dangerous_call" in names
    assert all(isinstance(s, int) for c in doc["controls"] for s in c["audit_seqs"])
    assert doc["historical"]["sources"] and doc["not_prevented"]
