"""What `kinko init` creates is private whatever the umask: the data directory 0700, every
file in it 0600 (the SQLite database, its -wal and -shm, lock and key files), except the
audit log's verifier key, which is meant to be published (0644)."""

from __future__ import annotations

import os
import sqlite3
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from kinko.cli.main import app

runner = CliRunner()
PUBLISHED = {"audit-log.vkey": 0o644}


@pytest.fixture(params=[0o022, 0o000], ids=["umask-022", "umask-000"])
def umask(request: pytest.FixtureRequest) -> Iterator[int]:
    old = os.umask(request.param)
    yield int(request.param)
    os.umask(old)


def modes(root: Path) -> dict[str, int]:
    """Every path under `root` (and `root` itself as ".") -> its permission bits."""
    found = {".": stat.S_IMODE(root.stat().st_mode)}
    for path in root.rglob("*"):
        found[str(path.relative_to(root))] = stat.S_IMODE(path.lstat().st_mode)
    return found


def assert_private(root: Path) -> None:
    for name, mode in modes(root).items():
        if name in PUBLISHED:
            assert mode == PUBLISHED[name], (name, oct(mode))
        elif (root / name).is_dir():
            assert mode == 0o700, (name, oct(mode))
        else:
            assert mode == 0o600, (name, oct(mode))


def test_init_makes_the_data_dir_0700_and_its_files_0600(tmp_path: Path, umask: int) -> None:
    data = tmp_path / "data"
    result = runner.invoke(app, ["init", "--data-dir", str(data)], env={"KINKO_CONFIG": ""})
    assert result.exit_code == 0, result.output
    assert {"kinko.db", "audit-log.key", "secret.key", "audit-log.vkey"} <= set(modes(data))
    # While a writer is connected SQLite keeps kinko.db-wal and kinko.db-shm beside it.
    connection = sqlite3.connect(data / "kinko.db")
    try:
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute("CREATE TABLE probe (x)")
        connection.commit()
        assert {"kinko.db-wal", "kinko.db-shm"} <= set(modes(data))
        assert_private(data)
    finally:
        connection.close()
    checkpoint = runner.invoke(app, ["--data-dir", str(data), "audit", "checkpoint"])
    assert checkpoint.exit_code == 0, checkpoint.output
    assert_private(data)  # the writer lock the command created, too


def test_init_narrows_an_existing_empty_data_dir(tmp_path: Path, umask: int) -> None:
    data = tmp_path / "data"
    data.mkdir(mode=0o755)
    data.chmod(0o755)
    result = runner.invoke(app, ["init", "--data-dir", str(data)], env={"KINKO_CONFIG": ""})
    assert result.exit_code == 0, result.output
    assert_private(data)


def test_key_files_kinko_writes_elsewhere_are_0600(tmp_path: Path, umask: int) -> None:
    out = tmp_path / "new-dir" / "witness.key"
    result = runner.invoke(
        app, ["audit", "witness", "init", "--name", "w1.example", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    assert stat.S_IMODE(out.parent.stat().st_mode) == 0o700
    vkey = out.with_name("witness.key.vkey")  # published, never writable by others
    assert stat.S_IMODE(vkey.stat().st_mode) == 0o644
