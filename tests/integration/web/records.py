"""Records the console tests start from, stored as the monitor stores them."""

from __future__ import annotations

from kinko.context import Context
from kinko.core.ids import new_id
from kinko.inspection.runs import ACTION
from kinko.store.tables.monitor import AlertRow, ResponseRow


def stored_alert(ctx: Context, title: str, *, status: str = "open", **evidence: str) -> str:
    """An alert raised now (`status`), fired by an outflow event with `evidence`."""
    now = ctx.clock.now()
    alert_id = new_id("alr")
    with ctx.db.transaction() as session:
        session.add(
            AlertRow(
                id=alert_id,
                rule_id="test-rule",
                title=title,
                level="high",
                kind="detection",
                status=status,
                event_time=now,
                created_at=now,
                reason="",
                group={},
                evidence={"type": "chain.outflow", **evidence},
            )
        )
    return alert_id


def stored_response(
    ctx: Context, alert_id: str, *, status: str = "applied", released: bool = False
) -> str:
    """A response of `alert_id` (a wallet freeze) with `status`, released if asked."""
    now = ctx.clock.now()
    response_id = new_id("rsp")
    with ctx.db.transaction() as session:
        session.add(
            ResponseRow(
                id=response_id,
                alert_id=alert_id,
                rule_id="test-rule",
                action="freeze",
                scope="wallet",
                target="wal_test",
                status=status,
                detail="",
                created_at=now,
                released_at=now if released else None,
            )
        )
    return response_id


def record_run(ctx: Context, actor: str, summary: dict[str, int]) -> None:
    """An inspection run's audit entry, as `InspectionRuns.run` appends it."""
    with ctx.db.transaction() as session:
        ctx.audit.append(
            session,
            actor=actor,
            action=ACTION,
            subject="inspection-jp-2026.json",
            details={
                "digest": "ab" * 32,
                "size": 10,
                "framework": "jp",
                "from": "2026-11-01",
                "to": "2026-11-30",
                "catalogue": "1",
                "summary": summary,
                "checkpoint_size": None,
            },
        )
