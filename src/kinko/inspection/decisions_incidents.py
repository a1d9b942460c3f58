"""MON-02, incidents reported to the regulator in time, decided from the governance
register's ``incident`` records (pure).

The incidents the register holds at the end of the period and detected in it are judged:
each report's delay (``reported_at - detected_at``) against its regime's deadline — the
organisation's setting (`Evidence.deadlines`), else the one a verified source states
(the catalogue's ``report_within_<regime>``: Korea's Network Act, 24 hours), else the
catalogue's organisation-defined ``max_notification_delay``. A report later than that
fails on the day the deadline passed; an incident not reported fails from that day to the
period's end (one not yet due is not late). None recorded in the period is
`insufficient_evidence`: that none occurred is not something Kinko can see.
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

from kinko.core.deadlines import UNITS
from kinko.inspection.dated import on_register, register_row
from kinko.inspection.evaluate import Decider, Evidence, Period, Tally, parameter
from kinko.inspection.register import Kind
from kinko.inspection.register_incidents import Incident


def _hours(delta: timedelta) -> str:
    return f"{delta.total_seconds() / 3600:.2f} hours"


def deadlines_of(t: Tally, evidence: Evidence) -> dict[str, tuple[timedelta, str]]:
    """Per regime: the deadline and where it comes from, in words."""
    own = next(p for p in t.control.parameters if p.name == "max_notification_delay")
    fallback = timedelta(**{UNITS[own.unit]: float(parameter(t.control, own.name))})
    found: dict[str, tuple[timedelta, str]] = {
        regime: (fallback, "max_notification_delay, organisation-defined")
        for regime in ("jp", "kr")
    }
    for p in t.control.parameters:
        regime = p.name.removeprefix("report_within_")
        if regime != p.name and not p.organisation_defined and regime in found:
            sourced = timedelta(**{UNITS[p.unit]: int(p.value)})
            found[regime] = (sourced, f"{p.name}, from the catalogue's verified source")
    for regime, deadline in (evidence.deadlines or {}).items():
        found[regime] = (deadline, "the organisation's incident_report_deadlines")
    return found


def mon_02(t: Tally, period: Period, evidence: Evidence) -> str:
    register = on_register(t, evidence)
    deadlines = deadlines_of(t, evidence)
    reason = (
        "each incident detected in the period was reported to its regime's regulator within "
        "the deadline (the organisation's setting, else a sourced one, else "
        "max_notification_delay)"
    )
    if register is None:
        return reason
    closes = datetime.combine(period.end + timedelta(days=1), time.min, tzinfo=UTC)
    held = [
        e
        for e in register.of(period.end, Kind.INCIDENT)
        if isinstance(e.record, Incident) and period.start <= e.record.detected.date() <= period.end
    ]
    if not held:
        t.undecided.append(
            "the register records no incident detected in the period: that none occurred is "
            "not something Kinko can see"
        )
        return reason
    t.applies = True
    for entry in sorted(held, key=lambda e: (e.record.detected, e.key)):  # type: ignore[union-attr]
        incident = entry.record
        assert isinstance(incident, Incident)
        limit, basis = deadlines[incident.regime.value]
        due = incident.detected + limit
        reported = incident.reported
        detail = (
            f"incident {incident.ref} ({incident.regime.value}): {incident.title}; detected "
            f"{incident.detected_at}, deadline {due.isoformat().replace('+00:00', 'Z')} "
            f"({basis})"
        )
        if reported is None:
            if due >= closes:
                continue  # not yet due at the period's end
            day = max(due.date(), period.start)
            while day <= period.end:
                t.fail(day, "reported within the deadline", "not reported", _hours(limit),
                       detail, register_row(entry))  # fmt: skip
                day += timedelta(days=1)
        elif reported - incident.detected > limit:
            day = min(max(due.date(), period.start), period.end)
            t.fail(day, "reported within the deadline", _hours(reported - incident.detected),
                   _hours(limit), f"{detail}; reported {incident.reported_at} to "
                   f"{incident.reported_to}", register_row(entry))  # fmt: skip
    return reason


INCIDENT_DECIDERS: dict[str, Decider] = {"MON-02": mon_02}
