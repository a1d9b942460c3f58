"""Talking to an Ethereum node through web3: broadcast and outflow watching."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from kinko.chains.base import Outflow
from kinko.chains.ethereum.address import keccak256, normalize_address, to_checksum
from kinko.core.errors import InputError, Unavailable

TRANSFER_TOPIC = keccak256(b"Transfer(address,address,uint256)")


def connect(node_url: str) -> Any:
    """A web3 client for an HTTP(S) or WebSocket node URL."""
    from web3 import Web3

    if node_url.startswith(("http://", "https://")):
        return Web3(Web3.HTTPProvider(node_url))
    raise InputError("node_url", "use an http:// or https:// node URL")


def broadcast(w3: Any, raw: bytes, expected_hash: bytes) -> str:
    try:
        sent = bytes(w3.eth.send_raw_transaction(raw))
    except Exception as exc:  # web3 raises many provider-specific types
        raise Unavailable(f"the node refused the transaction: {exc}") from None
    if sent != expected_hash:
        raise Unavailable("the node reported a different transaction hash than was sent")
    return "0x" + sent.hex()


def outflows(
    w3: Any,
    addresses: Sequence[str],
    cursor: str | None,
    tokens: Mapping[str, str],
) -> tuple[list[Outflow], str]:
    """Native transfers and ERC-20 `Transfer` events out of `addresses` after block `cursor`.

    The cursor is the last block number already seen (decimal string); ``None`` starts
    from the genesis block. Returns the outflows in block order and the new cursor.
    """
    watched = {normalize_address(a, field="addresses") for a in addresses}
    start = 0 if cursor is None else _cursor(cursor) + 1
    try:
        latest = int(w3.eth.block_number)
    except Exception as exc:
        raise Unavailable(f"the Ethereum node is unreachable: {exc}") from None
    found: list[Outflow] = []
    if start > latest:
        return found, str(latest if cursor is None else _cursor(cursor))
    for number in range(start, latest + 1):
        block = w3.eth.get_block(number, full_transactions=True)
        for tx in block["transactions"]:
            source = to_checksum(bytes.fromhex(str(tx["from"])[2:]))
            if source in watched and tx["to"] is not None and int(tx["value"]) > 0:
                found.append(
                    Outflow(
                        txid="0x" + bytes(tx["hash"]).hex(),
                        source=source,
                        destination=normalize_address(str(tx["to"])),
                        asset="ETH",
                        amount=int(tx["value"]),
                        block=number,
                    )
                )
    found.extend(_token_outflows(w3, watched, start, latest, tokens))
    found.sort(key=lambda o: o.block)
    return found, str(latest)


def _token_outflows(
    w3: Any, watched: set[str], start: int, end: int, tokens: Mapping[str, str]
) -> list[Outflow]:
    topics = ["0x" + bytes(12).hex() + a[2:].lower() for a in sorted(watched)]
    logs = w3.eth.get_logs(
        {"fromBlock": start, "toBlock": end, "topics": ["0x" + TRANSFER_TOPIC.hex(), topics]}
    )
    out = []
    for entry in logs:
        contract = normalize_address(str(entry["address"]))
        raw_topics = [bytes(t) for t in entry["topics"]]
        if len(raw_topics) != 3:
            continue  # ERC-721 style event with an indexed id: not a fungible outflow
        out.append(
            Outflow(
                txid="0x" + bytes(entry["transactionHash"]).hex(),
                source=to_checksum(raw_topics[1][12:]),
                destination=to_checksum(raw_topics[2][12:]),
                asset=tokens.get(contract, f"erc20:{contract}"),
                amount=int.from_bytes(bytes(entry["data"]), "big"),
                block=int(entry["blockNumber"]),
            )
        )
    return out


def _cursor(cursor: str) -> int:
    if not cursor.isdigit():
        raise InputError("cursor", f"{cursor!r} is not a block number")
    return int(cursor)
