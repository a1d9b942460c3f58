"""Reading what the monitor raised, as `kinko monitor alerts` shows it (the stored alerts).

Tests start the monitor `kinko serve` runs (`kinko.monitor.factory.start_monitor`) on the
test's context, act through the real API or CLI, and read the alerts back here.
"""

from __future__ import annotations

from typing import Any

from kinko.context import Context
from kinko.store.tables.monitor import AlertRow
from tests.support.services import services_of

REFUSED_RULE = "kinko-insider-refused"


def fired(ctx: Context) -> list[str]:
    """The rule ids of every stored alert, sorted."""
    services = services_of(ctx)
    with ctx.db.transaction() as session:
        return sorted(a.rule_id for a in services.triage.list_alerts(session))


def evidence(ctx: Context, rule_id: str) -> list[dict[str, Any]]:
    """The evidence of every stored alert of `rule_id` (in no particular order)."""
    with ctx.db.reading() as session:
        rows = session.query(AlertRow).filter(AlertRow.rule_id == rule_id).all()
        return [dict(row.evidence) for row in rows]


def refusals_alerted(ctx: Context, user_id: str) -> list[str]:
    """The error codes of the refused steps `user_id` was alerted for, sorted."""
    return sorted(
        str(e["code"]) for e in evidence(ctx, REFUSED_RULE) if e.get("actor") == f"user:{user_id}"
    )
