"""`kinko lists load` re-screens pending withdrawals.

The CLI uploads the list to the API as the signed-in security admin; the server that
loads it re-screens what waits (the API installs the re-screen provider), so a pending
withdrawal to a newly listed address is flagged at once.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from kinko.cli.main import app
from kinko.withdrawals.service import WithdrawalRequest
from kinko.withdrawals.states import State
from tests.integration.withdrawals.exchange import LIST_CSV, Exchange
from tests.support.cli_api import as_person, route_cli_to_api
from tests.support.identity import make_user

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")
MULE = "0x" + "66" * 20


def test_a_list_loaded_by_the_cli_flags_a_pending_withdrawal(
    exchange: Exchange, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
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
    route_cli_to_api(ex.ctx, monkeypatch, tmp_path / "config")
    make_user(ex.ctx, "keeper", ["security_admin"], with_authenticator=False)
    env = {
        "KINKO_DATA_DIR": str(ex.ctx.settings.data_dir),
        "KINKO_DATABASE_URL": ex.ctx.settings.resolved_database_url,
        "KINKO_CONFIG": "",
        **as_person(ex.ctx, "keeper"),
    }
    out = CliRunner().invoke(app, ["lists", "load", str(listed), "--json"], env=env)
    assert out.exit_code == 0, out.output
    alerts = json.loads(out.stdout)["alerts"]
    assert [(a["target_kind"], a["target_ref"]) for a in alerts] == [("withdrawal", pending.id)]
