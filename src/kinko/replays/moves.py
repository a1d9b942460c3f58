"""The attacker's moves, as they were made: a transaction rewritten where it waits for
signing, a payload that is not what the signers are shown, a raw key used outside Kinko.

Nothing here decides an outcome: each move only acts on the chain or on the exchange's
records the way the attacker did, and the replay then reads what Kinko made of it.
"""

from __future__ import annotations

from typing import Any

from eth_abi.abi import encode as abi_encode

from kinko.chains.base import ChainAdapter
from kinko.chains.ethereum import calldata
from kinko.chains.ethereum import tx as txmod
from kinko.chains.ethereum.adapter import EthereumAdapter
from kinko.chains.ethereum.address import address_bytes
from kinko.replays.bench import Bench
from kinko.store.tables.withdrawals import WithdrawalRow

ZERO = "0x" + "00" * 20
CONTRACT_GAS = 300_000


def transfer_payload(adapter: EthereumAdapter, like: dict[str, Any], to: str, value: int) -> bytes:
    """A plain transfer with the nonce and fees of the withdrawal `like` (its intent)."""
    return _payload(adapter, like, to, value, b"", gas=int(like["details"]["gas_limit"]))


def call_payload(adapter: EthereumAdapter, like: dict[str, Any], to: str, data: bytes) -> bytes:
    """A contract call from the wallet with the nonce and fees of the withdrawal `like`."""
    return _payload(adapter, like, to, 0, data, gas=CONTRACT_GAS)


def _payload(
    adapter: EthereumAdapter, like: dict[str, Any], to: str, value: int, data: bytes, *, gas: int
) -> bytes:
    details = like["details"]
    return txmod.Eip1559Tx(
        chain_id=adapter.chain_id,
        nonce=int(details["nonce"]),
        max_priority_fee_per_gas=int(details["max_priority_fee_per_gas"]),
        max_fee_per_gas=int(details["max_fee_per_gas"]),
        gas_limit=gas,
        to=address_bytes(to, field="to"),
        value=value,
        data=data,
    ).unsigned_payload()


def encode_call(signature: str, types: list[str], values: list[Any]) -> bytes:
    return calldata.selector(signature) + abi_encode(types, values)


def safe_exec(inner_to: str, inner_data: bytes, *, operation: int) -> bytes:
    """Safe `execTransaction` running `inner_data` at `inner_to`; operation 1 is a
    delegatecall (the inner code runs with the Safe's own storage). Signatures are left
    empty: the owners' signatures are what the attacker was collecting."""
    return encode_call(
        calldata.EXEC_TRANSACTION,
        [
            "address",
            "uint256",
            "bytes",
            "uint8",
            "uint256",
            "uint256",
            "uint256",
            "address",
            "address",
            "bytes",
        ],
        [inner_to, 0, inner_data, operation, 0, 0, 0, ZERO, ZERO, b""],
    )


def rewrite(
    bench: Bench,
    withdrawal_id: str,
    payload: bytes,
    *,
    whole: bool,
    adapter: ChainAdapter | None = None,
) -> None:
    """The attacker, inside the wallet software, swaps the transaction waiting for
    signatures (a PSBT for a Bitcoin wallet: give its `adapter`; by default Ethereum's).
    `whole`: the digest and the decoded intent on record are swapped with it (what the
    approvers' screens then show is the attacker's, consistently)."""
    adapter = adapter or EthereumAdapter("devnet")
    with bench.ctx.db.transaction() as session:
        row = session.get(WithdrawalRow, withdrawal_id)
        if row is None:
            raise LookupError(f"no withdrawal {withdrawal_id}")
        row.unsigned_tx = payload
        if whole:
            row.digest = adapter.signing_digest(payload).hex()
            row.intent = adapter.decode(payload).to_json()


def raw_send(bench: Bench, key: bytes, to: str, value: int) -> tuple[str, int]:
    """A transaction signed with a raw key outside Kinko and sent; (txid, block number)."""
    w3 = bench.w3
    account = w3.eth.account.from_key(key)
    block = w3.eth.get_block("latest")
    fee = int(block["baseFeePerGas"]) * 2 + 10**9
    signed = account.sign_transaction(
        {
            "chainId": int(w3.eth.chain_id),
            "nonce": int(w3.eth.get_transaction_count(account.address)),
            "to": to,
            "value": value,
            "gas": 21_000,
            "maxFeePerGas": fee,
            "maxPriorityFeePerGas": 10**9,
        }
    )
    txid = w3.eth.send_raw_transaction(signed.raw_transaction)
    receipt = w3.eth.wait_for_transaction_receipt(txid)
    if receipt["status"] != 1:
        raise RuntimeError(f"the attacker's transaction {txid.hex()} failed on chain")
    return "0x" + bytes(txid).hex().removeprefix("0x"), int(receipt["blockNumber"])


def max_fee(bench: Bench) -> int:
    return int(bench.w3.eth.get_block("latest")["baseFeePerGas"]) * 2 + 10**9
