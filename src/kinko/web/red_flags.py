"""Red flags of a transaction to approve, from the bytes that will be signed.

The Security Alliance's signing red flags (after WazirX and Bybit): a delegatecall, a
contract upgrade, a change of owners or threshold, a module, guard or fallback handler
changed, a token approval (``approve``, ``permit``, ``setApprovalForAll``), a call Kinko
cannot decode. The call is classified again here by the signer's own pure code
(`kinko.chains.ethereum.calldata.classify`) from the decoded transaction's ``to``,
``value`` and ``data`` — the console never trusts a label stored beside them — and every
level of a Safe ``execTransaction`` is looked at.

A flag is a code and its facts; the words are the template's (translatable later).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from kinko.chains.base import CallKind
from kinko.chains.ethereum.calldata import CallInfo, classify

UPGRADES = frozenset({"upgradeTo", "upgradeToAndCall", "changeMasterCopy"})
OWNERS = frozenset({"addOwnerWithThreshold", "removeOwner", "swapOwner", "changeThreshold"})
MODULES = frozenset({"enableModule", "disableModule", "setGuard", "setFallbackHandler"})


@dataclass(frozen=True, slots=True)
class RedFlag:
    code: str
    """delegatecall, upgrade, owners, modules, approval, approval_for_all, unknown_call,
    dangerous or undecodable."""
    target: str
    """The contract called (or the spender / operator of an approval)."""
    function: str | None = None
    facts: tuple[str, ...] = field(default=())
    """Kinko's own reasons, as the classifier gives them."""


def _name(info: CallInfo) -> str:
    return (info.function or "").split("(")[0]


def _flags_of(info: CallInfo) -> Iterator[RedFlag]:
    name = _name(info)
    if name == "execTransaction" and info.inner is not None:
        # A Safe transaction: flagged itself only as a delegatecall; what it runs, below.
        if info.args.get("operation", 0) != 0:
            safe = str(info.args.get("safe", ""))
            yield RedFlag("delegatecall", safe, info.function, info.reasons[:1])
        yield from _flags_of(info.inner)
        return
    if info.kind is CallKind.TOKEN_APPROVAL:
        code = "approval_for_all" if name == "setApprovalForAll" else "approval"
        yield RedFlag(code, info.destination, info.function)
    elif info.kind is CallKind.CONTRACT_CALL:
        yield RedFlag("unknown_call", info.destination, info.function, info.reasons)
    elif info.kind is CallKind.DANGEROUS:
        if any("delegatecall" in r for r in info.reasons):
            yield RedFlag("delegatecall", info.destination, info.function, info.reasons)
        elif name in UPGRADES:
            yield RedFlag("upgrade", info.destination, info.function, info.reasons)
        elif name in OWNERS:
            yield RedFlag("owners", info.destination, info.function, info.reasons)
        elif name in MODULES:
            yield RedFlag("modules", info.destination, info.function, info.reasons)
        else:
            yield RedFlag("dangerous", info.destination, info.function, info.reasons)
    if info.inner is not None:
        yield from _flags_of(info.inner)


def red_flags(intent: Mapping[str, Any] | None) -> list[RedFlag]:
    """The red flags of a decoded Ethereum transaction (none for a plain transfer or a
    chain without contract calls); a call whose bytes cannot be read is itself a flag."""
    if not intent:
        return []
    details = intent.get("details") or {}
    if intent.get("chain") != "ethereum" or "data" not in details:
        return []
    try:
        to = str(details["to"])
        value = int(details.get("value", "0"))
        data = bytes.fromhex(str(details["data"]).removeprefix("0x"))
    except (KeyError, TypeError, ValueError) as exc:
        return [RedFlag("undecodable", str(details.get("to", "")), None, (str(exc),))]
    return list(_flags_of(classify(to, value, data)))
