"""Bitcoin Core JSON-RPC: broadcast and outflow watching.

Outflows are read block by block with ``getblock <hash> 3`` (Bitcoin Core >= 25), which
includes each input's previous output, so no wallet needs to be loaded in the node.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import httpx

from kinko.chains.base import Outflow
from kinko.chains.bitcoin.networks import BitcoinNetwork
from kinko.core.errors import InputError, Unavailable

# Bitcoin Core src/rpc/protocol.h: the transaction is already in a block.
RPC_VERIFY_ALREADY_IN_CHAIN = -27


class RpcRefused(Unavailable):
    """The node answered with a JSON-RPC error; `rpc_code` is Bitcoin Core's code."""

    def __init__(self, message: str, *, rpc_code: int | None) -> None:
        super().__init__(message)
        self.rpc_code = rpc_code


class BitcoinRpc:
    """A minimal JSON-RPC client. `transport` lets tests plug in an httpx transport."""

    def __init__(self, url: str, *, transport: httpx.BaseTransport | None = None) -> None:
        if not url.startswith(("http://", "https://")):
            raise InputError("rpc_url", "use an http:// or https:// URL for the Bitcoin node")
        self._client = httpx.Client(base_url=url, transport=transport, timeout=30)

    def call(self, method: str, *params: Any) -> Any:
        try:
            reply = self._client.post(
                "/", json={"jsonrpc": "1.0", "id": "kinko", "method": method, "params": params}
            )
            body = reply.json(parse_float=Decimal)
        except (httpx.HTTPError, ValueError) as exc:
            raise Unavailable(f"Bitcoin node unreachable: {exc}") from None
        if body.get("error"):
            error = body["error"]
            code = error.get("code")
            raise RpcRefused(
                f"Bitcoin node refused {method}: {error.get('message')}",
                rpc_code=code if isinstance(code, int) else None,
            )
        return body["result"]


def broadcast(rpc: BitcoinRpc, raw: bytes) -> str:
    """Send `raw`; its txid. If the node refuses it because it already has it — in a block
    (RPC_VERIFY_ALREADY_IN_CHAIN) or in its mempool — that is this transaction, sent before
    Kinko could record it: its txid is returned instead of an error."""
    try:
        return str(rpc.call("sendrawtransaction", raw.hex()))
    except RpcRefused as exc:
        txid = _txid(raw)
        if txid is None:
            raise
        if exc.rpc_code == RPC_VERIFY_ALREADY_IN_CHAIN or _in_mempool(rpc, txid):
            return txid
        raise


def _txid(raw: bytes) -> str | None:
    from embit.transaction import Transaction

    try:
        return str(Transaction.parse(raw).txid().hex())
    except Exception:  # not a transaction: let the node's refusal stand
        return None


def _in_mempool(rpc: BitcoinRpc, txid: str) -> bool:
    try:
        entry = rpc.call("getmempoolentry", txid)
    except Unavailable:
        return False
    return isinstance(entry, dict)


def _sats(value: Any) -> int:
    return int(Decimal(str(value)) * 100_000_000)


def outflows(
    rpc: BitcoinRpc, watched: set[str], cursor: str | None, net: BitcoinNetwork
) -> tuple[list[Outflow], str]:
    """Spends from `watched` addresses in blocks after height `cursor`.

    ``None`` starts watching now (nothing reported, cursor = the tip); "0" scans from the
    first block after genesis.
    """
    if cursor is not None and not cursor.isdigit():
        raise InputError("cursor", f"{cursor!r} is not a block height")
    tip = int(rpc.call("getblockcount"))
    if cursor is None:
        return [], str(tip)
    start = int(cursor) + 1
    found: list[Outflow] = []
    for height in range(start, tip + 1):
        block = rpc.call("getblock", rpc.call("getblockhash", height), 3)
        for tx in block["tx"]:
            sources = [
                vin["prevout"]["scriptPubKey"].get("address")
                for vin in tx["vin"]
                if "prevout" in vin
            ]
            ours = [s for s in sources if s in watched]
            if not ours:
                continue
            for vout in tx["vout"]:
                to = vout["scriptPubKey"].get("address", "")
                if to in watched:
                    continue
                found.append(Outflow(tx["txid"], ours[0], to, "BTC", _sats(vout["value"]), height))
    return found, str(max(tip, start - 1))
