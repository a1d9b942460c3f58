"""Read an alert and its responses for the incident draft (kinko.inspection.incident).

The alert comes through the monitor's TriageService (NotFound names the listing command);
its evidence and its responses are read from the monitor's tables, read-only.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from kinko.inspection.incident import AlertFacts, ResponseFacts
from kinko.monitor.triage import TriageService
from kinko.store.tables.monitor import AlertRow, ResponseRow


def incident_facts(
    session: Session, triage: TriageService, alert_id: str
) -> tuple[AlertFacts, list[ResponseFacts]]:
    """The alert `alert_id` (with the evidence of the event that fired it) and its responses."""
    view = triage.get(session, alert_id)
    evidence = session.execute(select(AlertRow.evidence).where(AlertRow.id == view.id)).scalar_one()
    rows = session.execute(
        select(ResponseRow)
        .where(ResponseRow.alert_id == view.id)
        .order_by(ResponseRow.created_at, ResponseRow.id)
    ).scalars()
    alert = AlertFacts(
        id=view.id,
        rule_id=view.rule_id,
        title=view.title,
        level=view.level,
        created_at=view.created_at,
        evidence=dict(evidence) if isinstance(evidence, dict) else {},
    )
    responses = [
        ResponseFacts(
            action=r.action,
            target=r.target,
            status=r.status,
            created_at=r.created_at,
            released_at=r.released_at,
            detail=r.detail,
        )
        for r in rows
    ]
    return alert, responses
