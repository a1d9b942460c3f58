"""Vendor logs in through every entry point (issue #15, point 4): `kinko monitor ingest
--source` (files, .gz, stdin), ``POST /v1/events/sources/{source}`` and Redis Streams
entries ``{"source", "record"}``; all or nothing, errors naming the record and field."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import redis
from fastapi.testclient import TestClient
from sqlalchemy import select
from typer.testing import CliRunner

from kinko.cli.main import app
from kinko.context import Context
from kinko.monitor.engine import Engine
from kinko.monitor.events import MonitorEvent
from kinko.monitor.redis_input import RedisPartitionWorker
from kinko.monitor.rules import default_pack
from kinko.server import create_app
from kinko.store.tables.audit import AuditEntryRow
from tests.integration.monitor.test_redis_streams import client  # noqa: F401 (fixture)
from tests.support.identity import bearer, make_token

SAMPLES = Path(__file__).parents[2] / "fixtures" / "sources"
runner = CliRunner()
FATIGUE = "kinko-idp-mfa-fatigue"


def env(ctx: Context) -> dict[str, str]:
    settings = ctx.settings
    return {"KINKO_DATA_DIR": str(settings.data_dir), "KINKO_DATABASE_URL": settings.database_url}


def okta_pushes() -> str:
    return (SAMPLES / "okta" / "pack-attack.jsonl").read_text(encoding="utf-8")


def test_cli_ingests_a_vendor_file_and_stores_the_pack_alert(ctx: Context) -> None:
    path = SAMPLES / "okta" / "pack-attack.jsonl"
    result = runner.invoke(
        app, ["monitor", "ingest", "--source", "okta", str(path), "--json"], env=env(ctx)
    )
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["events"] == 6
    rules = sorted(a["rule"] for a in report["alerts"])
    assert rules == [FATIGUE, "kinko-okta-session-two-countries"]
    with ctx.db.transaction() as session:
        row = session.scalars(
            select(AuditEntryRow).where(AuditEntryRow.action == "monitor.events_ingested")
        ).one()
    assert row.subject == f"okta:{path.resolve()}"
    assert json.loads(row.entry)["details"]["types"][0].startswith("okta.")


def test_cli_reads_stdin_and_gzip(ctx: Context, tmp_path: Path) -> None:
    text = (SAMPLES / "cloudtrail" / "attack.json").read_text(encoding="utf-8")
    piped = runner.invoke(
        app, ["monitor", "replay", "--source", "cloudtrail", "-", "--json"], input=text
    )
    assert piped.exit_code == 0, piped.output
    assert json.loads(piped.output)["events"] == 4
    packed = tmp_path / "trail.json.gz"
    packed.write_bytes(gzip.compress(text.encode()))
    replayed = runner.invoke(app, ["monitor", "replay", "--source", "cloudtrail", str(packed)])
    assert replayed.exit_code == 0, replayed.output
    assert "4 events" in replayed.output


def test_cli_refuses_a_bad_record_naming_it_and_stores_nothing(ctx: Context) -> None:
    text = okta_pushes() + '{"published": "2026-11-21T09:00:00Z"}\n'
    result = runner.invoke(
        app, ["monitor", "ingest", "--source", "okta", "-"], input=text, env=env(ctx)
    )
    assert result.exit_code == 2, result.output
    assert "line 7: eventType: is missing" in result.output and "Traceback" not in result.output
    listed = runner.invoke(app, ["monitor", "alerts", "list", "--json"], env=env(ctx))
    assert json.loads(listed.output) == []


def test_cli_unknown_source_and_bad_gzip_exit_2(tmp_path: Path) -> None:
    unknown = runner.invoke(app, ["monitor", "replay", "--source", "splunk", "-"], input="")
    assert unknown.exit_code == 2 and "--source: unknown source 'splunk'" in unknown.output
    fake = tmp_path / "x.json.gz"
    fake.write_text("{}")
    bad = runner.invoke(app, ["monitor", "replay", "--source", "okta", str(fake)])
    assert bad.exit_code == 2 and "is not a gzip file" in bad.output


def test_api_ingests_vendor_records_stamped_and_audited(ctx: Context) -> None:
    ingest = make_token(ctx, roles_or_permissions=["monitor:ingest"])
    reader = make_token(ctx, roles_or_permissions=["monitor:read"])
    with TestClient(create_app(ctx)) as http:
        posted = http.post("/v1/events/sources/okta", content=okta_pushes(), headers=bearer(ingest))
        assert posted.status_code == 200, posted.text
        body = posted.json()
        assert body["accepted"] == 6 and body["source"] == "okta"
        assert FATIGUE in {a["rule"] for a in body["alerts"]}
        listed = http.get("/v1/alerts", headers=bearer(reader)).json()
        assert FATIGUE in {a["rule"] for a in listed}
        denied = http.post("/v1/events/sources/okta", content="{}", headers=bearer(reader))
        assert denied.status_code == 403
    with ctx.db.transaction() as session:
        row = session.scalars(
            select(AuditEntryRow).where(AuditEntryRow.action == "monitor.events_ingested")
        ).one()
    assert row.subject.startswith("okta:")


def test_api_refuses_bad_batches_with_stable_codes(ctx: Context) -> None:
    ingest = make_token(ctx, roles_or_permissions=["monitor:ingest"])
    reader = make_token(ctx, roles_or_permissions=["monitor:read"])
    with TestClient(create_app(ctx)) as http:
        bad = '{"Records": [{"eventTime": "2026-11-21T09:00:00Z", "eventSource": "x"}]}'
        refused = http.post("/v1/events/sources/cloudtrail", content=bad, headers=bearer(ingest))
        assert refused.status_code == 422
        assert refused.json()["error"] == "invalid_event"
        assert refused.json()["field"] == "Records[0]: eventName"
        unknown = http.post("/v1/events/sources/splunk", content="{}", headers=bearer(ingest))
        assert unknown.status_code == 422 and unknown.json()["error"] == "unknown_source"
        empty = http.post("/v1/events/sources/okta", content="  ", headers=bearer(ingest))
        assert empty.status_code == 422 and empty.json()["field"] == "body"
        binary = http.post("/v1/events/sources/okta", content=b"\xff", headers=bearer(ingest))
        assert binary.status_code == 422
        assert http.get("/v1/alerts", headers=bearer(reader)).json() == []


def test_redis_entries_carry_vendor_records(client: redis.Redis) -> None:  # noqa: F811
    engine = Engine(default_pack())
    handled: list[MonitorEvent] = []
    alerts: list[str] = []

    def handle(events: list[MonitorEvent]) -> None:
        handled.extend(events)
        alerts.extend(a.rule_id for a in engine.process_many(events))

    worker = RedisPartitionWorker(client, handle, partitions=[0], consumer="w", prefix="t:ev")
    worker.ensure_groups()
    for line in (SAMPLES / "sshd" / "attack.jsonl").read_text().splitlines():
        client.xadd("t:ev:0", {"source": "sshd", "record": line})
    audit_line = (SAMPLES / "auditd" / "attack.log").read_text().split("\n")[3]
    client.xadd("t:ev:0", {"source": "auditd", "record": audit_line})
    client.xadd("t:ev:0", {"source": "okta", "record": b'{"eventType": "x.y"}'})
    client.xadd("t:ev:0", {"source": "splunk", "record": b"{}"})
    client.xadd("t:ev:0", {"source": "okta"})
    assert worker.drain() == 12
    assert len(handled) == 9 and worker.rejected == 3
    assert handled[-1].type == "auditd.execve" and handled[-1].fields["a0"] == "getcap"
    assert "kinko-ssh-bruteforce-then-login" in alerts
    reasons = [f[b"reason"].decode() for _, f in client.xrange("t:ev:dead")]
    assert "published: is missing" in reasons[0]
    assert "unknown source 'splunk'" in reasons[1]
    assert "no 'record'" in reasons[2]
