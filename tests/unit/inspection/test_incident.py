"""The incident notification draft (kinko.inspection.incident): pure, no database."""

from __future__ import annotations

from datetime import timedelta

import pytest

from kinko.core.deadlines import parse_deadlines
from kinko.core.errors import InputError
from kinko.inspection.catalogue import packaged
from kinko.inspection.incident import (
    AlertFacts,
    Basis,
    ResponseFacts,
    bases_of,
    draft,
    funds_of,
)
from tests.support.clock import RUN_STARTED

DETECTED = RUN_STARTED


def alert(**evidence: object) -> AlertFacts:
    return AlertFacts(
        id="a1",
        rule_id="kinko-hot-outflow-without-withdrawal",
        title="Hot wallet outflow without a withdrawal",
        level="critical",
        created_at=DETECTED,
        evidence=evidence,
    )


FREEZE = ResponseFacts("freeze", "w1", "applied", DETECTED + timedelta(seconds=1))
LOCK = ResponseFacts("lock_account", "user:bob", "withheld", DETECTED)


def test_the_draft_says_what_when_funds_and_actions_in_order() -> None:
    found = draft(
        alert(wallet="w1", asset="ETH", amount=5_000_000_000_000_000_000),
        [FREEZE, LOCK],
        DETECTED + timedelta(hours=2),
    )
    assert found.what == "Hot wallet outflow without a withdrawal"
    assert found.detected_at == DETECTED
    assert (found.funds.wallet, found.funds.asset, found.funds.amount) == (
        "w1",
        "ETH",
        5_000_000_000_000_000_000,
    )
    assert [(a.action, a.target, a.status) for a in found.actions] == [
        ("lock_account", "user:bob", "withheld"),
        ("freeze", "w1", "applied"),
    ]
    doc = found.to_json()
    assert doc["funds"] == {
        "wallet": "w1",
        "asset": "ETH",
        "amount": 5_000_000_000_000_000_000,
        "unit": "base_units",
    }
    assert [r["elapsed_s"] for r in doc["regimes"]] == [7200, 7200]


@pytest.mark.parametrize(
    "evidence",
    [{}, {"wallet": "w1", "asset": "ETH", "amount": 1.5}, {"amount": True}, {"amount": "5"}],
)
def test_funds_the_evidence_does_not_name_in_base_units_are_unknown(
    evidence: dict[str, object],
) -> None:
    funds = funds_of(evidence)
    assert funds.amount is None
    assert "amount unknown" in funds.describe()
    if "wallet" not in evidence:
        assert (funds.wallet, funds.asset) == ("unknown", "unknown")


def test_only_a_sourced_deadline_is_taken_japan_has_none() -> None:
    found = draft(alert(), [], DETECTED + timedelta(days=3), bases=bases_of(packaged()))
    jp, kr = found.regimes
    assert (jp.regime, kr.regime) == ("jp", "kr")
    assert jp.deadline is None and jp.overdue is None  # no jp source states a number
    assert jp.basis.startswith("not set: the catalogue cites no jp source")
    # Korea: the Network Act's 24 hours (a verified reference, report_within_kr)
    assert kr.deadline == timedelta(hours=24) and kr.overdue is True
    assert kr.basis.startswith("set from the source: Network Act")
    assert "24 hours" in kr.basis
    assert found.to_json()["regimes"][0]["deadline_s"] is None
    assert found.to_json()["regimes"][1]["deadline_s"] == 24 * 3600


def test_the_organisations_deadline_wins_over_the_sourced_one() -> None:
    bases = bases_of(packaged())
    found = draft(alert(), [], DETECTED + timedelta(hours=3), bases=bases,
                  deadlines={"kr": timedelta(hours=2)})  # fmt: skip
    kr = found.regimes[1]
    assert kr.deadline == timedelta(hours=2) and kr.overdue is True
    assert kr.basis == "set by the organisation"


def test_deadlines_are_parsed_naming_the_field() -> None:
    assert parse_deadlines(["jp=24h", " kr=30m"]) == {
        "jp": timedelta(hours=24),
        "kr": timedelta(minutes=30),
    }
    with pytest.raises(InputError, match="incident_report_deadlines: 'us=1h' is not"):
        parse_deadlines(["us=1h"], "incident_report_deadlines")
    with pytest.raises(InputError, match="jp is given twice"):
        parse_deadlines(["jp=1h", "jp=2d"])


def test_the_organisations_deadline_is_measured_against() -> None:
    deadlines = {"jp": timedelta(hours=1), "kr": timedelta(hours=4)}
    found = draft(alert(), [], DETECTED + timedelta(hours=2), deadlines=deadlines)
    jp, kr = found.regimes
    assert (jp.overdue, kr.overdue) == (True, False)
    assert kr.remaining == timedelta(hours=2)
    assert jp.basis == "set by the organisation"


def test_a_deadline_only_from_a_verified_source() -> None:
    bases = {
        "jp": Basis("jp", "within 24 hours", verified=True, deadline=timedelta(hours=24)),
        "kr": Basis("kr", "without delay", verified=False, deadline=timedelta(hours=1)),
    }
    jp, kr = draft(alert(), [], DETECTED + timedelta(hours=2), bases=bases).regimes
    assert jp.deadline == timedelta(hours=24) and jp.basis.startswith("set from the source")
    assert kr.deadline is None and kr.basis == (
        'not set: the source says "without delay" (unverified) and states no number'
    )


def test_bad_regimes_and_naive_times_are_refused() -> None:
    with pytest.raises(ValueError, match="unknown regime 'us'"):
        draft(alert(), [], DETECTED, deadlines={"us": timedelta(hours=1)})
    with pytest.raises(ValueError, match="timezone"):
        draft(alert(), [], DETECTED.replace(tzinfo=None))
