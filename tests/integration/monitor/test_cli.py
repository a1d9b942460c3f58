"""`kinko monitor ...` end to end through the Typer app."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from kinko.cli.main import app
from kinko.config import Settings
from kinko.context import Context
from tests.unit.monitor.support import ev

runner = CliRunner()


def write(path: Path, events: list) -> Path:
    path.write_text("".join(e.model_dump_json() + "\n" for e in events))
    return path


def upbit(tmp_path: Path) -> Path:
    return write(
        tmp_path / "upbit.jsonl",
        [
            ev("chain.outflow", i * 60, wallet="w1", asset=a, amount=10, withdrawal_id="wd")
            for i, a in enumerate(["ETH", "USDT", "LINK", "SOL"])
        ],
    )


def env(settings: Settings) -> dict[str, str]:
    return {"KINKO_DATA_DIR": str(settings.data_dir), "KINKO_DATABASE_URL": settings.database_url}


def test_replay_prints_alerts_counts_and_timing(tmp_path: Path) -> None:
    result = runner.invoke(app, ["monitor", "replay", str(upbit(tmp_path)), "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["events"] == 4
    assert report["per_rule"] == {"kinko-many-assets-leaving": 1}
    assert report["seconds"] >= 0
    table = runner.invoke(app, ["monitor", "replay", str(upbit(tmp_path))])
    assert "kinko-many-assets-leaving" in table.output and "events/s" in table.output


def test_replay_bad_line_exits_2_naming_it(tmp_path: Path) -> None:
    path = upbit(tmp_path)
    path.write_text(path.read_text() + '{"type": "auth.login"}\n')
    result = runner.invoke(app, ["monitor", "replay", str(path)])
    assert result.exit_code == 2
    assert "line 5: time" in result.output and "Traceback" not in result.output


def test_rules_list_and_test(tmp_path: Path) -> None:
    listed = runner.invoke(app, ["monitor", "rules", "list", "--json"])
    assert listed.exit_code == 0
    ids = {r["id"] for r in json.loads(listed.output)}
    assert {"kinko-mfa-fatigue", "kinko-baseline-impossible-travel"} <= ids
    fired = runner.invoke(
        app, ["monitor", "rules", "test", "kinko-many-assets-leaving", str(upbit(tmp_path))]
    )
    assert fired.exit_code == 0 and "1 alert(s)" in fired.output
    quiet = runner.invoke(
        app, ["monitor", "rules", "test", "kinko-sanctions-hit", str(upbit(tmp_path))]
    )
    assert quiet.exit_code == 1
    unknown = runner.invoke(app, ["monitor", "rules", "test", "nope", str(upbit(tmp_path))])
    assert unknown.exit_code == 2 and "no rule 'nope'" in unknown.output


def test_rules_test_names_the_logsources_the_rule_sees(tmp_path: Path) -> None:
    """Issue #15 point 3: a correlation sees the logsources of the rules it references; each
    is named with how many of the file's events belong to it."""
    from kinko.monitor.events import LogSource

    okta = LogSource(product="okta", service="okta")
    path = write(
        tmp_path / "mixed.jsonl",
        [
            ev("auth.mfa", 0, actor="user:a", outcome="failure"),
            ev("auth.mfa", 1, actor="user:a", outcome="success"),
            ev("auth.mfa", 2, actor="user:a", outcome="failure").model_copy(
                update={"logsource": okta}
            ),
        ],
    )
    result = runner.invoke(app, ["monitor", "rules", "test", "kinko-mfa-fatigue", str(path)])
    assert result.exit_code == 1  # two MFA events are no fatigue
    said = " ".join(result.output.split())
    assert (
        "kinko-mfa-fatigue sees logsource product=kinko "
        "(rules kinko-mfa-failure, kinko-mfa-success): 2 of 3 events"
    ) in said

    folder = tmp_path / "rules"
    folder.mkdir()
    (folder / "okta.yml").write_text(
        "title: okta mfa denied\nname: okta-mfa-denied\n"
        "logsource: {product: okta, service: okta}\n"
        "detection:\n  s: {outcome: failure}\n  condition: s\n"
    )
    result = runner.invoke(
        app, ["monitor", "rules", "test", "okta-mfa-denied", str(path), "--rules", str(folder)]
    )
    assert result.exit_code == 0, result.output
    said = " ".join(result.output.split())
    assert "okta-mfa-denied sees logsource product=okta service=okta" in said
    assert "(rules okta-mfa-denied): 1 of 3 events" in said and "1 alert(s)" in said


