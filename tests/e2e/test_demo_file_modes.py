"""`kinko demo` on a fresh data directory under umask 000: everything it creates there is
private (directories 0700, files 0600) but the audit log's published verifier key."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from kinko.cli.main import app
from tests.integration.foundation.test_file_modes import assert_private

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def test_demo_creates_only_private_files(tmp_path: Path) -> None:
    data = tmp_path / "data"
    old = os.umask(0)
    try:
        result = CliRunner().invoke(
            app,
            ["--data-dir", str(data), "demo", "--no-serve"],
            env={"KINKO_CONFIG": None, "KINKO_POLICY_PATH": None, "KINKO_LOG_JSON": "false"},
        )
    finally:
        os.umask(old)
    assert result.exit_code == 0, result.output
    assert (data / "keys" / "wal_eth_hot.key").exists()
    assert (data / "demo-authenticators").is_dir()
    assert_private(data)
