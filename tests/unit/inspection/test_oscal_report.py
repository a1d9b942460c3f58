"""OSCAL assessment results from the JSON report (issue #16 point 5): built with
compliance-trestle's models, validated by trestle, the same bytes for the same report;
trestle's validation does refuse a broken document."""

from __future__ import annotations

import json

import pytest

from kinko.core.errors import InputError
from kinko.inspection import oscal_report
from kinko.inspection.catalogue import Framework
from tests.unit.inspection.report_seed import sample_report


def test_assessment_results_are_valid_and_map_each_status() -> None:
    encoded = sample_report(Framework.JP)
    data = oscal_report.encode(oscal_report.build(encoded, "r.json"))
    assert data == oscal_report.encode(oscal_report.build(encoded, "r.json"))
    model = oscal_report.validate(data)
    [result] = model.results
    report = json.loads(encoded)
    assert len(result.findings) == len(report["findings"])
    by_id = {f.target.target_id: f for f in result.findings}
    for finding in report["findings"]:
        target = by_id[finding["control"].lower() + "_obj"].target.status
        wanted = "satisfied" if finding["status"] == "pass" else "not-satisfied"
        assert target.state.value == wanted
    [resource] = model.back_matter.resources
    assert resource.rlinks[0].hashes[0].value in json.dumps(json.loads(data))


def test_trestle_refuses_a_broken_document_naming_oscal() -> None:
    data = json.loads(oscal_report.encode(oscal_report.build(sample_report(Framework.KR), "r")))
    result = data["assessment-results"]["results"][0]
    result["observations"].append(result["observations"][0])  # a duplicate uuid
    with pytest.raises(InputError) as excinfo:
        oscal_report.validate(json.dumps(data).encode())
    assert excinfo.value.field == "oscal" and "duplicate" in excinfo.value.message
    result["observations"].pop()
    result["findings"][0]["target"]["status"]["state"] = "maybe"
    with pytest.raises(InputError):
        oscal_report.validate(json.dumps(data).encode())
