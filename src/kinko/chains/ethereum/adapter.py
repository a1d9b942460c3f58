"""The Ethereum chain adapter: EIP-1559 native and ERC-20 transfers."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from eth_abi.abi import encode as abi_encode

from kinko.chains.base import CallKind, EcdsaSignature, Intent, Outflow, Output
from kinko.chains.ethereum import calldata, node
from kinko.chains.ethereum import tx as txmod
from kinko.chains.ethereum.address import address_bytes, normalize_address, to_checksum
from kinko.chains.ethereum.networks import chain_id_for
from kinko.core.errors import InputError, Unavailable

NATIVE = "ETH"


@dataclass(frozen=True, slots=True)
class Fees:
    """EIP-1559 fee parameters in wei (per gas) and the gas limit."""

    max_fee_per_gas: int
    max_priority_fee_per_gas: int
    gas_limit: int


@dataclass(frozen=True, slots=True)
class Transfer:
    """A transfer request. `token` is the ERC-20 contract address, or None for ETH.

    `source` is not part of an EIP-1559 payload (the signature implies it); it is kept
    so that callers can check the signed transaction's recovered sender against it.
    """

    source: str
    destination: str
    amount: int
    nonce: int
    fees: Fees
    token: str | None = None


class EthereumAdapter:
    family = "ethereum"

    def __init__(
        self,
        network: str = "mainnet",
        *,
        web3: Any = None,
        tokens: Mapping[str, str] | None = None,
    ) -> None:
        self.network = network
        self.chain_id = chain_id_for(network)
        self.web3 = web3
        self.tokens: Mapping[str, str] = MappingProxyType(
            {normalize_address(k, field="tokens"): v for k, v in (tokens or {}).items()}
        )

    def normalize_address(self, address: str) -> str:
        return normalize_address(address)

    def build(self, transfer: Transfer) -> bytes:
        """The unsigned EIP-1559 payload (0x02 || rlp([...])) for `transfer`."""
        normalize_address(transfer.source, field="source")
        destination = address_bytes(transfer.destination, field="destination")
        if isinstance(transfer.amount, bool) or not isinstance(transfer.amount, int):
            raise InputError("amount", "must be an integer number of base units")
        if transfer.amount <= 0:
            raise InputError("amount", f"must be greater than zero, got {transfer.amount}")
        if transfer.token is None:
            to, value, data = destination, transfer.amount, b""
        else:
            to = address_bytes(transfer.token, field="token")
            value = 0
            data = calldata.selector(calldata.TRANSFER) + abi_encode(
                ["address", "uint256"], [to_checksum(destination), transfer.amount]
            )
        tx = txmod.Eip1559Tx(
            chain_id=self.chain_id,
            nonce=transfer.nonce,
            max_priority_fee_per_gas=transfer.fees.max_priority_fee_per_gas,
            max_fee_per_gas=transfer.fees.max_fee_per_gas,
            gas_limit=transfer.fees.gas_limit,
            to=to,
            value=value,
            data=data,
        )
        return tx.unsigned_payload()

    def parse(self, payload: bytes) -> txmod.Eip1559Tx:
        tx = txmod.parse(payload)
        if tx.chain_id != self.chain_id:
            raise InputError(
                "payload.chain_id",
                f"transaction is for chain id {tx.chain_id}, this adapter is {self.network} "
                f"({self.chain_id})",
                code="wrong_network",
            )
        return tx

    def decode(self, payload: bytes) -> Intent:
        tx = self.parse(payload)
        to = to_checksum(tx.to)
        info = calldata.classify(to, tx.value, tx.data)
        asset = NATIVE
        if info.kind in (CallKind.TOKEN_TRANSFER, CallKind.TOKEN_APPROVAL):
            leaf = info
            while leaf.inner is not None:
                leaf = leaf.inner
            token = leaf.args["token"]
            asset = self.tokens.get(token, f"erc20:{token}")
        signed = tx.signature is not None
        details: dict[str, Any] = {
            "chain_id": tx.chain_id,
            "nonce": tx.nonce,
            "to": to,
            "value": str(tx.value),
            "max_fee_per_gas": str(tx.max_fee_per_gas),
            "max_priority_fee_per_gas": str(tx.max_priority_fee_per_gas),
            "gas_limit": tx.gas_limit,
            "data": "0x" + tx.data.hex(),
            "access_list": len(tx.access_list),
            "signed": signed,
            "call": info.to_json(),
        }
        if signed:
            details["tx_hash"] = "0x" + tx.tx_hash().hex()
        return Intent(
            chain=self.family,
            network=self.network,
            asset=asset,
            source=tx.sender() if signed else "",
            destination=info.destination,
            amount=info.amount,
            fee=tx.max_fee,
            call_kind=info.kind,
            outputs=(Output(info.destination, info.amount),),
            details=MappingProxyType(details),
        )

    def signing_digest(self, payload: bytes) -> bytes:
        tx = self.parse(payload)
        return tx.signing_digest()

    def sign(self, payload: bytes, key: bytes) -> bytes:
        tx = self.parse(payload)
        if tx.signature is not None:
            raise InputError("payload", "transaction is already signed")
        return txmod.sign(tx, key).raw()

    def combine(self, payloads: Sequence[bytes]) -> bytes:
        signed = [p for p in payloads if self.parse(p).signature is not None]
        if len(signed) != 1:
            raise InputError("payloads", "an Ethereum transaction takes exactly one signature")
        return signed[0]

    def finalize(self, payload: bytes) -> bytes:
        tx = self.parse(payload)
        tx.sender()
        return tx.raw()

    def signatures(self, payload: bytes) -> list[EcdsaSignature]:
        tx = self.parse(payload)
        if tx.signature is None:
            return []
        return [
            EcdsaSignature(
                public_key=tx.sender_public_key().to_compressed_bytes(),
                r=tx.signature.r,
                s=tx.signature.s,
                digest=tx.signing_digest(),
            )
        ]

    def broadcast(self, raw: bytes) -> str:
        tx = self.parse(raw)
        return node.broadcast(self._web3(), tx.raw(), tx.tx_hash())

    def outflows(self, addresses: Sequence[str], cursor: str | None) -> tuple[list[Outflow], str]:
        return node.outflows(self._web3(), addresses, cursor, self.tokens)

    def signed_history(
        self, addresses: Sequence[str], cursor: str | None
    ) -> tuple[list[tuple[str, list[EcdsaSignature]]], int, str]:
        """(tx hash, signatures) of every EIP-1559 transaction sent from `addresses` after
        `cursor`, the number of other-type transactions skipped, and the next cursor."""
        watched = {normalize_address(a, field="addresses") for a in addresses}
        txs, skipped, new_cursor = node.signed_history(self._web3(), watched, cursor, self.chain_id)
        return (
            [("0x" + tx.tx_hash().hex(), self.signatures(tx.raw())) for tx in txs],
            skipped,
            new_cursor,
        )

    def balance(self, address: str, token: str | None = None) -> int:
        """The latest balance of `address` in wei, or in token base units for `token`."""
        return node.balance(
            self._web3(),
            normalize_address(address),
            token and normalize_address(token, field="token"),
        )

    def _web3(self) -> Any:
        if self.web3 is None:
            raise Unavailable(f"no Ethereum node configured for {self.network}")
        return self.web3
