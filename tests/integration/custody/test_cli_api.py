"""`kinko wallet ...`, `kinko custody ...` and the custody HTTP routes, on both databases."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from typer.testing import CliRunner

from kinko.cli.main import app
from kinko.context import Context
from kinko.custody import wallets
from kinko.identity.service import IdentityService
from kinko.server import create_app
from kinko.store.tables.audit import AuditEntryRow
from tests.integration.custody.exchange import BTC, DAY, ETH, fund, proposal_in, set_up
from tests.support.cli_api import as_person, route_cli_to_api
from tests.support.identity import bearer, ensure_secret_key, make_token, make_user
from tests.support.votes import key_args
from tests.unit.chains.btc_fixtures import descriptor

runner = CliRunner()
OPERATOR = "ops"
SECOND = "ops2"  # a second operator: the other pair of eyes on a registration


@pytest.fixture(autouse=True)
def operator(ctx: Context, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """The CLI's requests go to the API on `ctx`, sent by an operator (custody:write)."""
    route_cli_to_api(ctx, monkeypatch, tmp_path / "config")
    make_user(ctx, OPERATOR, ["operator"], with_authenticator=False)
    make_user(ctx, SECOND, ["operator"])


def kinko(ctx: Context, *args: str, as_: str = OPERATOR) -> tuple[int, str]:
    env = {
        "KINKO_DATA_DIR": str(ctx.settings.data_dir),
        "KINKO_DATABASE_URL": ctx.settings.resolved_database_url,
        "KINKO_CONFIG": "",
        "COLUMNS": "400",
        **as_person(ctx, as_),  # custody changes: an operator, with their own session
    }
    result = runner.invoke(app, list(args), env=env)
    assert "Traceback" not in result.output, result.output
    # Rich wraps long lines at the terminal width; compare text with whitespace collapsed.
    return result.exit_code, " ".join(result.output.split())


def approved(ctx: Context, proposed: tuple[int, str]) -> None:
    """A registration the operator proposed, approved by a second operator on the CLI."""
    code, out = proposed
    assert code == 0 and "kinko role approve" in out, out
    pid = proposal_in(out)
    code, out = kinko(
        ctx, "role", "approve", pid, *key_args(ctx, "proposal", pid, as_=SECOND), as_=SECOND
    )
    assert code == 0 and "approved" in out, out


def wallet_named(ctx: Context, name: str) -> str:
    code, out = kinko(ctx, "wallet", "list", "--json")
    assert code == 0, out
    return next(w["id"] for w in json.loads(out) if w["name"] == name)


def only_share(ctx: Context, wallet_id: str) -> str:
    code, out = kinko(ctx, "custody", "keys", "list", "--wallet", wallet_id, "--json")
    assert code == 0, out
    [share] = json.loads(out)
    return str(share["id"])


def test_status_table_passes_and_fails_with_exit_codes(ctx: Context, tmp_path: Path) -> None:
    ids = set_up(ctx)
    fund(ctx, ids, btc_hot=0, btc_cold=100 * 10**8, eth_hot=0, eth_cold=10**18, eth_guarantee=0)
    csv_file = tmp_path / "owed.csv"
    csv_file.write_text("asset,amount\nbitcoin:BTC,100\nethereum:ETH,1\n")
    assert kinko(ctx, "custody", "liabilities", "import", str(csv_file))[0] == 0
    code, out = kinko(ctx, "custody", "status", "--regime", "jp", "--day", DAY.isoformat())
    assert code == 0, out
    assert "custody status (jp)" in out and "pass" in out and "FAIL" not in out
    code, out = kinko(ctx, "custody", "balance", ids.btc_hot, BTC, str(6 * 10**8))
    assert code == 0, out
    code, out = kinko(ctx, "custody", "status", "--day", DAY.isoformat(), "--json")
    assert code == 1
    result = json.loads(out)
    failed = {c["name"] for c in result["checks"] if not c["passed"]}
    assert failed == {"jp.outside_cold_at_most_5pct", "jp.guarantee_covers_hot"}
    code, out = kinko(ctx, "custody", "status", "--regime", "kr", "--day", DAY.isoformat())
    assert code == 1 and "no price for" in out


