"""``kinko inspect incident`` on both databases: an alert and its response made by
ingesting an event through the monitor, then drafted by the CLI (on the real clock;
times here derive from the suite's clock, never a written date)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from kinko.context import Context
from kinko.core.clock import FixedClock
from kinko.services import Services
from kinko.store.tables.monitor import AlertRow
from tests.integration.inspection.test_cli_snapshots import as_json, kinko
from tests.integration.monitor.test_service import hot_outflow, service


def _alert_id(ctx: Context) -> str:
    with ctx.db.transaction() as s:
        return s.execute(select(AlertRow.id)).scalar_one()


def test_a_hot_outflow_alert_is_drafted_with_its_freeze(
    ctx: Context, services: Services, clock: FixedClock
) -> None:
    clock.advance(timedelta(hours=-30))  # detected 30 hours before the CLI's now
    [recorded] = service(ctx).ingest([hot_outflow(amount=5_000_000_000)])
    assert recorded.status == "applied"
    alert_id = _alert_id(ctx)
    code, out = kinko(ctx, "inspect", "incident", alert_id, "--deadline", "kr=1d", "--json")
    assert code == 0, out
    doc = as_json(out)
    assert doc["alert_id"] == alert_id
    assert doc["rule_id"] == "kinko-hot-outflow-without-withdrawal"
    assert doc["funds"] == {
        "wallet": "w1",
        "asset": "ETH",
        "amount": 5_000_000_000,
        "unit": "base_units",
    }
    assert [(a["action"], a["target"], a["status"]) for a in doc["actions"]] == [
        ("freeze", "w1", "applied")
    ]
    jp, kr = doc["regimes"]
    assert jp["elapsed_s"] >= 30 * 3600 and jp["deadline_s"] is None and jp["overdue"] is None
    assert jp["basis"].startswith("not set")
    assert kr["deadline_s"] == 24 * 3600 and kr["overdue"] is True

    code, out = kinko(ctx, "inspect", "incident", alert_id)
    assert code == 0, out
    out = " ".join(out.split())  # the console wraps long lines
    assert "Funds affected: wallet w1, asset ETH, amount 5000000000 base units" in out
    assert "freeze w1: applied" in out
    assert f"(level {doc['level']}, rule kinko-hot-outflow-without-withdrawal)" in out
    assert "jp: " in out and "deadline not set" in out


def test_an_unknown_alert_and_a_bad_deadline_are_refused(ctx: Context) -> None:
    code, out = kinko(ctx, "inspect", "incident", "nope")
    assert code == 2 and "no alert nope" in out
    code, out = kinko(ctx, "inspect", "incident", "nope", "--deadline", "us=1h")
    assert code == 2 and "--deadline" in out and "jp=24h" in out
