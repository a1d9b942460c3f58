"""Every custody change a person makes (CLI included) is a security event for the monitor
(issue 13, item 8): registering an asset, a wallet (its tier and quorum) and a key share,
retiring a share and marking one compromised, on both databases. A refused change
publishes nothing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from kinko.cli.main import app
from kinko.context import Context
from kinko.core.events import SecurityEvent
from kinko.identity.service import IdentityService
from tests.integration.custody.exchange import proposal_in
from tests.support.cli_api import as_person, route_cli_to_api
from tests.support.identity import ensure_secret_key, make_user
from tests.support.votes import key_args

OPERATOR = "ops"
SECOND = "ops2"  # the second pair of eyes on each registration
ADDRESS = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"


@pytest.fixture
def events(ctx: Context, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> list[SecurityEvent]:
    """The custody events `ctx`'s bus carries while the CLI, as an operator, goes to the API."""
    route_cli_to_api(ctx, monkeypatch, tmp_path / "config")
    ensure_secret_key(ctx)
    make_user(ctx, OPERATOR, ["operator"], with_authenticator=False)
    make_user(ctx, SECOND, ["operator"])
    seen: list[SecurityEvent] = []

    def custody(e: SecurityEvent) -> None:
        if e.type.startswith("custody.") and e.type != "custody.proposal":
            seen.append(e)

    ctx.bus.subscribe(custody)
    return seen


def approved(ctx: Context, proposed: tuple[int, str]) -> None:
    """What an operator proposed, approved by the second operator (four eyes)."""
    code, out = proposed
    assert code == 0, out
    pid = proposal_in(out)
    key = key_args(ctx, "proposal", pid, as_=SECOND)
    assert kinko(ctx, "role", "approve", pid, *key, as_=SECOND)[0] == 0


def kinko(ctx: Context, *args: str, as_: str = OPERATOR) -> tuple[int, str]:
    env = {
        "KINKO_DATA_DIR": str(ctx.settings.data_dir),
        "KINKO_DATABASE_URL": ctx.settings.resolved_database_url,
        "KINKO_CONFIG": "",
        "COLUMNS": "400",
        **as_person(ctx, as_),
    }
    result = CliRunner().invoke(app, list(args), env=env)
    assert "Traceback" not in result.output, result.output
    return result.exit_code, " ".join(result.output.split())


def test_custody_changes_on_the_cli_are_security_events(
    ctx: Context, events: list[SecurityEvent], tmp_path: Path
) -> None:
    with ctx.db.reading() as session:
        operator = IdentityService(ctx).users.require_user(session, OPERATOR).id
        second = IdentityService(ctx).users.require_user(session, SECOND).id
    # A registration is proposed by one operator and made when the second approves it:
    # its event's actor is the approver, and it names the proposer.
    actor, proposer = f"user:{second}", f"user:{operator}"
    added = kinko(ctx, "wallet", "asset-add", "ETH", "--chain", "ethereum", "--decimals", "18")
    assert events == []  # proposed, nothing registered yet
    approved(ctx, added)
    [asset] = events
    assert (asset.type, asset.actor, asset.asset) == ("custody.asset.registered", actor, "ETH")
    assert asset.fields["proposer"] == proposer
    assert asset.fields["asset_key"] == "ethereum:ETH" and asset.fields["decimals"] == 18
    wallet_args = [
        "wallet", "add", "eth-hot", "--chain", "ethereum", "--network", "devnet",
        "--asset", "ethereum:ETH", "--tier", "hot", "--owner", "customer",
        "--quorum", "1-of-1", "--address", ADDRESS, "--role", "approver",
    ]  # fmt: skip
    approved(ctx, kinko(ctx, *wallet_args))
    wallet = events[-1]
    assert (wallet.type, wallet.actor) == ("custody.wallet.registered", actor)
    assert wallet.fields["proposer"] == proposer
    assert {k: wallet.fields[k] for k in ("tier", "quorum_m", "quorum_n", "eligible_roles")} == {
        "tier": "hot",
        "quorum_m": 1,
        "quorum_n": 1,
        "eligible_roles": ["approver"],
    }
    assert kinko(ctx, *wallet_args)[0] == 2  # the same name again: refused
    assert len(events) == 2  # and nothing published

    holder, _ = make_user(ctx, "ann", with_authenticator=False)
    ceremony = tmp_path / "ceremony.json"
    ceremony.write_text(
        json.dumps({"performed_at": "2026-11-01", "witnesses": ["a", "b"], "procedure": "KGC-7"})
    )
    code, out = kinko(
        ctx, "custody", "keys", "add", "--wallet", str(wallet.wallet), "--holder", holder,
        "--device", "yubi-1", "--site", "tokyo", "--entity", "Kinko KK",
        "--public-key", "02" + "11" * 32, "--ceremony", str(ceremony),
    )  # fmt: skip
    approved(ctx, (code, out))
    share = events[-1]
    assert (share.type, share.actor, share.wallet) == (
        "custody.key.registered",
        actor,
        wallet.wallet,
    )
    assert share.fields["holder"] == holder and share.fields["device"] == "yubi-1"
    share_id = share.fields["share"]
    # Marking a share revoked or compromised is one person's (it only stops a key).
    assert kinko(ctx, "custody", "keys", "revoke", share_id, "--reason", "rotated")[0] == 0
    revoked = events[-1]
    assert (revoked.type, revoked.actor, revoked.severity) == (
        "custody.key.revoked",
        proposer,  # the operator alone
        "medium",
    )
    assert (revoked.fields["share"], revoked.fields["reason"]) == (share_id, "rotated")
    code, _ = kinko(ctx, "custody", "keys", "compromised", share_id, "--reason", "laptop stolen")
    assert code == 0
    compromised = events[-1]
    assert (compromised.type, compromised.severity) == ("custody.key.compromised", "critical")
    assert compromised.fields["from"] == "revoked" and compromised.actor == proposer
    code, _ = kinko(ctx, "custody", "keys", "revoke", share_id, "--reason", "again")
    assert code == 2 and len(events) == 5  # refused: compromised is final, nothing published