def test_bad_input_exits_2_with_the_field(ctx: Context, tmp_path: Path) -> None:
    set_up(ctx)
    bad = tmp_path / "bad.csv"
    bad.write_text("asset,amount\nbitcoin:BTC,1.000000001\n")
    code, out = kinko(ctx, "custody", "liabilities", "import", str(bad))
    assert code == 2 and "line 2: amount" in out
    code, out = kinko(ctx, "custody", "status", "--regime", "us")
    assert code == 2 and "regime" in out
    code, out = kinko(
        ctx,
        "wallet",
        "add",
        "w",
        "--chain",
        "ethereum",
        "--asset",
        ETH,
        "--tier",
        "hot",
        "--owner",
        "customer",
        "--quorum",
        "1-of-1",
        "--address",
        "0x5aaeb6053F3E94C9b9A09f33669435E7Ef1BeAed",
    )
    assert code == 2 and "EIP-55" in out
    code, out = kinko(
        ctx,
        "wallet",
        "add",
        "w",
        "--chain",
        "dogecoin",
        "--asset",
        ETH,
        "--tier",
        "hot",
        "--owner",
        "customer",
        "--quorum",
        "one",
    )
    assert code == 2 and "quorum" in out


def test_wallets_keys_rebalance_and_nonce_check_commands(ctx: Context, tmp_path: Path) -> None:
    ids = set_up(ctx)
    ensure_secret_key(ctx)
    alice, _ = make_user(ctx, "alice", with_authenticator=False)
    fund(ctx, ids, btc_hot=5 * 10**8, btc_cold=1, eth_hot=0, eth_cold=0, eth_guarantee=0)
    code, out = kinko(ctx, "wallet", "list", "--json")
    assert code == 0 and {w["name"] for w in json.loads(out)} >= {"btc-hot", "eth-cold"}
    ceremony = tmp_path / "ceremony.json"
    ceremony.write_text(
        json.dumps({"performed_at": "2026-11-01", "witnesses": ["a", "b"], "procedure": "KGC-7"})
    )
    args = [
        "custody",
        "keys",
        "add",
        "--wallet",
        ids.btc_cold,
        "--holder",
        alice,
        "--device",
        "hsm-1",
        "--site",
        "tokyo",
        "--entity",
        "Kinko KK",
        "--public-key",
        "pk1",
        "--ceremony",
        str(ceremony),
    ]
    approved(ctx, kinko(ctx, *args))
    code, out = kinko(ctx, *args[:-2], "--ceremony", str(ceremony))
    assert code == 2 and "already holds" in out
    code, out = kinko(ctx, "custody", "rebalance", "--json")
    assert code == 0
    plan = json.loads(out)
    assert plan["proposals"][0]["wallet_id"] == ids.btc_hot
    assert plan["proposals"][0]["purpose"] == "rebalance:sweep_to_cold"
    code, out = kinko(ctx, "custody", "nonce-check")
    assert code == 0 and "0 signatures" in out
    assert kinko(ctx, "custody", "snapshot", "--day", DAY.isoformat())[0] == 0
    assert kinko(ctx, "custody", "snapshot", "--day", DAY.isoformat())[0] == 2


