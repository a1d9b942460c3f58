"""MON-02 from the register's incident records (kinko.inspection.decisions_incidents): a
report later than its regime's deadline fails on the day the deadline passed, one never
made fails from then on, the organisation's setting wins over the sourced 24 hours, and
no incident recorded is never a pass. Times derive from the suite's clock."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest

from kinko.core.errors import InputError
from kinko.identity.sod import DEFAULT_MATRIX
from kinko.inspection.catalogue import packaged
from kinko.inspection.evaluate import Evidence, Finding, Held, Period, Status, evaluate
from kinko.inspection.register import Kind
from kinko.inspection.register_changes import parse_record
from tests.support.clock import RUN_DAY
from tests.unit.inspection.register_seed import at, history
from tests.unit.inspection.seed import DECIMALS, days, snapshot

END = RUN_DAY - timedelta(days=1)
DAYS = days(END, 7)


def utc(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def incident(ref: str, regime: str, detected: datetime, reported: datetime | None) -> Any:
    item = {"ref": ref, "title": "hot wallet drained", "regime": regime,
            "detected_at": utc(detected)}  # fmt: skip
    if reported is not None:
        item.update(reported_at=utc(reported), reported_to="KISA" if regime == "kr" else "FSA")
    return parse_record(Kind.INCIDENT, item)


def mon_02(*items: Any, deadlines: dict[str, timedelta] | None = None) -> Finding:
    register = history((r, at(DAYS[-1])) for r in items)  # recorded by the period's end
    held = {d: Held.of(snapshot(d)) for d in DAYS}
    evidence = Evidence(held, DECIMALS, DEFAULT_MATRIX, None, register, None, (),
                        deadlines)  # fmt: skip
    found = evaluate(packaged(), None, Period(DAYS[0], END), evidence)
    return next(f for f in found if f.control.id == "MON-02")


def detected(day_index: int, hour: int = 10) -> datetime:
    return at(DAYS[day_index]).replace(hour=hour)


def test_a_korean_report_after_24_hours_fails_on_the_day_the_deadline_passed() -> None:
    late = incident("INC-1", "kr", detected(1), detected(1) + timedelta(hours=28))
    in_time = incident("INC-2", "kr", detected(3), detected(3) + timedelta(hours=23))
    found = mon_02(late, in_time)
    assert found.status is Status.FAIL
    [failure] = found.failures
    assert (failure.start, failure.end) == (DAYS[2], DAYS[2])
    assert (failure.value, failure.limit) == ("28.00 hours", "24.00 hours")
    assert "INC-1" in failure.detail and "report_within_kr" in failure.detail
    assert failure.rows[0].path == "register[incident/INC-1]@v1"


def test_japan_has_no_sourced_deadline_so_the_organisation_defined_hour_applies() -> None:
    found = mon_02(incident("INC-3", "jp", detected(2), detected(2) + timedelta(hours=2)))
    assert found.status is Status.FAIL
    assert found.failures[0].limit == "1.00 hours"
    assert "max_notification_delay" in found.failures[0].detail


def test_the_organisations_setting_wins() -> None:
    item = incident("INC-3", "jp", detected(2), detected(2) + timedelta(hours=2))
    assert mon_02(item, deadlines={"jp": timedelta(hours=3)}).status is Status.PASS
    late = incident("INC-4", "kr", detected(2), detected(2) + timedelta(hours=13))
    found = mon_02(late, deadlines={"kr": timedelta(hours=12)})
    assert found.status is Status.FAIL
    assert "incident_report_deadlines" in found.failures[0].detail


def test_an_incident_never_reported_fails_from_its_deadline_to_the_period_end() -> None:
    found = mon_02(incident("INC-5", "kr", detected(2, hour=23), None))
    assert found.status is Status.FAIL
    assert [(f.start, f.end, f.value) for f in found.failures] == [
        (DAYS[3], DAYS[-1], "not reported")
    ]
    # detected on the period's last day: not yet due, so not late (and nothing else failed)
    pending = mon_02(incident("INC-6", "kr", detected(6), None))
    assert pending.status is Status.PASS


def test_no_incident_recorded_is_insufficient_evidence_never_a_pass() -> None:
    outside = incident("INC-7", "kr", detected(0) - timedelta(days=30), None)
    found = mon_02(outside)  # before the period: not judged here
    assert found.status is Status.INSUFFICIENT_EVIDENCE
    assert "no incident detected in the period" in found.reason


def test_an_incident_record_refuses_bad_times_naming_the_field() -> None:
    with pytest.raises(InputError, match="detected_at: '2026-05-31 13:26' is not a UTC time"):
        parse_record(Kind.INCIDENT, {"ref": "X", "title": "t", "regime": "jp",
                                     "detected_at": "2026-05-31 13:26"})  # fmt: skip
    with pytest.raises(InputError, match=r"reported_at: .* is before detected_at"):
        incident("X", "jp", detected(2), detected(1))
    with pytest.raises(InputError, match="reported_to: give reported_at and reported_to"):
        parse_record(Kind.INCIDENT, {"ref": "X", "title": "t", "regime": "kr",
                                     "detected_at": utc(detected(1)),
                                     "reported_at": utc(detected(2))})  # fmt: skip
