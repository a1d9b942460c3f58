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
            raise Unavailable(f"Bitcoin node refused {method}: {body['error'].get('message')}")
        return body["result"]


def broadcast(rpc: BitcoinRpc, raw: bytes) -> str:
    return str(rpc.call("sendrawtransaction", raw.hex()))


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