def test_api_status_liabilities_and_permissions(ctx: Context) -> None:
    ensure_secret_key(ctx)
    ids = set_up(ctx)
    fund(ctx, ids, btc_hot=0, btc_cold=2 * 10**8, eth_hot=0, eth_cold=0, eth_guarantee=0)
    client = TestClient(create_app(ctx), base_url="https://testserver")
    reader = make_token(ctx, roles_or_permissions=["custody:read"])
    writer = make_token(ctx, roles_or_permissions=["custody:write"])
    assert client.get("/v1/custody/status").status_code == 401
    body = {"source": "ledger-api", "liabilities": [{"asset": BTC, "amount": "2"}]}
    assert (
        client.put("/v1/custody/liabilities", json=body, headers=bearer(reader)).status_code == 403
    )
    reply = client.put("/v1/custody/liabilities", json=body, headers=bearer(writer))
    assert reply.status_code == 200 and reply.json() == {BTC: "200000000"}
    bad = {"source": "x", "liabilities": [{"asset": BTC, "amount": 2.5}]}
    reply = client.put("/v1/custody/liabilities", json=bad, headers=bearer(writer))
    assert reply.status_code == 422 and reply.json()["error"] == "invalid_input"
    bad = {"source": "x", "liabilities": [{"asset": "bitcoin:NOPE", "amount": "1"}]}
    reply = client.put("/v1/custody/liabilities", json=bad, headers=bearer(writer))
    assert reply.status_code == 422 and reply.json()["field"] == "liabilities[0].asset"
    reply = client.get(
        "/v1/custody/status",
        params={"regime": "jp", "day": DAY.isoformat()},
        headers=bearer(reader),
    )
    assert reply.status_code == 200, reply.text
    assert reply.json()["passed"] is True and reply.json()["currency"] == "JPY"
    reply = client.get("/v1/custody/status", params={"regime": "kr"}, headers=bearer(reader))
    assert reply.status_code == 503 and reply.json()["error"] == "unavailable"
    assert client.get("/v1/custody/liabilities", headers=bearer(reader)).json() == {
        BTC: "200000000"
    }
    wallets = client.get("/v1/custody/wallets", headers=bearer(reader)).json()
    assert len(wallets) == 5
    assert client.get("/v1/custody/keys", headers=bearer(reader)).json() == []
    plan = client.get("/v1/custody/rebalance", headers=bearer(reader)).json()
    assert plan == {
        "proposals": [],
        "problems": [
            f"{ids.btc_hot}: below floor by 10000000 {BTC} and no warm wallet can refill it"
        ],
    }


def test_assets_prices_liabilities_and_key_status_commands(ctx: Context, tmp_path: Path) -> None:
    code, out = kinko(ctx, "wallet", "asset-add", "BTC", "--chain", "bitcoin", "--decimals", "8")
    assert code == 0 and "bitcoin:BTC" in out
    approved(ctx, (code, out))
    code, out = kinko(ctx, "wallet", "asset-add", "BTC", "--chain", "bitcoin", "--decimals", "8")
    assert code == 2 and "already registered" in out
    code, out = kinko(ctx, "wallet", "asset-add", "btc", "--chain", "bitcoin", "--decimals", "8")
    assert code == 2 and "asset.symbol" in out
    prices = tmp_path / "prices.csv"
    prices.write_text("asset,price\nbitcoin:BTC,15000000.25\n")
    code, out = kinko(
        ctx, "custody", "prices", str(prices), "--currency", "JPY", "--day", DAY.isoformat()
    )
    assert code == 0, out
    prices.write_text("asset,price\nbitcoin:BTC,1e400\n")
    assert kinko(ctx, "custody", "prices", str(prices), "--currency", "JPY")[0] == 2
    prices.write_text("asset,price\nbitcoin:BTC,-3\n")
    code, out = kinko(ctx, "custody", "prices", str(prices), "--currency", "USD")
    assert code == 2 and "currency" in out
    owed = tmp_path / "owed.csv"
    owed.write_text("asset,amount\nbitcoin:BTC,0.5\n")
    assert kinko(ctx, "custody", "liabilities", "import", str(owed))[0] == 0
    code, out = kinko(ctx, "custody", "liabilities", "show")
    assert code == 0 and json.loads(out) == {"bitcoin:BTC": "50000000"}
    ensure_secret_key(ctx)
    holder, _ = make_user(ctx, "holder", with_authenticator=False)
    wallet_args = [
        "wallet",
        "add",
        "cold",
        "--chain",
        "bitcoin",
        "--network",
        "regtest",
        "--asset",
        "bitcoin:BTC",
        "--tier",
        "cold",
        "--owner",
        "customer",
        "--quorum",
        "2-of-3",
        "--descriptor",
        descriptor(),
    ]
    approved(ctx, kinko(ctx, *wallet_args))
    wallet_id = wallet_named(ctx, "cold")
    ceremony = tmp_path / "c.json"
    ceremony.write_text('{"performed_at": "2026-11-01", "witnesses": ["x"], "procedure": "p"}')
    code, out = kinko(
        ctx,
        "custody",
        "keys",
        "add",
        "--wallet",
        wallet_id,
        "--holder",
        holder,
        "--device",
        "hsm",
        "--site",
        "osaka",
        "--entity",
        "Kinko KK",
        "--public-key",
        "pk",
        "--ceremony",
        str(ceremony),
    )
    approved(ctx, (code, out))
    share = only_share(ctx, wallet_id)
    code, out = kinko(ctx, "custody", "keys", "list", "--wallet", wallet_id, "--json")
    assert code == 0
    assert [(k["id"], k["holder"], k["status"]) for k in json.loads(out)] == [
        (share, holder, "active")
    ]
    assert kinko(ctx, "custody", "keys", "compromised", share, "--reason", "stolen")[0] == 0
    code, out = kinko(ctx, "custody", "keys", "revoke", share, "--reason", "late")
    assert code == 2 and "cannot become revoked" in out
    ceremony.write_text("[1, 2]")
    code, out = kinko(
        ctx,
        "custody",
        "keys",
        "add",
        "--wallet",
        wallet_id,
        "--holder",
        holder,
        "--device",
        "hsm2",
        "--site",
        "osaka",
        "--entity",
        "Kinko KK",
        "--public-key",
        "pk2",
        "--ceremony",
        str(ceremony),
    )
    assert code == 2 and "JSON object" in out


