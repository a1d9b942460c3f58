"""GOV-02 records its 5-5-7 ratios (passing or not) for the reader, and the HTML report
draws them against their minimums (kinko.inspection.charts.ratios)."""

from __future__ import annotations

import json
import re
from datetime import timedelta

from kinko.identity.sod import DEFAULT_MATRIX
from kinko.inspection import report as reports
from kinko.inspection.catalogue import Framework, packaged
from kinko.inspection.evaluate import Evidence, Held, Period, evaluate
from kinko.inspection.html_report import render
from kinko.inspection.register import Kind
from tests.support.clock import RUN_DAY
from tests.unit.inspection.register_seed import at, good_records, history, records
from tests.unit.inspection.seed import DECIMALS, days, snapshot

END = RUN_DAY - timedelta(days=1)
BAR = re.compile(r'fill="(#[0-9a-f]{6})"><title>\d{4}: ([^:<]+):')
DAYS = days(END, 3)


def report_with_security_budget(budget: int) -> bytes:
    raw = good_records(DAYS[0])
    for item in raw[Kind.STAFFING]:
        if item["function"] == "security":
            item["budget_minor"] = budget  # of an IT budget of 10**9
    register = history((r, at(DAYS[0] - timedelta(days=1))) for r in records(raw))
    held = {d: Held.of(snapshot(d)) for d in DAYS}
    evidence = Evidence(held, DECIMALS, DEFAULT_MATRIX, None, register)
    period = Period(DAYS[0], END)
    catalogue = packaged()
    findings = evaluate(catalogue, Framework.KR, period, evidence)
    built = reports.build(catalogue, Framework.KR, period, findings, evidence, [], None)
    return reports.encode(built)


def test_the_ratios_are_recorded_passing_or_failing_and_drawn() -> None:
    low = report_with_security_budget(5 * 10**7)  # 5% of the IT budget: under 7%
    gov02 = next(f for f in json.loads(low)["findings"] if f["control"] == "GOV-02")
    measures = {m["name"].split(": ", 1)[1]: m for m in gov02["measures"]}
    assert measures["security budget / IT budget"]["value"] == "0.0500"
    assert measures["security budget / IT budget"]["minimum"] == "0.07"
    assert measures["IT staff / all staff"]["value"] == "0.1000"  # passing, still shown
    html = render(low)
    assert "GOV-02: Each ratio" in html
    bars = {name: colour for colour, name in BAR.findall(html)}  # ratio -> its colour
    assert bars["security budget / IT budget"] == "#c62828"  # under its minimum: red
    assert bars["IT staff / all staff"] == bars["security staff / IT staff"] == "#2e7d32"
    assert "5% / 7%" in html

    enough = report_with_security_budget(10**8)  # 10%: every ratio holds
    gov02 = next(f for f in json.loads(enough)["findings"] if f["control"] == "GOV-02")
    assert gov02["status"] == "pass" and len(gov02["measures"]) >= 3
    assert {colour for colour, _ in BAR.findall(render(enough))} == {"#2e7d32"}


def test_a_control_without_ratios_writes_none() -> None:
    report = json.loads(report_with_security_budget(10**8))
    assert all("measures" not in f for f in report["findings"] if f["control"] != "GOV-02")
