"""Custody input that used to end in a traceback: a clear error and the documented code."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from kinko.cli.main import app
from kinko.context import Context
from kinko.server import create_app
from tests.integration.custody.exchange import set_up
from tests.support.cli_api import as_person, route_cli_to_api
from tests.support.identity import bearer, make_token, make_user
from tests.support.jsonrpc import json_rpc_node

runner = CliRunner()
OPERATOR = "ops"


@pytest.fixture(autouse=True)
def operator(ctx: Context, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """The CLI's requests go to the API on `ctx`, sent by an operator (custody:write)."""
    route_cli_to_api(ctx, monkeypatch, tmp_path / "config")
    make_user(ctx, OPERATOR, ["operator"], with_authenticator=False)


OURS = "0x7E5F4552091A69125d5DfCb7b8C2659029395Bdf"
TX_HASH = "0x" + "ab" * 32


def kinko(ctx: Context, *args: str) -> tuple[int, str]:
    env = {
        "KINKO_DATA_DIR": str(ctx.settings.data_dir),
        "KINKO_DATABASE_URL": ctx.settings.resolved_database_url,
        "KINKO_CONFIG": "",
        "COLUMNS": "400",
        **as_person(ctx, OPERATOR),  # custody changes: an operator, with their own session
    }
    result = runner.invoke(app, list(args), env=env)
    assert "Traceback" not in result.output, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, " ".join(result.output.split())


def test_status_on_a_day_before_any_crypto_asset_is_refused(ctx: Context) -> None:
    set_up(ctx)
    client = TestClient(create_app(ctx), raise_server_exceptions=False)
    reader = bearer(make_token(ctx, roles_or_permissions=["custody:read"]))
    for regime in ("kr", "jp"):
        answer = client.get(f"/v1/custody/status?day=0001-01-01&regime={regime}", headers=reader)
        assert answer.status_code == 422, answer.text
        body = answer.json()
        assert (body["error"], body["field"]) == ("invalid_input", "day")
        assert "2009-01-03" in body["message"]
    code, out = kinko(ctx, "custody", "status", "--regime", "kr", "--day", "0001-01-01")
    assert code == 2 and "day: 0001-01-01 is before 2009-01-03" in out
    # the first day, whose one-year Korean window reaches back before it, still answers
    code, out = kinko(ctx, "custody", "status", "--regime", "kr", "--day", "2009-01-03", "--json")
    assert code == 0 and "kr.cold_at_least_80pct" in out


def test_liabilities_csv_with_a_bare_carriage_return_is_refused(
    ctx: Context, tmp_path: Path
) -> None:
    set_up(ctx)
    path = tmp_path / "owed.csv"
    path.write_bytes(b"asset,amount\nbitcoin:BTC,1\rethereum:ETH,2\n")
    code, out = kinko(ctx, "custody", "liabilities", "import", str(path))
    assert code == 2 and "line 2" in out and "carriage return" in out
    path.write_bytes(b"asset,amount\nbitcoin:BTC,1\xff\n")
    code, out = kinko(ctx, "custody", "liabilities", "import", str(path))
    assert code == 2 and "is not UTF-8 text" in out


def _transaction(without: str) -> dict[str, Any]:
    tx = {
        "type": "0x2",
        "hash": TX_HASH,
        "blockHash": "0x" + "cd" * 32,
        "blockNumber": "0x1",
        "transactionIndex": "0x0",
        "from": OURS,
        "to": "0x2B5AD5c4795c026514f8317c7a215E218DcCD6cF",
        "value": "0x5",
        "nonce": "0x0",
        "gas": "0x5208",
        "maxFeePerGas": "0x77359400",
        "maxPriorityFeePerGas": "0x3b9aca00",
        "input": "0x",
        "accessList": [],
        "chainId": "0x1",
        "v": "0x1",
        "yParity": "0x1",
        "r": "0x" + "11" * 32,
        "s": "0x" + "22" * 32,
    }
    del tx[without]
    return tx


@pytest.fixture
def node_without_chain_id() -> Iterator[str]:
    tx = _transaction(without="chainId")
    block = {
        "number": "0x1",
        "hash": "0x" + "cd" * 32,
        "parentHash": "0x" + "00" * 32,
        "timestamp": "0x1",
        "transactions": [tx],
    }
    with json_rpc_node(
        {
            "eth_blockNumber": lambda _: "0x1",
            "eth_chainId": lambda _: "0x1",
            "eth_getBlockByNumber": lambda p: block if int(p[0], 16) == 1 else None,
            "eth_getTransactionByHash": lambda _: tx,
        }
    ) as url:
        yield url


def test_nonce_check_on_a_node_answer_without_chain_id(
    ctx: Context, node_without_chain_id: str
) -> None:
    code, out = kinko(
        ctx,
        "custody",
        "nonce-check",
        "--eth-node",
        node_without_chain_id,
        "--address",
        OURS,
        "--since",
        "0",
    )
    assert code == 1, out
    assert f"transaction {TX_HASH} has no 'chainId' field" in out
    assert "use a node that returns complete EIP-1559 transactions" in out
