"""`kinko freeze|unfreeze|addressbook|policy ...` on both databases."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from kinko.cli import policy as policy_cli
from kinko.cli.common import state
from kinko.context import Context
from kinko.core.clock import FixedClock
from kinko.store.tables.custody import AssetRow
from tests.integration.policy.support import COLD_ADDR
from tests.support.cli_api import as_person, route_cli_to_api
from tests.support.identity import make_user
from tests.support.services import services_of
from tests.support.votes import key_args

runner = CliRunner()
SAMPLE = Path(policy_cli.__file__).parent.parent / "policy" / "default_policy.yaml"
app = typer.Typer()
policy_cli.register(app)


def kinko(ctx: Context, *args: str, as_: str | None = None) -> tuple[int, str]:
    """Run `kinko ARGS`; with `as_`, as that person with their own session."""
    env = {
        "KINKO_DATA_DIR": str(ctx.settings.data_dir),
        "KINKO_DATABASE_URL": ctx.settings.resolved_database_url,
        "KINKO_CONFIG": "",
        "COLUMNS": "300",
        "KINKO_POLICY_PATH": str(SAMPLE),
        **(as_person(ctx, as_) if as_ else {}),
    }
    result = runner.invoke(app, list(args), env=env)
    assert "Traceback" not in result.output
    if result.output.lstrip().startswith("{"):
        return result.exit_code, result.output
    return result.exit_code, " ".join(result.output.split())  # undo Rich's line wrapping


@pytest.fixture(autouse=True)
def _data_dir_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """This file's app has no root callback, so a --data-dir an earlier test's command left
    in `state` would win over KINKO_DATA_DIR: start each test without one."""
    monkeypatch.setattr(state, "data_dir", None)


def approve(ctx: Context, command: str, subject: str, *, as_: str) -> tuple[int, str]:
    """`kinko COMMAND approve SUBJECT` run by `as_` with their key's answer to `kinko
    approval challenge` for exactly this vote (COMMAND: unfreeze or addressbook)."""
    votes = key_args(ctx, "proposal", subject, as_=as_)  # both are identity proposals
    return kinko(ctx, command, "approve", subject, *votes, as_=as_)


@pytest.fixture
def staff(ctx: Context, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """People (each acting with their own session and security key) and the API their
    commands go to."""
    route_cli_to_api(ctx, monkeypatch, tmp_path / "config")
    for name, roles in (
        ("sec1", ["security_admin"]),
        ("sec2", ["security_admin"]),
        ("op", ["operator"]),
        ("both", ["requester", "senior_approver"]),
        ("senior", ["senior_approver"]),
    ):
        make_user(ctx, name, roles)
    with ctx.db.transaction() as s:
        s.add(AssetRow(chain="ethereum", symbol="ETH", decimals=18))


@pytest.mark.usefixtures("staff")
def test_freeze_list_and_two_person_unfreeze(ctx: Context) -> None:
    code, out = kinko(ctx, "freeze", "asset", "ethereum:ETH", "--reason", "drain", as_="op")
    assert code == 0, out
    code, out = kinko(ctx, "freeze", "list", "--json")
    freezes = json.loads(out)["freezes"]
    assert [(f["scope"], f["target"]) for f in freezes] == [("asset", "ethereum:ETH")]
    freeze_id = freezes[0]["id"]
    code, out = kinko(ctx, "unfreeze", "propose", freeze_id, "--reason", "ok", as_="op")
    assert code == 1 and "this needs the freeze:release permission" in out
    code, out = kinko(ctx, "unfreeze", "propose", freeze_id, "--reason", "ok", as_="sec1")
    assert code == 0, out
    proposal_id = re.search(r"prp_[0-9a-z]+", out).group(0)  # type: ignore[union-attr]
    code, out = approve(ctx, "unfreeze", proposal_id, as_="sec1")
    assert code == 1 and "cannot approve" in out
    code, out = kinko(ctx, "unfreeze", "approve", proposal_id, as_="sec2")  # no key's answer
    assert code == 1 and "--assertion" in out and "kinko approval challenge" in out, out
    assert len(json.loads(kinko(ctx, "freeze", "list", "--json")[1])["freezes"]) == 1
    code, out = approve(ctx, "unfreeze", proposal_id, as_="sec2")
    assert code == 0, out
    assert json.loads(kinko(ctx, "freeze", "list", "--json")[1])["freezes"] == []


@pytest.mark.usefixtures("staff")
def test_bad_freeze_input_exits_2_naming_the_field(ctx: Context) -> None:
    code, out = kinko(ctx, "freeze", "asset", "ETH", "--reason", "x", as_="op")
    assert code == 2 and "target" in out and "chain:SYMBOL" in out
    code, out = kinko(ctx, "freeze", "all", "--reason", "x")  # nobody signed in
    assert code == 1 and "not signed in: run 'kinko login'" in out
    code, out = kinko(ctx, "freeze", "wallet", "w_hto", "--reason", "x", as_="op")
    assert code == 2 and "there is no wallet 'w_hto'" in out
    code, out = kinko(ctx, "freeze", "asset", "ethereum:ETC", "--reason", "x", as_="op")
    assert code == 2 and "there is no asset 'ethereum:ETC'" in out
    code, out = kinko(ctx, "freeze", "chain", "solana", "--reason", "x", as_="op")
    assert code == 2 and "no chain 'solana'" in out
    code, out = kinko(ctx, "freeze", "all", "--reason", "x", as_="both")
    assert code == 1 and "this needs the freeze:set permission" in out


@pytest.mark.usefixtures("staff")
def test_addressbook_four_eyes_and_cooling_off(ctx: Context, clock: FixedClock) -> None:
    args = ["--chain", "ethereum", "--address", COLD_ADDR.lower(), "--label", "cold"]
    propose = ["addressbook", "propose", *args, "--owner", "own_wallet", "--tier", "cold"]
    code, out = kinko(ctx, *propose, as_="op")
    assert code == 1 and "this needs the addressbook:propose permission" in out
    code, out = kinko(ctx, *propose, as_="both")
    assert code == 0, out
    proposal_id = re.search(r"prp_[0-9a-z]+", out).group(0)  # type: ignore[union-attr]
    code, out = approve(ctx, "addressbook", proposal_id, as_="op")
    assert code == 1 and "this needs the addressbook:approve permission" in out
    code, out = approve(ctx, "addressbook", proposal_id, as_="both")
    assert code == 1 and "cannot approve" in out
    code, out = approve(ctx, "addressbook", proposal_id, as_="senior")
    assert code == 0 and "effective from" in out
    listed = json.loads(kinko(ctx, "addressbook", "list", "--json")[1])
    assert [(e["address"], e["effective"]) for e in listed["entries"]] == [(COLD_ADDR, False)]
    code, out = kinko(
        ctx,
        "addressbook",
        "remove",
        "--chain",
        "ethereum",
        "--address",
        COLD_ADDR,
        "--reason",
        "gone",
        as_="both",
    )
    assert code == 0, out
    assert json.loads(kinko(ctx, "addressbook", "list", "--json")[1])["entries"] == []


def test_policy_validate(ctx: Context, tmp_path: Path) -> None:
    code, out = kinko(ctx, "policy", "validate", str(SAMPLE))
    assert code == 0 and "2026-11-21.1" in out and "valid" in out
    bad = tmp_path / "bad.yaml"
    bad.write_text("version: 'v1'\nrules:\n  - {id: a, kind: transfer_max, max: 1.5}\n")
    code, out = kinko(ctx, "policy", "validate", str(bad))
    assert code == 2 and "rules[0] (id=a).match" in out
    code, out = kinko(ctx, "policy", "validate", str(tmp_path / "missing.yaml"))
    assert code == 2 and "does not exist" in out
    code, out = kinko(ctx, "policy", "show")
    assert code == 0 and "btc-hot-max" in out and "2026-11-21.1" in out


def test_an_uninitialised_database_is_a_clear_error(tmp_path: Path) -> None:
    env = {
        "KINKO_DATA_DIR": str(tmp_path),
        "KINKO_DATABASE_URL": f"sqlite:///{tmp_path / 'empty.db'}",
        "KINKO_CONFIG": "",
        "KINKO_POLICY_PATH": str(SAMPLE),
    }
    result = runner.invoke(app, ["freeze", "list"], env=env)
    assert result.exit_code == 2  # bad usage: the data directory is not initialised
    assert "Traceback" not in result.output
    assert f"run 'kinko init --data-dir {tmp_path}'" in " ".join(result.output.split())


@pytest.mark.usefixtures("staff")
def test_policy_propose_names_what_it_loosens(ctx: Context, tmp_path: Path) -> None:
    from tests.integration.policy.test_policy_approval import weaker_text

    with ctx.db.transaction() as session:
        services_of(ctx).policy.record_version(session)  # the sample is in force
    weak = tmp_path / "weak.yaml"
    weak.write_text(weaker_text(), encoding="utf-8")
    code, out = kinko(ctx, "policy", "propose", str(weak), "--reason", "busy")
    assert code == 1 and "not signed in" in out
    code, out = kinko(ctx, "policy", "propose", str(weak), "--reason", "busy", as_="op")
    assert code == 1 and "roles:propose" in out
    code, out = kinko(ctx, "policy", "propose", str(weak), "--reason", "busy", as_="sec1")
    assert code == 0, out
    assert "pending: policy weak-1" in out and "to replace 2026-11-21.1" in out
    assert "loosens btc-hot-max" in out and "kinko role approve prp_" in out
    code, out = kinko(ctx, "policy", "propose", str(weak), "--reason", "x", "--json", as_="sec2")
    assert code == 2 and '"error": "policy_proposed"' in out
    code, out = kinko(ctx, "policy", "propose", str(tmp_path / "nope.yaml"), "--reason", "x")
    assert code == 2 and "FILE: cannot read" in out
