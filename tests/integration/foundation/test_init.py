"""`kinko init`: database, audit-log key (0600), secret key and first admin; never twice."""

from __future__ import annotations

import stat
from pathlib import Path

from sqlalchemy import create_engine, select
from typer.testing import CliRunner

from kinko.audit.checkpoint import verify_checkpoint
from kinko.cli.main import app
from kinko.store.migrate import is_initialised
from kinko.store.tables.audit import AuditEntryRow

runner = CliRunner()


def test_init_creates_everything_once(tmp_path: Path, empty_database_url: str) -> None:
    """On SQLite and on PostgreSQL (`KINKO_DATABASE_URL`)."""
    data = tmp_path / "data"
    env = {"KINKO_DATABASE_URL": empty_database_url}
    first = runner.invoke(app, ["init", "--data-dir", str(data), "--admin", "alice"], env=env)
    assert first.exit_code == 0, first.output
    key = data / "audit-log.key"
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    assert stat.S_IMODE((data / "secret.key").stat().st_mode) == 0o600
    assert key.read_text().startswith("PRIVATE+KEY+")
    vkey = (data / "audit-log.vkey").read_text().strip()
    assert vkey in first.output
    assert "PRIVATE+KEY" not in first.output
    assert "enrolment secret for alice" in first.output

    engine = create_engine(empty_database_url)
    assert is_initialised(engine)
    with engine.connect() as conn:
        actions = conn.execute(select(AuditEntryRow.action)).scalars().all()
    engine.dispose()
    assert actions, "bootstrapping the first admin must be audited"

    # The log it created can be checkpointed and the checkpoint verifies with the vkey.
    checkpoint = runner.invoke(app, ["--data-dir", str(data), "audit", "checkpoint"], env=env)
    assert checkpoint.exit_code == 0, checkpoint.output
    note = checkpoint.output[checkpoint.output.index("kinko.example/audit") :]
    parsed = verify_checkpoint(note.strip() + "\n", vkey)
    assert parsed.size == len(actions)

    again = runner.invoke(app, ["init", "--data-dir", str(data)], env=env)
    assert again.exit_code == 2
    assert "refusing to overwrite" in again.output
    assert key.read_text().startswith("PRIVATE+KEY+")


def test_init_refuses_when_the_database_exists_without_keys(tmp_path: Path) -> None:
    data = tmp_path / "data"
    assert runner.invoke(app, ["init", "--data-dir", str(data)]).exit_code == 0
    (data / "audit-log.key").unlink()
    (data / "secret.key").unlink()
    again = runner.invoke(app, ["init", "--data-dir", str(data)])
    assert again.exit_code == 2
    assert "already initialised" in again.output
    assert not (data / "audit-log.key").exists()


def test_a_failed_init_leaves_nothing_behind_and_can_be_rerun(tmp_path: Path) -> None:
    data = tmp_path / "data"
    bad = runner.invoke(app, ["init", "--data-dir", str(data), "--admin", "not a username!"])
    assert bad.exit_code == 2, bad.output
    assert "Traceback" not in bad.output
    assert sorted(p.name for p in data.iterdir()) == []
    good = runner.invoke(app, ["init", "--data-dir", str(data), "--admin", "alice"])
    assert good.exit_code == 0, good.output
