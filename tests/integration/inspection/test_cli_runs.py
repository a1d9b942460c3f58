"""``kinko inspect run`` from the command line, on both databases: the report is written
and named, bad options exit 2 naming the option. Days derive from the real time."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

from kinko.context import Context
from tests.integration.inspection.test_cli_snapshots import as_json, kinko
from tests.integration.inspection.test_runs import BAD_DAY, DAYS, END, record, vkey
from tests.support.clock import RUN_DAY
from tests.unit.inspection.seed import snapshot

__all__ = ["vkey"]  # the fixture, shared with test_runs


def test_run_writes_the_json_report_and_says_where(ctx: Context, vkey: str, tmp_path: Path) -> None:
    record(ctx, [snapshot(d, cold=94_900_000 if d == BAD_DAY else 97_000_000) for d in DAYS])
    out = tmp_path / "reports"
    code, output = kinko(
        ctx, "inspect", "run", "--framework", "jp", "--from", DAYS[0].isoformat(),
        "--to", END.isoformat(), "--format", "json", "--out", str(out), "--json",
    )  # fmt: skip
    assert code == 0, output
    said = as_json(output)
    path = Path(said["report"])
    assert path.parent == out and path.name == f"inspection-jp-{DAYS[0]}-{END}.json"
    report = json.loads(path.read_bytes())
    [cus01] = [f for f in report["findings"] if f["control"] == "CUS-01"]
    assert cus01["status"] == "fail" and cus01["failures"][0]["from"] == BAD_DAY.isoformat()
    assert said["summary"] == report["summary"]
    code, output = kinko(
        ctx, "inspect", "run", "--framework", "jp", "--from", DAYS[0].isoformat(),
        "--to", END.isoformat(), "--out", str(out),
    )  # fmt: skip
    assert code == 0 and str(path) in output.replace("\n", "") and "1 fail" in output


def test_run_refuses_bad_options_naming_them(ctx: Context, tmp_path: Path) -> None:
    out = str(tmp_path / "reports")
    tomorrow = (RUN_DAY + timedelta(days=1)).isoformat()
    cases = [
        (["--format", "html,docx"], "--format", "not a report format"),
        (["--format", ","], "--format", "name one or more"),
        (["--format", "xml"], "--format", "not a report format"),
        (["--framework", "nist"], "--framework", "jp, kr, ccss, all"),
        (["--to", tomorrow], "--to", "after today"),
        (["--from", "2026-13-01"], "--from", "YYYY-MM-DD"),
    ]
    for args, option, words in cases:
        code, output = kinko(ctx, "inspect", "run", *args, "--out", out, "--json")
        assert code == 2, (args, output)
        error = as_json(output)
        assert error["field"] == option and words in error["message"], (args, error)
    code, output = kinko(ctx, "inspect", "run", "--json")
    assert code == 2 and as_json(output)["field"] == "--out"
    assert not (tmp_path / "reports").exists()
