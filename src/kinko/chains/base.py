"""The one protocol every chain family implements, and the values it speaks.

The decoder is the heart: whatever bytes are about to be signed, `decode` turns them back
into an `Intent`, so approvers and the signer judge what is really signed, never what a
request claimed (the DMM Bitcoin and Bybit lesson).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType
from typing import Any, Protocol

# Seconds between the chain watcher's passes unless told otherwise (`kinko monitor watch`).
DEFAULT_INTERVAL_S = 2.0


class CallKind(StrEnum):
    NATIVE_TRANSFER = "native_transfer"
    TOKEN_TRANSFER = "token_transfer"  # noqa: S105
    TOKEN_APPROVAL = "token_approval"  # noqa: S105
    CONTRACT_CALL = "contract_call"
    DANGEROUS = "dangerous"


@dataclass(frozen=True, slots=True)
class Output:
    address: str
    amount: int
    is_change: bool = False


@dataclass(frozen=True, slots=True)
class Intent:
    """What a transaction does, as decoded from its bytes."""

    chain: str
    network: str
    asset: str
    source: str
    destination: str
    amount: int
    fee: int
    call_kind: CallKind
    outputs: Sequence[Output] = ()
    details: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))

    def to_json(self) -> dict[str, Any]:
        return {
            "chain": self.chain,
            "network": self.network,
            "asset": self.asset,
            "source": self.source,
            "destination": self.destination,
            "amount": str(self.amount),
            "fee": str(self.fee),
            "call_kind": self.call_kind.value,
            "outputs": [
                {"address": o.address, "amount": str(o.amount), "is_change": o.is_change}
                for o in self.outputs
            ],
            "details": dict(self.details),
        }


@dataclass(frozen=True, slots=True)
class Outflow:
    txid: str
    source: str
    destination: str
    asset: str
    amount: int
    block: int


@dataclass(frozen=True, slots=True)
class EcdsaSignature:
    """One ECDSA signature found in a transaction: who signed (public key) and its (r, s).

    The nonce self-test (`kinko custody nonce-check`) scans these for repeated r values.
    """

    public_key: bytes  # SEC1 compressed, 33 bytes
    r: int
    s: int
    digest: bytes  # the 32-byte message hash that was signed


class ChainAdapter(Protocol):
    """One chain family on one network. Implementations live in `kinko.chains.<family>`.

    Every method that takes bytes from outside refuses what it cannot parse with an
    `InputError` naming what is wrong; nothing is silently skipped.
    """

    family: str
    network: str

    def normalize_address(self, address: str) -> str:
        """Validate (checksums, network) and return the canonical form, or raise InputError."""
        ...

    def decode(self, payload: bytes) -> Intent:
        """Decode an unsigned or signed transaction back into what it does."""
        ...

    def signing_digest(self, payload: bytes) -> bytes:
        """The 32-byte digest approvers sign over (WebAuthn challenge)."""
        ...

    def sign(self, payload: bytes, key: bytes) -> bytes:
        """Sign `payload` with one key share; returns the payload with that signature added.

        Ethereum: `key` is the 32-byte secret and the result is the signed raw transaction.
        Bitcoin: `key` is a serialised BIP-32 extended private key and the result is the
        PSBT with this cosigner's partial signatures.
        """
        ...

    def combine(self, payloads: Sequence[bytes]) -> bytes:
        """Merge independently signed copies of one transaction (PSBT combiner)."""
        ...

    def finalize(self, payload: bytes) -> bytes:
        """Return the network-serialised transaction ready to broadcast."""
        ...

    def signatures(self, payload: bytes) -> list[EcdsaSignature]:
        """Every ECDSA signature carried by `payload` (for the nonce self-test)."""
        ...

    def broadcast(self, raw: bytes) -> str:
        """Send a finalised transaction to the node; returns its transaction id."""
        ...

    def outflows(self, addresses: Sequence[str], cursor: str | None) -> tuple[list[Outflow], str]:
        """Transfers out of `addresses` after `cursor`; returns them and the next cursor."""
        ...