def test_broken_rule_pack_refused(tmp_path: Path) -> None:
    folder = tmp_path / "rules"
    folder.mkdir()
    (folder / "ok.yml").write_text(
        "title: ok\nname: ok\nlogsource: {product: kinko}\n"
        "detection:\n  s: {type: a.b}\n  condition: s\n"
    )
    (folder / "bad.yml").write_text(
        "title: bad\nname: bad\nlogsource: {product: kinko}\n"
        "detection:\n  s: {actor|expand: '%servers%'}\n  condition: s\n"
    )
    result = runner.invoke(app, ["monitor", "rules", "list", "--rules", str(folder)])
    assert result.exit_code == 2
    assert "rule 'bad'" in result.output and "placeholders" in result.output


def test_ingest_stores_alerts_and_freezes(ctx: Context, tmp_path: Path) -> None:
    events = write(
        tmp_path / "e.jsonl",
        [ev("chain.outflow", wallet="w1", asset="ETH", amount=5, wallet_tier="hot")],
    )
    cef = tmp_path / "alerts.cef"
    result = runner.invoke(
        app, ["monitor", "ingest", str(events), "--json", "--cef", str(cef)], env=env(ctx.settings)
    )
    assert result.exit_code == 0, result.output
    (alert,) = json.loads(result.output)["alerts"]
    assert alert["rule"] == "kinko-hot-outflow-without-withdrawal"
    assert alert["status"] == "applied"
    assert cef.read_text().startswith("CEF:0|Kinko|Kinko|")
    listed = runner.invoke(app, ["monitor", "alerts", "list", "--json"], env=env(ctx.settings))
    assert [a["status"] for a in json.loads(listed.output)] == ["open"]
    summary = runner.invoke(app, ["monitor", "alerts", "summary", "--json"], env=env(ctx.settings))
    assert json.loads(summary.output)["by_status"]["open"] == 1


def test_ingest_names_the_operator_who_fed_the_events_in(ctx: Context, tmp_path: Path) -> None:
    import getpass

    from sqlalchemy import select

    from kinko.store.tables.audit import AuditEntryRow

    events = write(
        tmp_path / "e.jsonl",
        [ev("chain.outflow", wallet="w1", asset="ETH", amount=5, wallet_tier="hot")],
    )
    result = runner.invoke(app, ["monitor", "ingest", str(events)], env=env(ctx.settings))
    assert result.exit_code == 0, result.output
    with ctx.db.transaction() as session:
        rows = session.scalars(
            select(AuditEntryRow).where(AuditEntryRow.action == "monitor.events_ingested")
        ).all()
        first_alert = session.scalar(
            select(AuditEntryRow.seq).where(AuditEntryRow.action == "monitor.alert")
        )
    (row,) = rows
    assert row.actor == f"local:{getpass.getuser()}"
    assert row.subject == str(events.resolve())
    assert json.loads(row.entry)["details"] == {
        "events": 1,
        "types": ["chain.outflow"],
        "origin": "ingest",
    }
    assert first_alert is not None and row.seq < first_alert  # recorded before any alert


def test_ingest_is_all_or_nothing(ctx: Context, tmp_path: Path) -> None:
    good = ev("chain.outflow", wallet="w1", asset="ETH", amount=5, wallet_tier="hot")
    text = good.model_dump_json() + "\n" + '{"time": "2026-11-21T09:00:00Z", "type": "x"}\n'
    result = runner.invoke(app, ["monitor", "ingest", "-"], input=text, env=env(ctx.settings))
    assert result.exit_code == 2
    assert "line 2: type" in result.output
    listed = runner.invoke(app, ["monitor", "alerts", "list", "--json"], env=env(ctx.settings))
    assert json.loads(listed.output) == []


@pytest.mark.parametrize("missing", ["nope.jsonl"])
def test_missing_file(tmp_path: Path, missing: str) -> None:
    result = runner.invoke(app, ["monitor", "replay", str(tmp_path / missing)])
    assert result.exit_code == 2 and "cannot be read" in result.output


def test_webhook_needs_a_secret(tmp_path: Path) -> None:
    result = runner.invoke(
        app,
        ["monitor", "ingest", str(upbit(tmp_path)), "--webhook", "https://example.com/h"],
    )
    assert result.exit_code == 2 and "--webhook-secret-file" in result.output
