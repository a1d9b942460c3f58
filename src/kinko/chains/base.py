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


class ChainAdapter(Protocol):
    """One chain family. Implementations live in `kinko.chains.<family>`."""

    family: str

    def normalize_address(self, address: str) -> str:
        """Validate (checksums, network) and return the canonical form, or raise InputError."""
        ...

    def decode(self, payload: bytes) -> Intent:
        """Decode an unsigned or signed transaction back into what it does."""
        ...

    def signing_digest(self, payload: bytes) -> bytes:
        """The 32-byte digest approvers sign over (WebAuthn challenge)."""
        ...
