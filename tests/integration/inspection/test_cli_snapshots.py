"""``kinko inspect snapshot`` and ``kinko inspect snapshots`` on both databases.

The CLI runs on the real clock; every day here is derived from the real time (never a
date written into the test), so the tests hold on any day they run."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import delete
from typer.testing import CliRunner

from kinko.cli.main import app
from kinko.context import Context
from kinko.core.clock import FixedClock
from kinko.inspection.snapshots import SnapshotService
from kinko.store.tables.inspection import InspectionSnapshotRow
from tests.integration.custody.exchange import fund, set_up
from tests.support.identity import make_user

runner = CliRunner()


def kinko(ctx: Context, *args: str) -> tuple[int, str]:
    env = {
        "KINKO_DATA_DIR": str(ctx.settings.data_dir),
        "KINKO_DATABASE_URL": ctx.settings.resolved_database_url,
        "KINKO_CONFIG": "",
    }
    result = runner.invoke(app, list(args), env=env)
    assert "Traceback" not in result.output
    return result.exit_code, result.output


def as_json(output: str) -> Any:
    return json.loads(output[output.index("{") :])


@pytest.fixture
def exchange(ctx: Context) -> None:
    ids = set_up(ctx)
    fund(ctx, ids, btc_hot=1, btc_cold=2, eth_hot=3, eth_cold=4, eth_guarantee=5)


def test_snapshot_takes_today_once_and_snapshots_lists_it(ctx: Context, exchange: None) -> None:
    code, out = kinko(ctx, "inspect", "snapshot", "--json")
    assert code == 0, out
    first = as_json(out)
    assert first["new"] is True and first["origin"] == "taken"
    assert first["recorded_by"].startswith("local:")
    code, out = kinko(ctx, "inspect", "snapshot", "--json")
    again = as_json(out)
    assert code == 0 and again["new"] is False and again["digest"] == first["digest"]
    code, out = kinko(ctx, "inspect", "snapshots", "--json")
    assert code == 0
    [listed] = as_json(out)["snapshots"]
    assert listed["digest"] == first["digest"] and listed["audit_seq"] == first["audit_seq"]
    code, out = kinko(ctx, "inspect", "snapshots")
    assert code == 0 and str(first["digest"]) in out


def test_import_refuses_a_tampered_file_and_records_a_sound_one(
    ctx: Context, exchange: None, tmp_path: Path
) -> None:
    kinko(ctx, "inspect", "snapshot")
    code, out = kinko(ctx, "inspect", "snapshots", "--json", "--documents")
    assert code == 0
    exported = as_json(out)
    day = exported["snapshots"][0]["day"]
    # As into another Kinko's store: the day's snapshot is gone before the import.
    with ctx.db.transaction() as s:
        s.execute(delete(InspectionSnapshotRow))
    tampered = json.loads(json.dumps(exported))
    tampered["snapshots"][0]["document"]["balances"][0]["base_units"] = "999"
    bad = tmp_path / "tampered.json"
    bad.write_text(json.dumps(tampered))
    code, out = kinko(ctx, "inspect", "snapshot", "--import", str(bad), "--json")
    assert code == 2
    refusal = as_json(out)
    assert refusal["field"] == "snapshots[0].digest"
    assert "altered or damaged" in str(refusal["message"])
    assert SnapshotService(ctx).list() == []

    good = tmp_path / "backup.json"
    good.write_text(json.dumps(exported))
    code, out = kinko(ctx, "inspect", "snapshot", "--import", str(good))
    assert code == 0, out
    assert f"imported {day}" in out
    [record] = SnapshotService(ctx).list()
    assert record.imported_from == "backup.json"
    assert record.digest == exported["snapshots"][0]["digest"]


def test_backfill_fills_the_days_the_store_has_history_of(ctx: Context, clock: FixedClock) -> None:
    now = datetime.now(UTC)
    today = now.date()
    clock.set(now - timedelta(days=3))  # the store's history starts three days ago
    make_user(ctx, "alice", ["operator"], with_authenticator=False)
    start, end = today - timedelta(days=5), today - timedelta(days=1)
    code, out = kinko(
        ctx, "inspect", "snapshot", "--backfill", "--from", str(start), "--to", str(end), "--json"
    )
    assert code == 0, out
    done = as_json(out)
    assert [r["day"] for r in done["recorded"]] == [
        str(today - timedelta(days=n)) for n in (3, 2, 1)
    ]
    assert {r["origin"] for r in done["recorded"]} == {"backfilled"}
    skipped = [s["day"] for s in done["skipped"]]
    assert skipped == [str(start), str(start + timedelta(days=1))]


@pytest.mark.parametrize(
    ("args", "field"),
    [
        (("--backfill",), "--from"),
        (("--backfill", "--from", "2026-13-01", "--to", "2026-01-01"), "--from"),
        (("--from", "2026-01-01"), "--from"),
        (("--import", "missing.json"), "--import"),
        (("--import", "x.json", "--backfill"), "--import"),
    ],
)
def test_bad_input_is_exit_2_naming_the_field(
    ctx: Context, args: tuple[str, ...], field: str
) -> None:
    code, out = kinko(ctx, "inspect", "snapshot", *args, "--json")
    assert code == 2, out
    assert as_json(out)["field"] == field


def test_backfill_of_today_is_refused_naming_to(ctx: Context) -> None:
    today = datetime.now(UTC).date()
    code, out = kinko(
        ctx, "inspect", "snapshot", "--backfill", "--from", str(today - timedelta(days=1)),
        "--to", str(today + timedelta(days=1)), "--json",
    )  # fmt: skip
    assert code == 2 and as_json(out)["field"] == "--to"


def test_import_of_a_file_that_is_not_json_names_import(ctx: Context, tmp_path: Path) -> None:
    path = tmp_path / "x.json"
    path.write_text("{not json")
    code, out = kinko(ctx, "inspect", "snapshot", "--import", str(path))
    assert code == 2 and "--import" in out
