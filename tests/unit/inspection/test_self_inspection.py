"""The FSA's self-inspection items of 2024-09-26 answered from findings
(kinko.inspection.self_inspection), and carried by the jp report (JSON and HTML) only."""

from __future__ import annotations

import json
from typing import Any

import pytest

from kinko.core.errors import InputError
from kinko.inspection.catalogue import Framework, packaged
from kinko.inspection.html_report import render
from kinko.inspection.self_inspection import Item, answer, packaged_items, parse_items
from tests.unit.inspection.report_seed import sample_report


def finding(control: str, status: str, failures: int = 0) -> dict[str, Any]:
    return {"control": control, "status": status, "reason": f"{control} said {status}",
            "failures": [{}] * failures, "evidence": ["2026-01-01"]}  # fmt: skip


SEVERAL = Item("X-1", "h", "ja", "en", "read", ("KEY-01", "TXN-01", "IAM-03"))
ATTESTED = Item("X-2", "h", "ja", "en", "read", ("TXN-01",), "the rules are a document")


def test_one_failing_control_fails_the_item_and_is_named() -> None:
    found = [finding("KEY-01", "pass"), finding("TXN-01", "pass"),
             finding("IAM-03", "fail", failures=2)]  # fmt: skip
    [item] = answer([SEVERAL], found)
    assert item["status"] == "fail"
    assert item["answer"] == "No: the evidence shows it not held (IAM-03 fail)."
    assert [(e["control"], e["status"], e["failures"]) for e in item["evidence"]] == [
        ("KEY-01", "pass", 0),
        ("TXN-01", "pass", 0),
        ("IAM-03", "fail", 2),
    ]


def test_holding_controls_pass_or_need_a_persons_word() -> None:
    found = [finding(c, "pass") for c in ("KEY-01", "TXN-01", "IAM-03")]
    plain, attested = answer([SEVERAL, ATTESTED], found)
    assert plain["status"] == "pass" and plain["answer"].startswith("Yes")
    assert attested["status"] == "manual"
    assert "the rules are a document" in attested["answer"]


def test_missing_evidence_or_a_control_not_reported_is_never_a_pass() -> None:
    lacking = [finding("KEY-01", "pass"), finding("TXN-01", "insufficient_evidence"),
               finding("IAM-03", "pass")]  # fmt: skip
    assert answer([SEVERAL], lacking)[0]["status"] == "insufficient_evidence"
    [absent] = answer([SEVERAL], [finding("KEY-01", "pass")])
    assert absent["status"] == "insufficient_evidence"
    assert absent["evidence"][1]["reason"] == "not in this report"


def test_the_packaged_items_name_jp_controls_and_a_wrong_one_is_refused() -> None:
    items = packaged_items(packaged())
    assert [i.id for i in items] == ["FSA-M-1", "FSA-W-1a", "FSA-W-1b", "FSA-W-1c",
                                     "FSA-W-1d", "FSA-W-1e", "FSA-W-1f"]  # fmt: skip
    assert {c for i in items for c in i.controls} >= {"KEY-09", "CUS-10", "TXN-02", "GOV-04"}
    raw = {"items": [{"id": "A", "heading": "h", "ja": "j", "en": "e", "read_in": "r",
                      "controls": ["KEY-01", "IR-01"]}]}  # fmt: skip
    with pytest.raises(InputError, match=r"items\[0\].controls\[1\]: 'IR-01' is no jp control"):
        parse_items(raw, packaged())


def test_the_jp_report_carries_the_items_and_the_kr_report_does_not() -> None:
    encoded = sample_report(Framework.JP)
    report = json.loads(encoded)
    items = report["self_inspection"]["items"]
    assert len(items) == 7 and items[4]["item"] == "FSA-W-1d"
    assert items[4]["evidence"][0]["control"] == "CUS-10"
    html = render(encoded)
    assert 'id="self-inspection"' in html and "FSA-W-1e" in html
    kr = sample_report(Framework.KR)
    assert "self_inspection" not in json.loads(kr)
    assert 'id="self-inspection"' not in render(kr)