def test_custody_changes_are_the_signed_in_persons(ctx: Context, tmp_path: Path) -> None:
    """Each change is a request as the person: a requester may not make it, an operator
    may, and the audit log names the operator (not the machine's account)."""
    ids = set_up(ctx)
    make_user(ctx, "req", ["requester"], with_authenticator=False)
    balance = ("custody", "balance", ids.btc_hot, BTC, "7")
    code, out = kinko(ctx, *balance, as_="req")
    assert code == 1 and "custody:write" in out
    code, out = kinko(ctx, "custody", "snapshot", "--day", DAY.isoformat(), as_="req")
    assert code == 1 and "custody:write" in out
    assert kinko(ctx, *balance)[0] == 0
    with ctx.db.reading() as session:
        ops = IdentityService(ctx).users.require_user(session, OPERATOR).id
        rows = session.execute(
            select(AuditEntryRow.actor).where(AuditEntryRow.action.like("custody.%"))
        ).scalars()
        assert f"user:{ops}" in set(rows)


def test_a_registration_on_the_cli_needs_a_second_person(ctx: Context) -> None:
    """`kinko wallet asset-add` proposes (nothing registered) and prints how a second
    person approves; the proposer's own `kinko role approve` is refused (exit 1)."""
    code, out = kinko(ctx, "wallet", "asset-add", "BTC", "--chain", "bitcoin", "--decimals", "8")
    assert code == 0 and "nothing is registered until" in out and "kinko role approve" in out
    proposal = proposal_in(out)
    with ctx.db.reading() as session:
        assert wallets.assets(session) == {}
    code, out = kinko(ctx, "role", "approve", proposal, "--json")
    assert code == 1 and '"error": "self_approval"' in out, out
    key = key_args(ctx, "proposal", proposal, as_=SECOND)
    code, out = kinko(ctx, "role", "approve", proposal, *key, as_=SECOND)
    assert code == 0, out
    with ctx.db.reading() as session:
        assert list(wallets.assets(session)) == ["bitcoin:BTC"]
