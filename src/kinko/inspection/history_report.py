"""The trend across inspection runs as one HTML page (pure): findings over time.

`render(runs)` takes the runs `kinko inspect history --json` lists (oldest first) and
writes a self-contained page (inline CSS and SVG, no script, nothing fetched): a stacked
bar per run of its controls per status (`charts.stacked`), then a table with each count
and its change since the previous run of the same framework, and the report's digest. The
same runs give the same page. It is a view of the audit log's ``inspection.run``
entries, not a signed report: each report's own digest is in it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from html import escape
from typing import Any

from kinko.inspection import charts

STATUS_NAMES: Mapping[str, str] = {
    "pass": "pass",
    "fail": "fail",
    "insufficient_evidence": "insufficient evidence",
    "manual": "manual",
    "not_applicable": "not applicable",
}


def _cell(run: Mapping[str, Any], status: str) -> str:
    n = int(run["summary"][status])
    change = run.get("change")
    delta = 0 if change is None else int(change[status])
    return f"{n}" if not delta else f"{n} ({delta:+d})"


def render(runs: Sequence[Mapping[str, Any]]) -> str:
    """The page of `runs` (each: time, framework, from, to, summary, change, digest)."""
    rows = [
        (f"{str(r['time'])[:16].replace('T', ' ')} {r['framework']}", r["summary"]) for r in runs
    ]
    chart = (
        charts.stacked(rows, STATUS_NAMES, title="Controls per status, per run")
        if rows
        else "<p>No inspection run yet.</p>"
    )
    head = "".join(f"<th>{escape(STATUS_NAMES[s])}</th>" for s in charts.STATUS_COLOURS)
    body = "".join(
        "<tr>"
        f"<td>{escape(str(r['time']))}</td><td>{escape(str(r['framework']))}</td>"
        f"<td>{escape(str(r['from']))} .. {escape(str(r['to']))}</td>"
        + "".join(f'<td class="n">{escape(_cell(r, s))}</td>' for s in charts.STATUS_COLOURS)
        + f'<td class="digest">{escape(str(r["digest"]))}</td></tr>'
        for r in runs
    )
    return (
        '<!DOCTYPE html>\n<html xmlns="http://www.w3.org/1999/xhtml" lang="en">\n<head>'
        '<meta charset="utf-8" /><title>Kinko: inspection runs over time</title><style>'
        "body { font-family: 'DejaVu Sans', sans-serif; font-size: 10pt; color: #212121; }"
        "table { border-collapse: collapse; } th, td { border: 1px solid #bdbdbd; "
        "padding: 2pt 4pt; } td.n { text-align: right; } "
        ".digest { font-family: monospace; font-size: 7pt; word-break: break-all; }"
        "</style></head>\n<body>\n<h1>Inspection runs over time</h1>\n"
        "<p>Each run's controls per status (from the audit log's inspection.run entries, "
        "oldest first); in the table, the change since the previous run of the same "
        f"framework.</p>\n{chart}\n<table><tr><th>when (UTC)</th><th>framework</th>"
        f"<th>period</th>{head}<th>report SHA-256</th></tr>{body}</table>\n</body>\n</html>\n"
    )
