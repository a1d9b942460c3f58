"""`kinko lists load` in a process of its own re-screens pending withdrawals.

The CLI imports a domain's module only when one of its commands runs, so a process that
only loads a list never imports the withdrawal CLI: the re-screen provider must come with
the context every database command opens (`kinko.cli.common.context`).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from kinko.withdrawals.service import WithdrawalRequest
from kinko.withdrawals.states import State
from tests.integration.withdrawals.exchange import LIST_CSV, Exchange

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")
MULE = "0x" + "66" * 20


def test_a_list_loaded_by_the_cli_flags_a_pending_withdrawal(
    exchange: Exchange, tmp_path: Path
) -> None:
    ex = exchange
    pending = ex.withdrawals.request(
        WithdrawalRequest(asset="ETH", amount="2", destination=MULE),
        requester=ex.user("alice"),
        idempotency_key="k-cli-rescreen",
        channel="api",
    )
    assert pending.state is State.PENDING_APPROVAL
    listed = tmp_path / "stolen-funds-v2.csv"
    listed.write_text(
        LIST_CSV + f"stolen-funds,Newly listed mule,ethereum,{MULE},case 44,2026-01-03\n",
        encoding="utf-8",
    )
    env = {
        **os.environ,
        "KINKO_DATA_DIR": str(ex.ctx.settings.data_dir),
        "KINKO_DATABASE_URL": ex.ctx.settings.resolved_database_url,
        "KINKO_CONFIG": "",
    }
    out = subprocess.run(
        [str(Path(sys.executable).with_name("kinko")), "lists", "load", str(listed), "--json"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert out.returncode == 0, out.stderr
    alerts = json.loads(out.stdout)["alerts"]
    assert [(a["target_kind"], a["target_ref"]) for a in alerts] == [("withdrawal", pending.id)]
