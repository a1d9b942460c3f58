"""Classifying Ethereum calldata: what a contract call really does.

Signers of the WazirX and Bybit wallets were shown a transfer and signed a contract
upgrade / delegatecall. This module reads the function selector and arguments and sorts
every call into plain transfer, token transfer, approval, other contract call, or
DANGEROUS (upgrade, proxy-admin changes, Safe owner/threshold/module/guard changes,
ownership and role changes — Radiant's signers blind-signed `transferOwnership` — and
any delegatecall). A Safe
`execTransaction` is opened and its inner call classified too, recursively.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from eth_abi.abi import decode as abi_decode
from eth_abi.exceptions import DecodingError

from kinko.chains.base import CallKind
from kinko.chains.ethereum.address import keccak256, to_checksum

MAX_NESTING = 4


def selector(signature: str) -> bytes:
    """First four bytes of keccak256 of the canonical function signature."""
    return keccak256(signature.encode("ascii"))[:4]


TRANSFER = "transfer(address,uint256)"
TRANSFER_FROM = "transferFrom(address,address,uint256)"
APPROVALS = (
    "approve(address,uint256)",
    "increaseAllowance(address,uint256)",
    "setApprovalForAll(address,bool)",
    "permit(address,address,uint256,uint256,uint8,bytes32,bytes32)",
)
DANGEROUS = (
    "upgradeTo(address)",
    "upgradeToAndCall(address,bytes)",
    "changeMasterCopy(address)",
    "addOwnerWithThreshold(address,uint256)",
    "removeOwner(address,address,uint256)",
    "swapOwner(address,address,address)",
    "changeThreshold(uint256)",
    "enableModule(address)",
    "disableModule(address,address)",
    "setGuard(address)",
    "setFallbackHandler(address)",
    # Proxy administration (OpenZeppelin's TransparentUpgradeableProxy / ProxyAdmin)
    "changeAdmin(address)",
    "upgrade(address,address)",
    "upgradeAndCall(address,address,bytes)",
    "changeProxyAdmin(address,address)",
    # Who controls the contract (Ownable, Ownable2Step, AccessControl)
    "transferOwnership(address)",
    "renounceOwnership()",
    "acceptOwnership()",
    "grantRole(bytes32,address)",
    "revokeRole(bytes32,address)",
    "renounceRole(bytes32,address)",
)
EXEC_TRANSACTION = (
    "execTransaction(address,uint256,bytes,uint8,uint256,uint256,uint256,address,address,bytes)"
)

_BY_SELECTOR: dict[bytes, str] = {
    selector(sig): sig
    for sig in (TRANSFER, TRANSFER_FROM, *APPROVALS, *DANGEROUS, EXEC_TRANSACTION)
}


def _types(signature: str) -> list[str]:
    inner = signature[signature.index("(") + 1 : -1]
    return inner.split(",") if inner else []


@dataclass(frozen=True, slots=True)
class CallInfo:
    """What one call does. `destination`/`amount` are the economic counterpart and value."""

    kind: CallKind
    function: str | None
    destination: str
    amount: int
    reasons: tuple[str, ...] = ()
    args: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))
    inner: CallInfo | None = None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "kind": self.kind.value,
            "function": self.function,
            "destination": self.destination,
            "amount": str(self.amount),
            "reasons": list(self.reasons),
            "args": dict(self.args),
        }
        if self.inner is not None:
            out["inner"] = self.inner.to_json()
        return out


def classify(to: str, value: int, data: bytes, *, depth: int = 0) -> CallInfo:
    """Classify a call to `to` carrying `value` wei and calldata `data`."""
    if not data:
        return CallInfo(CallKind.NATIVE_TRANSFER, None, to, value)
    if depth > MAX_NESTING:
        return CallInfo(
            CallKind.DANGEROUS, None, to, value, (f"calls nested deeper than {MAX_NESTING}",)
        )
    if len(data) < 4:
        return CallInfo(
            CallKind.CONTRACT_CALL, None, to, value, ("calldata shorter than a selector",)
        )
    signature = _BY_SELECTOR.get(data[:4])
    if signature is None:
        return CallInfo(
            CallKind.CONTRACT_CALL, None, to, value, args={"selector": "0x" + data[:4].hex()}
        )
    try:
        args = abi_decode(_types(signature), data[4:], strict=True)
    except (DecodingError, ValueError, OverflowError) as exc:
        # A known selector whose arguments do not decode is suspicious: a crafted payload.
        return CallInfo(
            CallKind.DANGEROUS,
            signature,
            to,
            value,
            (f"arguments of {signature} do not decode: {exc}",),
        )
    name = signature.split("(")[0]
    if signature == TRANSFER:
        return CallInfo(
            CallKind.TOKEN_TRANSFER,
            signature,
            to_checksum(_addr(args[0])),
            int(args[1]),
            args={"token": to, "native_value": str(value)},
        )
    if signature == TRANSFER_FROM:
        return CallInfo(
            CallKind.TOKEN_TRANSFER,
            signature,
            to_checksum(_addr(args[1])),
            int(args[2]),
            args={"token": to, "from": to_checksum(_addr(args[0])), "native_value": str(value)},
        )
    if signature in APPROVALS:
        spender = args[1] if name == "permit" else args[0]
        amount = args[2] if name == "permit" else args[1]
        return CallInfo(
            CallKind.TOKEN_APPROVAL,
            signature,
            to_checksum(_addr(spender)),
            int(amount),
            args={"token": to},
        )
    if signature in DANGEROUS:
        return CallInfo(
            CallKind.DANGEROUS,
            signature,
            to,
            value,
            (f"{name} changes who controls the contract at {to}",),
            args={"arguments": [_json_arg(a) for a in args]},
        )
    return _exec_transaction(to, value, args, depth)


def _exec_transaction(safe: str, value: int, args: tuple[Any, ...], depth: int) -> CallInfo:
    inner_to = to_checksum(_addr(args[0]))
    inner_value, inner_data, operation = int(args[1]), bytes(args[2]), int(args[3])
    inner = classify(inner_to, inner_value, inner_data, depth=depth + 1)
    reasons = list(inner.reasons)
    kind = inner.kind
    if operation != 0:
        kind = CallKind.DANGEROUS
        reasons.insert(
            0,
            f"Safe execTransaction with operation={operation} (delegatecall) runs code at "
            f"{inner_to} with the Safe's own storage",
        )
    return CallInfo(
        kind,
        EXEC_TRANSACTION,
        inner.destination,
        inner.amount,
        tuple(reasons),
        args={"safe": safe, "operation": operation, "native_value": str(value)},
        inner=inner,
    )


def _addr(value: Any) -> bytes:
    return bytes.fromhex(str(value)[2:]) if isinstance(value, str) else bytes(value)


def _json_arg(value: Any) -> Any:
    if isinstance(value, bytes):
        return "0x" + value.hex()
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return value
