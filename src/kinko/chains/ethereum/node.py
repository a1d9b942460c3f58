"""Talking to an Ethereum node through web3: broadcast and outflow watching."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from kinko.chains.base import Outflow
from kinko.chains.ethereum.address import keccak256, normalize_address, to_checksum
from kinko.chains.ethereum.tx import TX_TYPE, Eip1559Tx, Signature
from kinko.core.errors import InputError, KinkoError, Unavailable

TRANSFER_TOPIC = keccak256(b"Transfer(address,address,uint256)")


def connect(node_url: str) -> Any:
    """A web3 client for an HTTP(S) or WebSocket node URL."""
    from web3 import Web3

    if node_url.startswith(("http://", "https://")):
        return Web3(Web3.HTTPProvider(node_url))
    raise InputError("node_url", "use an http:// or https:// node URL")


def broadcast(w3: Any, raw: bytes, expected_hash: bytes) -> str:
    """Send `raw`; its hash. If the node refuses it but already knows a transaction with
    this very hash (pending or mined: a send that reached the node before Kinko could
    record it, e.g. a crash in between, or a second worker's send), that is this
    transaction: its hash is returned instead of an error ("nonce too low" forever)."""
    try:
        sent = bytes(w3.eth.send_raw_transaction(raw))
    except Exception as exc:  # web3 raises many provider-specific types
        if already_known(w3, expected_hash):
            return "0x" + expected_hash.hex()
        raise Unavailable(f"the node refused the transaction: {exc}") from None
    if sent != expected_hash:
        raise Unavailable("the node reported a different transaction hash than was sent")
    return "0x" + sent.hex()


def already_known(w3: Any, tx_hash: bytes) -> bool:
    """The node has the transaction whose hash is `tx_hash` (the hash commits to the whole
    signed transaction, so it is the same bytes), in its pool or in a block."""
    try:
        found = w3.eth.get_transaction(tx_hash)
    except Exception:  # TransactionNotFound, or a node that cannot answer: not known
        return False
    return found is not None and bytes(found["hash"]) == tx_hash


BALANCE_OF = keccak256(b"balanceOf(address)")[:4]


def balance(w3: Any, address: str, token: str | None) -> int:
    """Native balance, or the ERC-20 `balanceOf(address)` of `token`, at the latest block."""
    try:
        if token is None:
            return int(w3.eth.get_balance(address))
        data = BALANCE_OF + bytes(12) + bytes.fromhex(address[2:])
        raw = bytes(w3.eth.call({"to": token, "data": data}))
    except Exception as exc:
        raise Unavailable(f"the Ethereum node could not read the balance: {exc}") from None
    if len(raw) != 32:
        raise Unavailable(f"{token} did not answer balanceOf with one 32-byte word")
    return int.from_bytes(raw, "big")


def outflows(
    w3: Any,
    addresses: Sequence[str],
    cursor: str | None,
    tokens: Mapping[str, str],
) -> tuple[list[Outflow], str]:
    """Native transfers and ERC-20 `Transfer` events out of `addresses` after block `cursor`.

    The cursor is the last block number already seen (decimal string); ``None`` starts
    watching now: nothing is reported and the cursor is the latest block (pass "0" to
    scan from genesis). Returns the outflows in block order and the new cursor.
    """
    watched = {normalize_address(a, field="addresses") for a in addresses}
    try:
        latest = int(w3.eth.block_number)
    except Exception as exc:
        raise Unavailable(f"the Ethereum node is unreachable: {exc}") from None
    found: list[Outflow] = []
    if cursor is None:
        return found, str(latest)
    start = _cursor(cursor) + 1
    if start > latest:
        return found, str(start - 1)
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


def signed_history(
    w3: Any, watched: set[str], cursor: str | None, chain_id: int
) -> tuple[list[Eip1559Tx], int, str]:
    """Signed EIP-1559 transactions sent from `watched` after block `cursor`.

    Each is rebuilt from the node's fields and kept only if it hashes to the hash the node
    reports, so what the nonce self-test scans is exactly what was on chain. Returns the
    transactions, how many other-type transactions were skipped, and the new cursor.
    """
    start = 0 if cursor is None else _cursor(cursor) + 1
    try:
        latest = int(w3.eth.block_number)
    except Exception as exc:
        raise Unavailable(f"the Ethereum node is unreachable: {exc}") from None
    found: list[Eip1559Tx] = []
    skipped = 0
    for number in range(start, latest + 1):
        for tx in _sent_from(w3, watched, number):
            if int(tx.get("type", 0)) != TX_TYPE or tx["to"] is None:
                skipped += 1
                continue
            rebuilt = _rebuilt(tx)
            if rebuilt.chain_id != chain_id or rebuilt.tx_hash() != bytes(tx["hash"]):
                raise Unavailable(
                    f"transaction 0x{bytes(tx['hash']).hex()} from the node does not hash to "
                    "its reported hash; refusing to trust this node's history"
                )
            found.append(rebuilt)
    return found, skipped, str(latest if start <= latest else start - 1)


def _sent_from(w3: Any, watched: set[str], number: int) -> list[Any]:
    """The full transactions of block `number` sent from `watched` addresses."""
    try:
        block = w3.eth.get_block(number, full_transactions=True)
        listed = [t for t in block["transactions"] if _sender(t) in watched]
        return [w3.eth.get_transaction(t["hash"]) for t in listed]
    except KinkoError:
        raise
    except Exception as exc:  # web3 and its providers raise many types
        raise Unavailable(
            f"the Ethereum node failed while reading block {number}: {type(exc).__name__}: {exc}"
        ) from None


def _sender(listed: Any) -> str:
    return normalize_address(str(listed["from"]), field="the node's transaction 'from'")


def _rebuilt(tx: Any) -> Eip1559Tx:
    """The EIP-1559 transaction the node describes; Unavailable if a field is missing."""
    try:
        return _rebuild(tx)
    except KeyError as exc:
        problem = f"has no {exc.args[0]!r} field"
    except (TypeError, ValueError) as exc:
        problem = f"has a malformed field ({exc})"
    txid = tx.get("hash")
    shown = "0x" + bytes(txid).hex() if isinstance(txid, bytes | bytearray) else str(txid)
    raise Unavailable(
        f"the node's answer for transaction {shown} {problem}, so its signature "
        "cannot be checked; use a node that returns complete EIP-1559 transactions "
        "(eth_getTransactionByHash with chainId, yParity, r and s)",
        code="node_answer_incomplete",
    )


def _rebuild(tx: Any) -> Eip1559Tx:
    return Eip1559Tx(
        chain_id=int(tx["chainId"]),
        nonce=int(tx["nonce"]),
        max_priority_fee_per_gas=int(tx["maxPriorityFeePerGas"]),
        max_fee_per_gas=int(tx["maxFeePerGas"]),
        gas_limit=int(tx["gas"]),
        to=bytes.fromhex(str(tx["to"])[2:]),
        value=int(tx["value"]),
        data=bytes(tx["input"]),
        access_list=tuple(
            (
                bytes.fromhex(str(e["address"])[2:]),
                tuple(
                    bytes.fromhex(str(k)[2:]) if isinstance(k, str) else bytes(k)
                    for k in e["storageKeys"]
                ),
            )
            for e in tx["accessList"]
        ),
        signature=Signature(
            int(tx.get("yParity", tx.get("y_parity", tx["v"]))),
            int.from_bytes(bytes(tx["r"]), "big"),
            int.from_bytes(bytes(tx["s"]), "big"),
        ),
    )
