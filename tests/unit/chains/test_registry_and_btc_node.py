"""The adapter registry, and the Bitcoin Core JSON-RPC client against a scripted node.

The node here is an httpx transport that answers the JSON-RPC calls Bitcoin Core would
(``getblockcount``, ``getblockhash``, ``getblock <hash> 3``, ``sendrawtransaction``) with
the documented response shapes; no bitcoind is available in the test environment.
"""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from kinko.chains.bitcoin import BitcoinAdapter
from kinko.chains.bitcoin.node import BitcoinRpc
from kinko.chains.ethereum import EthereumAdapter
from kinko.chains.registry import families, get_adapter
from kinko.core.errors import InputError, Unavailable
from tests.unit.chains.btc_fixtures import descriptor

OURS = "bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080"
THEIRS = "bcrt1qrp33g0q5c5txsp9arysrx4k6zdkfs4nce4xj0gdcccefvpysxf3qzf4jry"


def test_registry_returns_ready_adapters_and_names_unknown_chains() -> None:
    assert families() == ["bitcoin", "ethereum"]
    eth = get_adapter("ethereum", "sepolia")
    assert isinstance(eth, EthereumAdapter) and eth.chain_id == 11155111
    btc = get_adapter("bitcoin", "regtest", descriptor=descriptor())
    assert isinstance(btc, BitcoinAdapter) and btc.wallet is not None
    with pytest.raises(InputError, match="unknown chain 'solana'; known: bitcoin, ethereum"):
        get_adapter("solana")
    with pytest.raises(InputError, match="unknown Ethereum network 'goerli'"):
        get_adapter("ethereum", "goerli")


def _node(blocks: list[list[dict[str, Any]]], calls: list[str]) -> httpx.MockTransport:
    def handle(request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        calls.append(body["method"])
        method, params = body["method"], body["params"]
        if method == "getblockcount":
            result: Any = len(blocks) - 1
        elif method == "getblockhash":
            result = f"hash{params[0]}"
        elif method == "getblock":
            height = int(params[0][4:])
            assert params[1] == 3
            result = {"height": height, "tx": blocks[height]}
        elif method == "sendrawtransaction":
            if params[0] == "00":
                return httpx.Response(
                    200,
                    json={
                        "result": None,
                        "error": {"code": -22, "message": "TX decode failed"},
                        "id": "kinko",
                    },
                )
            result = "ab" * 32
        else:
            raise AssertionError(method)
        return httpx.Response(200, json={"result": result, "error": None, "id": "kinko"})

    return httpx.MockTransport(handle)


def _tx(txid: str, source: str, outputs: list[tuple[str, float]]) -> dict[str, Any]:
    """A transaction as getblock verbosity 3 returns it (values are JSON numbers in BTC)."""
    return {
        "txid": txid,
        "vin": [{"prevout": {"value": 1, "scriptPubKey": {"address": source}}}],
        "vout": [{"value": v, "scriptPubKey": {"address": a}} for a, v in outputs],
    }


def test_outflows_report_payments_out_of_watched_addresses_but_not_change() -> None:
    blocks = [
        [],
        [_tx("t1", OURS, [(THEIRS, 0.25), (OURS, 0.7499)])],
        [_tx("t2", THEIRS, [(OURS, 1.0)])],
    ]
    calls: list[str] = []
    rpc = BitcoinRpc("http://node:18443", transport=_node(blocks, calls))
    btc = BitcoinAdapter("regtest", rpc=rpc)
    assert btc.outflows([OURS], None) == ([], "2")  # None: start watching at the tip
    flows, cursor = btc.outflows([OURS.upper()], "0")
    assert [(f.txid, f.source, f.destination, f.amount, f.block) for f in flows] == [
        ("t1", OURS, THEIRS, 25_000_000, 1)
    ]
    assert cursor == "2"
    assert btc.outflows([OURS], cursor) == ([], "2")
    with pytest.raises(InputError, match="not a regtest address"):
        btc.outflows(["bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4"], None)
    with pytest.raises(InputError, match="cursor"):
        btc.outflows([OURS], "tip")


def test_broadcast_returns_the_txid_or_says_why_the_node_refused() -> None:
    rpc = BitcoinRpc("http://node:18443", transport=_node([[]], []))
    btc = BitcoinAdapter("regtest", rpc=rpc)
    assert btc.broadcast(b"\x01\x02") == "ab" * 32
    with pytest.raises(Unavailable, match="TX decode failed"):
        btc.broadcast(b"\x00")
    with pytest.raises(Unavailable, match="no Bitcoin node configured"):
        BitcoinAdapter("regtest").broadcast(b"\x01")
    with pytest.raises(InputError, match="rpc_url"):
        BitcoinRpc("node:18443")


def test_amounts_are_read_as_decimals_not_floats() -> None:
    blocks = [[], [_tx("t", OURS, [(THEIRS, 0.29)])]]
    rpc = BitcoinRpc("http://n", transport=_node(blocks, []))
    (flow,), _ = BitcoinAdapter("regtest", rpc=rpc).outflows([OURS], "0")
    assert flow.amount == 29_000_000
    assert int(0.29 * 10**8) == 28_999_999  # what parsing the JSON number as a float gives


# A one-input, one-output transaction (no witness): its txid is double SHA-256, reversed.
SENT = bytes.fromhex(
    "0200000001" + "11" * 32 + "0000000000ffffffff01e803000000000000160014" + "22" * 20 + "00000000"
)
SENT_TXID = "b91b720103788b9ae50dbff918bc375d185df91025b9f6e861efe208909b6adf"


def _refusing(code: int, message: str, *, in_mempool: bool) -> httpx.MockTransport:
    """A node that refuses sendrawtransaction with `code`, and knows the transaction in
    its mempool or not."""

    def handle(request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        if body["method"] == "getmempoolentry" and in_mempool and body["params"] == [SENT_TXID]:
            return httpx.Response(200, json={"result": {"vsize": 110}, "error": None, "id": 1})
        if body["method"] == "getmempoolentry":
            error = {"code": -5, "message": "Transaction not in mempool"}
        else:
            assert body["method"] == "sendrawtransaction"
            error = {"code": code, "message": message}
        return httpx.Response(200, json={"result": None, "error": error, "id": 1})

    return httpx.MockTransport(handle)


@pytest.mark.parametrize(
    ("code", "message", "in_mempool"),
    [
        (-27, "Transaction outputs already in utxo set", False),  # mined before the crash
        (-26, "txn-already-known", True),  # in the node's mempool
    ],
)
def test_a_transaction_the_node_already_has_counts_as_broadcast(
    code: int, message: str, in_mempool: bool
) -> None:
    rpc = BitcoinRpc("http://node:18443", transport=_refusing(code, message, in_mempool=in_mempool))
    assert BitcoinAdapter("regtest", rpc=rpc).broadcast(SENT) == SENT_TXID


def test_a_refusal_for_another_reason_stands() -> None:
    transport = _refusing(-25, "bad-txns-inputs-missingorspent", in_mempool=False)
    rpc = BitcoinRpc("http://node:18443", transport=transport)
    with pytest.raises(Unavailable, match="bad-txns-inputs-missingorspent"):
        BitcoinAdapter("regtest", rpc=rpc).broadcast(SENT)
