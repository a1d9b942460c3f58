"""``kinko inspect incident ALERT_ID``: an incident notification draft (issue #16 point 6).

What happened, when it was detected, the funds the evidence names, the actions taken, and
for each regime (jp, kr) the time since detection against its reporting deadline. No
deadline is assumed: give the organisation's with ``--deadline jp=24h`` (repeatable);
unset, the draft says so and quotes the catalogue's source (docs/inspection.md).
Reads the database; writes nothing. Exit status: 0, or 2 for a bad option or no such alert.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape

from kinko.cli.common import console, echo_json
from kinko.cli.output import JsonOption, guarded_json, human_time
from kinko.core.errors import InputError

if TYPE_CHECKING:
    from kinko.inspection.incident import IncidentDraft

_DURATION = re.compile(r"^(jp|kr)=(\d+)([mhd])$")
_UNIT = {"m": "minutes", "h": "hours", "d": "days"}


def parse_deadlines(texts: list[str]) -> dict[str, timedelta]:
    found: dict[str, timedelta] = {}
    for text in texts:
        match = _DURATION.match(text.strip())
        if match is None:
            raise InputError(
                "--deadline", f"{text!r} is not REGIME=DURATION, e.g. jp=24h or kr=30m (m, h, d)"
            )
        regime, number, unit = match.groups()
        if regime in found:
            raise InputError("--deadline", f"{regime} is given twice")
        found[regime] = timedelta(**{_UNIT[unit]: int(number)})
    return found


def _span(value: timedelta) -> str:
    seconds = int(value.total_seconds())
    sign, seconds = ("-" if seconds < 0 else ""), abs(seconds)
    hours, rest = divmod(seconds, 3600)
    return f"{sign}{hours}h{rest // 60:02d}m"


def print_draft(found: IncidentDraft) -> None:
    console.print(f"Incident notification draft — alert {found.alert_id} (DRAFT, not sent)")
    what = escape(found.what)
    console.print(f"What happened: {what} (level {found.level}, rule {found.rule_id})")
    console.print(f"Detected: {human_time(found.detected_at)}")
    console.print(f"Funds affected: {found.funds.describe()}")
    console.print("Actions taken:" + ("" if found.actions else " none recorded"))
    for a in found.actions:
        target = f" {a.target}" if a.target else ""
        released = f", released {human_time(a.released_at)}" if a.released_at else ""
        console.print(f"  - {a.action}{target}: {a.status} {human_time(a.at)}{released}")
    console.print(f"Time since detection (as of {human_time(found.drafted_at)}):")
    for r in found.regimes:
        if r.deadline is None:
            console.print(f"  {r.regime}: {_span(r.elapsed)}; deadline {r.basis}")
        else:
            state = "OVERDUE" if r.overdue else "within"
            console.print(
                f"  {r.regime}: {_span(r.elapsed)} of {_span(r.deadline)} ({state}; {r.basis})"
            )


def incident(
    alert_id: Annotated[str, typer.Argument(help="The alert (kinko monitor alerts list).")],
    deadline: Annotated[
        list[str] | None,
        typer.Option(
            "--deadline",
            help="The organisation's reporting deadline, REGIME=DURATION (jp=24h); repeatable.",
        ),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Draft an incident notification from an alert and its responses."""
    with guarded_json(as_json):
        deadlines = parse_deadlines(deadline or [])
        from kinko.cli.common import open_services
        from kinko.inspection.catalogue import packaged
        from kinko.inspection.incident import bases_of, draft
        from kinko.inspection.incident_records import incident_facts

        with open_services() as built, built.ctx.db.transaction() as session:
            alert, responses = incident_facts(session, built.triage, alert_id)
            now = built.ctx.clock.now()
        found = draft(alert, responses, now, bases=bases_of(packaged()), deadlines=deadlines)
    if as_json:
        echo_json(found.to_json())
        return
    print_draft(found)
