"""``kinko inspect incident`` on both databases: an alert and its response made by
ingesting an event through the monitor, then drafted by the CLI (on the real clock;
times here derive from the suite's clock, never a written date)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select, update

from kinko.cli.main import app
from kinko.context import Context
from kinko.core.clock import FixedClock
from kinko.services import Services
from kinko.store.tables.audit import AuditEntryRow
from kinko.store.tables.monitor import AlertRow
from tests.integration.inspection.test_cli_snapshots import as_json, kinko, runner
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


def _kinko_with(ctx: Context, deadlines: str, *args: str) -> tuple[int, str]:
    env = {
        "KINKO_DATA_DIR": str(ctx.settings.data_dir),
        "KINKO_DATABASE_URL": ctx.settings.resolved_database_url,
        "KINKO_CONFIG": "",
        "KINKO_INCIDENT_REPORT_DEADLINES": deadlines,
    }
    result = runner.invoke(app, list(args), env=env)
    assert "Traceback" not in result.output
    return result.exit_code, result.output


def test_a_saved_draft_uses_the_setting_is_logged_listed_and_reread(
    ctx: Context, services: Services, clock: FixedClock
) -> None:
    clock.advance(timedelta(hours=-30))
    service(ctx).ingest([hot_outflow(amount=7_000)])
    alert_id = _alert_id(ctx)

    code, out = _kinko_with(ctx, "jp=12h", "inspect", "incident", alert_id, "--save", "--json")
    assert code == 0, out
    doc = as_json(out)
    jp, kr = doc["regimes"]
    assert (jp["deadline_s"], jp["overdue"], jp["basis"]) == (
        12 * 3600,
        True,
        "set by the organisation",
    )
    assert kr["deadline_s"] == 24 * 3600 and kr["basis"].startswith("set from the source")
    seq = doc["saved"]["audit_seq"]
    with ctx.db.transaction() as s:
        entry = s.get(AuditEntryRow, seq)
        assert entry is not None and entry.action == "inspection.incident_draft"
        assert entry.subject == alert_id

    code, out = kinko(ctx, "inspect", "incidents", "--json")
    assert code == 0, out
    [listed] = as_json(out)["drafts"]
    assert (listed["audit_seq"], listed["alert_id"]) == (seq, alert_id)
    assert listed["digest"] == doc["saved"]["digest"]
    saved = {k: v for k, v in doc.items() if k != "saved"}
    assert listed["draft"] == saved  # re-read as it was drafted
    assert listed["alert"]["evidence"]["amount"] == 7_000  # with the alert it came from

    code, out = kinko(ctx, "inspect", "incidents", "--show", str(seq), "--json")
    assert code == 0 and as_json(out)["draft"] == saved
    code, out = kinko(ctx, "inspect", "incidents")
    assert code == 0 and f"alert {alert_id}" in " ".join(out.split())
    code, out = kinko(ctx, "inspect", "incidents", "--show", "0")
    assert code == 2 and "holds no saved incident draft" in out

    with ctx.db.transaction() as s:  # a saved draft altered in the store is refused
        s.execute(
            update(AuditEntryRow)
            .where(AuditEntryRow.seq == seq)
            .values(entry=entry.entry.replace(b'"amount":7000', b'"amount":7001'))
        )
    code, out = kinko(ctx, "inspect", "incidents")
    assert code == 1 and "altered" in out


def test_a_bad_deadline_setting_is_refused_naming_it(ctx: Context) -> None:
    code, out = _kinko_with(ctx, "jp=soon", "inspect", "incident", "nope")
    assert code == 2 and "incident_report_deadlines" in out
