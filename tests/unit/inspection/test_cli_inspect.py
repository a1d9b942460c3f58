"""`kinko inspect controls`: the catalogue listed, per framework, as a table or JSON."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from kinko.cli.main import app
from kinko.inspection.catalogue import Framework, packaged


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, ["inspect", "controls", *args], env={"KINKO_CONFIG": ""})
    return result.exit_code, result.stdout


def test_json_lists_every_control_with_its_references() -> None:
    code, out = run("--json")
    assert code == 0
    doc = json.loads(out)
    assert doc["catalogue"] == packaged().version
    assert doc["framework"] == "all"
    assert [c["id"] for c in doc["controls"]] == [c.id for c in packaged().controls]
    first = doc["controls"][0]
    assert set(first) == {"id", "title", "decision", "references"}
    assert set(first["references"][0]) == {
        "framework", "citation", "levels", "verified", "source", "where", "note",
    }  # fmt: skip


def test_json_for_one_framework_lists_only_its_controls_and_references() -> None:
    code, out = run("--framework", "ccss", "--json")
    assert code == 0
    doc = json.loads(out)
    expected = [c.id for c in packaged().for_framework(Framework.CCSS)]
    assert [c["id"] for c in doc["controls"]] == expected
    assert "CUS-01" not in expected  # no CCSS reference (docs/inspection.md)
    for control in doc["controls"]:
        assert control["references"]
        for reference in control["references"]:
            assert reference["framework"] == "ccss"
            assert reference["levels"]


def test_the_table_names_each_control_and_marks_unverified_references() -> None:
    code, out = run("--framework", "kr")
    assert code == 0
    assert "CUS-02" in out and "GOV-02" in out
    assert "CUS-01" not in out  # a jp-only control
    assert "unverified" in out


def test_an_unknown_framework_is_a_usage_error() -> None:
    code, _ = run("--framework", "soc2")
    assert code == 2
