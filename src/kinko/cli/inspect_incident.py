"""``kinko inspect incident ALERT_ID``: an incident notification draft (issue #16 point 6);
``kinko inspect incidents``: the drafts saved.

What happened, when it was detected, the funds the evidence names, the actions taken, and
for each regime (jp, kr) the time since detection against its reporting deadline: the
organisation's (setting ``incident_report_deadlines``, or ``--deadline jp=24h``, which wins),
else one a verified source states (Korea's Network Act, 24 h to MSIT/KISA); unset, the
draft says so and quotes the catalogue (docs/inspection.md). ``--save`` logs the draft
with its alert in the audit log (``kinko.inspection.incident_log``); without it nothing is
written. Exit status: 0, or 2 for a bad option or no such alert or saved draft.
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape

from kinko.cli.common import console, echo_json
from kinko.cli.output import JsonOption, guarded_json, human_time, json_time
from kinko.core.errors import InputError

if TYPE_CHECKING:
    from kinko.inspection.incident import IncidentDraft


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
            help="The organisation's reporting deadline, REGIME=DURATION (jp=24h); repeatable; "
            "wins over the setting incident_report_deadlines.",
        ),
    ] = None,
    save: Annotated[
        bool, typer.Option("--save", help="Log the draft and its alert in the audit log.")
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """Draft an incident notification from an alert and its responses."""
    with guarded_json(as_json):
        from kinko.core.deadlines import parse_deadlines

        given = parse_deadlines(deadline or [])
        from kinko.cli.common import local_actor, open_services
        from kinko.inspection.catalogue import packaged
        from kinko.inspection.incident import bases_of, draft
        from kinko.inspection.incident_log import save as save_draft
        from kinko.inspection.incident_records import incident_facts

        with open_services() as built, built.ctx.db.transaction() as session:
            setting = built.ctx.settings.incident_report_deadlines
            deadlines = {**parse_deadlines(setting, "incident_report_deadlines"), **given}
            alert, responses = incident_facts(session, built.triage, alert_id)
            now = built.ctx.clock.now()
            found = draft(alert, responses, now, bases=bases_of(packaged()), deadlines=deadlines)
            saved = (
                save_draft(built.ctx, session, found, alert, actor=local_actor()) if save else None
            )
    if as_json:
        out = found.to_json()
        if saved is not None:
            out["saved"] = {"audit_seq": saved.audit_seq, "digest": saved.digest}
        echo_json(out)
        return
    print_draft(found)
    if saved is not None:
        console.print(f"Saved in audit entry {saved.audit_seq} (sha256 {saved.digest[:16]}...)")


def incidents(
    show: Annotated[
        int | None, typer.Option("--show", help="Print the draft saved in this audit entry.")
    ] = None,
    alert: Annotated[str | None, typer.Option("--alert", help="Only this alert's drafts.")] = None,
    as_json: JsonOption = False,
) -> None:
    """The incident notification drafts saved (kinko inspect incident --save)."""
    with guarded_json(as_json):
        if show is not None and show < 0:
            raise InputError("--show", "an audit entry number, 0 or more")
        from kinko.cli.common import open_context
        from kinko.inspection.incident_log import saved_draft, saved_drafts

        with open_context() as ctx:
            found = [saved_draft(ctx, show)] if show is not None else saved_drafts(ctx, alert)
    if as_json:
        items = [
            {"audit_seq": d.audit_seq, "saved_at": json_time(d.time), "saved_by": d.actor,
             "alert_id": d.alert_id, "digest": d.digest, "draft": d.draft, "alert": d.alert}
            for d in found
        ]  # fmt: skip
        echo_json(items[0] if show is not None else {"drafts": items})
        return
    if show is not None:
        d = found[0]
        console.print(f"Saved draft, audit entry {d.audit_seq}, {human_time(d.time)} by "
                      f"{escape(d.actor)}; sha256 {d.digest}")  # fmt: skip
        console.print_json(data=d.draft)
        return
    if not found:
        console.print("No incident draft saved (kinko inspect incident ALERT_ID --save).")
    for d in found:
        late = [r["regime"] for r in d.draft.get("regimes", []) if r.get("overdue")]
        state = f"overdue: {', '.join(late)}" if late else "not overdue when saved"
        console.print(f"{d.audit_seq}  {human_time(d.time)}  alert {escape(d.alert_id)}  "
                      f"{escape(str(d.draft.get('what')))}  ({state})")  # fmt: skip
