"""``kinko monitor alerts ...`` and ``kinko monitor responses ...``: triage.

Listings read the database; acknowledging, closing and releasing act for the signed-in
person through the API (`kinko login`), where four eyes and permissions are checked.
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import timedelta
from typing import Annotated

import typer

from kinko.cli.approval import AssertionOption, step_up_body
from kinko.cli.common import console, echo_json, guarded, open_services
from kinko.cli.output import JsonOption, Names, guarded_json, human_time, print_table
from kinko.core.clock import isoformat
from kinko.monitor.alert import AlertStatus


def register_triage(alerts_app: typer.Typer, responses_app: typer.Typer) -> None:
    """Add the triage commands to ``monitor alerts`` and ``monitor responses``."""

    @alerts_app.command("list")
    def alerts_list(
        status: Annotated[AlertStatus | None, typer.Option(help="Only this status.")] = None,
        limit: int = 100,
        as_json: JsonOption = False,
    ) -> None:
        """List alerts, newest first."""
        with (
            guarded_json(as_json),
            open_services() as services,
            services.ctx.db.transaction() as session,
        ):
            views = services.triage.list_alerts(session, status=status, limit=limit)
            names = Names.load(session)
        if as_json:
            echo_json(
                [
                    {
                        "id": v.id,
                        "rule": v.rule_id,
                        "title": v.title,
                        "level": v.level,
                        "status": v.status.value,
                        "created_at": isoformat(v.created_at),
                        "acknowledged_by": v.acknowledged_by,
                        "acknowledged_by_username": names.username(v.acknowledged_by),
                        "closed_by": v.closed_by,
                        "closed_by_username": names.username(v.closed_by),
                        "assigned_to": v.assigned_to,
                        "assigned_to_username": names.username(v.assigned_to),
                        "time_to_triage_s": v.time_to_triage_s,
                    }
                    for v in views
                ]
            )
            return
        print_table(
            ("id", "created", "rule", "level", "status", "by", "assigned to"),
            [
                (
                    v.id,
                    human_time(v.created_at),
                    v.rule_id,
                    v.level,
                    v.status.value,
                    names.user(v.closed_by or v.acknowledged_by),
                    names.user(v.assigned_to),
                )
                for v in views
            ],
            whole={"id"},
            title="Alerts",
        )

    @alerts_app.command("summary")
    def alerts_summary(
        days: Annotated[int, typer.Option(min=1, help="Look back this many days.")] = 30,
        as_json: JsonOption = False,
    ) -> None:
        """Alerts per status and time to triage (median, p90) over the last DAYS days."""
        with guarded(), open_services() as services, services.ctx.db.transaction() as session:
            since = services.ctx.clock.now() - timedelta(days=days)
            summary = services.triage.summary(session, since=since)
        if as_json:
            echo_json(asdict(summary))
            return
        counts = ", ".join(f"{k} {v}" for k, v in summary.by_status.items())
        median = summary.median_time_to_triage_s
        p90 = summary.p90_time_to_triage_s
        console.print(f"last {days} days: {counts}")
        if median is None or p90 is None:
            console.print("no alert acknowledged yet")
        else:
            console.print(f"time to triage: median {median:.0f} s, p90 {p90:.0f} s")

    @alerts_app.command("ack")
    def alerts_ack(alert_id: str) -> None:
        """Acknowledge an open alert (as you; starts the triage clock's stop)."""
        from kinko.cli import api

        with guarded(), api.connect() as kinko:
            view = kinko.post(f"/v1/alerts/{alert_id}/acknowledge")
        console.print(
            f"{view['id']} acknowledged by {view['by_username']} after "
            f"{view['time_to_triage_s']:.0f} s",
            highlight=False,
        )

    @alerts_app.command("assign")
    def alerts_assign(
        alert_id: str,
        to: Annotated[str, typer.Option("--to", help="Username of who works on it.")],
    ) -> None:
        """Give an open or acknowledged alert to someone who triages alerts (as you)."""
        from kinko.cli import api

        with guarded(), api.connect() as kinko:
            view = kinko.post(f"/v1/alerts/{alert_id}/assign", {"assignee": to})
        console.print(f"{view['id']} assigned to {view['assignee']}", highlight=False)

    @alerts_app.command("close")
    def alerts_close(
        alert_id: str,
        resolution: Annotated[str, typer.Option(help="resolved or false_positive")],
        note: Annotated[str, typer.Option(help="What was found.")],
    ) -> None:
        """Close an acknowledged alert as resolved or false_positive (as you)."""
        from kinko.cli import api

        body = {"resolution": resolution, "note": note}
        with guarded(), api.connect() as kinko:
            view = kinko.post(f"/v1/alerts/{alert_id}/close", body)
        console.print(f"{view['id']} is {view['status']}")

    @responses_app.command("release")
    def responses_release(
        response_id: str,
        reason: Annotated[str, typer.Option(help="Why it can be lifted.")],
        assertion: AssertionOption = None,
    ) -> None:
        """Vote (as you) to undo a response, with your security key's answer to 'kinko
        approval challenge response-release ID'; the second distinct security_admin's
        vote undoes it."""
        from kinko.cli import api

        with guarded():
            vote = step_up_body(assertion, "response-release", response_id)
            with api.connect() as kinko:
                outcome = kinko.post(
                    f"/v1/responses/{response_id}/release",
                    {"reason": reason, **vote},
                )
        said = str(outcome["message"])
        if outcome["released"]:
            said = f"released by {' and '.join(outcome['voter_usernames'])}"
        console.print(f"{response_id}: {said}", highlight=False)
