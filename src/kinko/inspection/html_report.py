"""The HTML inspection report, rendered from the JSON report's bytes (pure).

`render(encoded)` reads a ``kinko.inspection.report/1`` document and writes one
self-contained HTML page (Jinja2, autoescaped; inline CSS and SVG, no script, no asset
from elsewhere): a summary first (controls per status and per framework, as numbers and a
chart), then each control with its status, rule, parameters, references, failures (days,
values, limits, row digests), missing evidence and the days it used, and a chart of the
daily value against its threshold where the run gave a series (the cold shares). English,
with Japanese beside it for framework ``jp`` and Korean for ``kr`` (report_labels.yaml).
The same JSON gives the same HTML. WeasyPrint lays it out as the PDF (`pdf_report`).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation
from functools import cache
from importlib import resources
from typing import Any

import yaml
from jinja2 import Environment, StrictUndefined
from markupsafe import Markup, escape

from kinko.core.errors import InputError
from kinko.inspection import charts

SCHEMA = "kinko.inspection.report/1"
FRAMEWORK_ORDER = ("jp", "kr", "ccss", "nist")
SECOND_LANGUAGE = {"jp": "ja", "kr": "ko"}


@cache
def _labels() -> dict[str, Any]:
    text = resources.files("kinko.inspection").joinpath("report_labels.yaml").read_text("utf-8")
    loaded: dict[str, Any] = yaml.safe_load(text)
    return loaded


@cache
def _template() -> Any:
    env = Environment(autoescape=True, undefined=StrictUndefined, keep_trailing_newline=True)
    source = resources.files("kinko.inspection").joinpath("templates/report.html")
    return env.from_string(source.read_text("utf-8"))


@dataclass(frozen=True, slots=True)
class Words:
    """English, and the report's second language (or none)."""

    second: str | None

    def _pair(self, english: str, other: str | None) -> Markup:
        if self.second is None or not other:
            return escape(english)
        return Markup('{} <span class="tr" lang="{}">{}</span>').format(english, self.second, other)

    def __call__(self, key: str) -> Markup:
        labels = _labels()["labels"]
        other = labels[self.second][key] if self.second else None
        return self._pair(labels["en"][key], other)

    def status(self, status: str) -> Markup:
        labels = _labels()["labels"]
        other = labels[self.second]["statuses"][status] if self.second else None
        return self._pair(labels["en"]["statuses"][status], other)

    def decision(self, decision: str) -> Markup:
        labels = _labels()["labels"]
        other = labels[self.second]["decisions"][decision] if self.second else None
        return self._pair(labels["en"]["decisions"][decision], other)

    def title(self, control: str, english: str) -> Markup:
        other = _labels()["titles"].get(control, {}).get(self.second) if self.second else None
        return self._pair(english, other)


def _ranges(days: Sequence[str]) -> list[str]:
    """Consecutive days as ``first .. last`` ranges (a single day as itself)."""
    out: list[tuple[date, date]] = []
    for text in days:
        day = date.fromisoformat(text)
        if out and out[-1][1] + timedelta(days=1) == day:
            out[-1] = (out[-1][0], day)
        else:
            out.append((day, day))
    return [a.isoformat() if a == b else f"{a.isoformat()} .. {b.isoformat()}" for a, b in out]


def _threshold(parameters: Sequence[Mapping[str, Any]]) -> charts.Threshold | None:
    for p in parameters:
        name = str(p["name"])
        if name.startswith(("max_", "min_")) and p.get("unit") == "ratio":
            try:
                return charts.Threshold(Decimal(str(p["value"])), upper=name.startswith("max_"))
            except InvalidOperation:
                return None
    return None


def _chart(finding: Mapping[str, Any], period: Mapping[str, str], label: str) -> Markup | None:
    series = finding.get("series")
    threshold = _threshold(finding["parameters"])
    if not series or threshold is None:
        return None
    values: dict[str, Decimal | None] = {}
    for point in series:
        try:
            values[point["day"]] = Decimal(point["value"])
        except InvalidOperation:
            values[point["day"]] = None
    day, end = date.fromisoformat(period["from"]), date.fromisoformat(period["to"])
    points: list[tuple[date, Decimal | None]] = []
    while day <= end:
        points.append((day, values.get(day.isoformat())))
        day += timedelta(days=1)
    svg = charts.daily(points, threshold, label=f"{finding['control']}: {label}")
    return Markup(svg)  # noqa: S704 (charts escapes every text it writes)


def _ratio_chart(finding: Mapping[str, Any], label: str) -> Markup | None:
    """The ratios a control measured (GOV-02's 5-5-7) against their minimums."""
    measures = []
    for m in finding.get("measures") or ():
        try:
            value = None if m["value"] == "n/a" else Decimal(m["value"])
            measures.append((str(m["name"]), value, Decimal(m["minimum"])))
        except InvalidOperation:
            return None
    if not measures:
        return None
    svg = charts.ratios(measures, title=f"{finding['control']}: {label}")
    return Markup(svg)  # noqa: S704 (charts escapes every text it writes)


def _per_framework(findings: Sequence[Mapping[str, Any]]) -> list[tuple[str, dict[str, int]]]:
    statuses = list(charts.STATUS_COLOURS)
    rows = []
    for framework in FRAMEWORK_ORDER:
        counts = dict.fromkeys(statuses, 0)
        for f in findings:
            if any(r["framework"] == framework for r in f["references"]):
                counts[f["status"]] += 1
        if sum(counts.values()):
            rows.append((framework, counts))
    return rows


def parse(encoded: bytes) -> dict[str, Any]:
    """The JSON report, or `InputError` naming what is not one."""
    try:
        report = json.loads(encoded)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError("report", f"not a JSON report: {exc}") from None
    if not isinstance(report, dict) or report.get("schema") != SCHEMA:
        raise InputError("report", f"not a {SCHEMA} document")
    return report


def render(encoded: bytes) -> str:
    """The HTML page of the JSON report `encoded` (its exact bytes, digested on the page)."""
    report = parse(encoded)
    framework = report["framework"]
    words = Words(SECOND_LANGUAGE.get(framework))
    findings = report["findings"]
    english = _labels()["labels"]["en"]
    per_framework = _per_framework(findings)
    status_labels = dict(english["statuses"])
    summary_chart = charts.stacked(
        [(english["total"], report["summary"]), *per_framework],
        status_labels,
        title=english["per_framework"],
    )
    controls = [
        {
            **f,
            "title_words": words.title(f["control"], f["title"]),
            "status_words": words.status(f["status"]),
            "decision_words": words.decision(f["decision"]),
            "evidence_ranges": _ranges(f["evidence"]),
            "chart": _chart(f, report["period"], english["chart"]),
            "ratio_chart": _ratio_chart(f, english["ratio_chart"]),
        }
        for f in findings
    ]
    return str(
        _template().render(
            report=report,
            lang="en",
            second=words.second,
            t=words,
            digest=hashlib.sha256(encoded).hexdigest(),
            statuses=list(charts.STATUS_COLOURS),
            colours=charts.STATUS_COLOURS,
            per_framework=per_framework,
            summary_chart=Markup(summary_chart),  # noqa: S704 (escaped by charts)
            controls=controls,
        )
    )
