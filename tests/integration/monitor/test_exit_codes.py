"""`kinko monitor ingest` and `watch --once` exit 1 when there is something to look at:
a response that failed, an outflow nothing explains (the documented 0/1/2)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from kinko.cli.main import app
from kinko.context import Context
from kinko.store.tables.custody import WalletRow
from tests.support.jsonrpc import json_rpc_node
from tests.unit.monitor.support import ev

runner = CliRunner()
OURS = "0x7E5F4552091A69125d5DfCb7b8C2659029395Bdf"
PAYEE = "0x2B5AD5c4795c026514f8317c7a215E218DcCD6cF"


def kinko(ctx: Context, *args: str, **env: str) -> tuple[int, str]:
    """Exit code and output; with --json, only stdout (the JSON document)."""
    result = runner.invoke(
        app,
        list(args),
        env={
            "KINKO_DATA_DIR": str(ctx.settings.data_dir),
            "KINKO_DATABASE_URL": ctx.settings.resolved_database_url,
            "KINKO_CONFIG": "",
            "COLUMNS": "400",
            **env,
        },
    )
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    if "--json" in args:
        return result.exit_code, result.stdout
    return result.exit_code, " ".join(result.output.split())


def test_ingest_exits_1_when_a_response_failed(ctx: Context, tmp_path: Path) -> None:
    # MFA fatigue on an account that does not exist: the lock response cannot apply.
    events = [ev("auth.mfa", i * 10, actor="user:ghost", outcome="failure") for i in range(5)]
    events.append(ev("auth.mfa", 60, actor="user:ghost", outcome="success"))
    path = tmp_path / "events.jsonl"
    path.write_text("".join(e.model_dump_json() + "\n" for e in events), encoding="utf-8")
    code, out = kinko(ctx, "monitor", "ingest", str(path))
    assert code == 1, out
    assert "monitor response failed: lock_account for alert" in out
    code, out = kinko(ctx, "monitor", "ingest", str(path), "--json")
    assert code == 1
    assert [a["status"] for a in json.loads(out)["alerts"]] == ["failed"]
    code, out = kinko(ctx, "monitor", "alerts", "list", "--json")
    assert code == 0 and {a["rule"] for a in json.loads(out)} == {"kinko-mfa-fatigue"}


def test_ingest_exits_0_when_every_response_applied(ctx: Context, tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    path.write_text(ev("auth.login", actor="user:x").model_dump_json() + "\n", encoding="utf-8")
    assert kinko(ctx, "monitor", "ingest", str(path))[0] == 0


def _transfer(block: int) -> dict[str, Any]:
    return {
        "type": "0x2",
        "hash": "0x" + f"{block:02x}" * 32,
        "blockHash": "0x" + "cd" * 32,
        "blockNumber": hex(block),
        "transactionIndex": "0x0",
        "from": OURS,
        "to": PAYEE,
        "value": hex(3 * 10**18),
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


def add_hot_wallet(ctx: Context) -> None:
    """The watched hot wallet at OURS."""
    with ctx.db.transaction() as s:
        s.add(
            WalletRow(
                id="wal_eth_hot",
                name="ETH hot",
                chain="ethereum",
                network="mainnet",
                assets=["ETH"],
                tier="hot",
                owner_class="customer",
                purpose="operational",
                quorum_m=1,
                quorum_n=1,
                eligible_roles=["approver"],
                address=OURS,
                limits={},
                active=True,
                created_at=ctx.clock.now(),
            )
        )


def node_answers(chain: dict[str, int]) -> dict[str, Any]:
    """A node's JSON-RPC answers up to `chain["tip"]`; block 6 holds a 3 ETH transfer
    out of OURS that no withdrawal explains."""

    def block(params: list[Any]) -> dict[str, Any]:
        number = int(params[0], 16)
        return {
            "number": hex(number),
            "hash": "0x" + f"{number:02x}" * 32,
            "parentHash": "0x" + "00" * 32,
            "timestamp": hex(1_700_000_000 + number),
            "transactions": [_transfer(number)] if number == 6 else [],
        }

    return {
        "eth_chainId": lambda _: "0x1",
        "eth_blockNumber": lambda _: hex(chain["tip"]),
        "eth_getBlockByNumber": block,
        "eth_getLogs": lambda _: [],
    }


def test_watch_once_exits_1_on_an_unexplained_outflow(ctx: Context) -> None:
    add_hot_wallet(ctx)
    chain = {"tip": 5}
    answers = node_answers(chain)
    with json_rpc_node(answers) as url:
        node = {"KINKO_ETHEREUM_NODE_URL": url, "KINKO_ETHEREUM_NETWORK": "mainnet"}
        code, out = kinko(ctx, "monitor", "watch", "--once", **node)
        assert code == 0, out  # the first pass only notes where the chain is
        chain["tip"] = 6
        code, out = kinko(ctx, "monitor", "watch", "--once", **node)
    assert code == 1, out
    # The wallet by name and id (kinko.cli.output.Names), the amount in base units.
    assert "wal_eth_hot" in out and f"{3 * 10**18} ETH -> {PAYEE}" in out
    assert "UNEXPLAINED" in out
    code, out = kinko(ctx, "monitor", "alerts", "list", "--json")
    assert code == 0 and json.loads(out), out


def test_an_event_with_a_5000_digit_number_is_refused_naming_the_line(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    good = ev("auth.login", actor="user:x").model_dump_json()
    path.write_text(good + "\n" + good[:-1] + ', "amount": ' + "9" * 5000 + "}\n")
    result = runner.invoke(app, ["monitor", "replay", str(path)], env={"KINKO_CONFIG": ""})
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert result.exit_code == 2
    assert "line 2: holds a number with more than 4,300 digits" in result.output
