"""Pure policy values: what is asked, what is known, and what was decided.

These types are the contract between the withdrawal service (which builds a
`PolicyRequest`), the policy service (which gathers a `PolicyContext` from the store) and
the pure engine (`kinko.policy.engine.evaluate`), which returns a `Decision`.
Amounts are integers in base units of the request's asset, never floats.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import IntEnum, StrEnum
from types import MappingProxyType
from typing import Any, NewType

from kinko.chains.base import CallKind
from kinko.core.clock import isoformat, utc
from kinko.core.errors import InputError
from kinko.custody.model import Tier, WalletId

RuleId = NewType("RuleId", str)
FreezeId = NewType("FreezeId", str)
EntryId = NewType("EntryId", str)


class Outcome(StrEnum):
    """What the policy says. When several rules fire, the most severe one wins."""

    DENY = "deny"
    HOLD = "hold"
    REQUIRE_APPROVALS = "require_approvals"
    ALLOW = "allow"

    @property
    def severity(self) -> int:
        return _SEVERITY[self]


_SEVERITY = {
    Outcome.ALLOW: 0,
    Outcome.REQUIRE_APPROVALS: 1,
    Outcome.HOLD: 2,
    Outcome.DENY: 3,
}


class ScreeningVerdict(StrEnum):
    """The screening service's verdict on the destination: a hit denies, stale holds."""

    CLEAR = "clear"
    HIT = "hit"
    STALE = "stale"


class VelocityScope(StrEnum):
    """What a rolling window counts over (always within one asset)."""

    WALLET = "wallet"
    ASSET = "asset"
    CUSTOMER = "customer"


class FreezeScope(StrEnum):
    WALLET = "wallet"
    ASSET = "asset"
    CHAIN = "chain"
    ALL = "all"


class OwnerKind(StrEnum):
    """Who owns an address-book destination."""

    OWN_WALLET = "own_wallet"
    PARTNER = "partner"
    CUSTOMER_VERIFIED = "customer_verified"


class Weekday(IntEnum):
    MON = 0
    TUE = 1
    WED = 2
    THU = 3
    FRI = 4
    SAT = 5
    SUN = 6


def asset_key(chain: str, symbol: str) -> str:
    """The one spelling of an asset used in velocity keys and freeze targets: ``chain:SYMBOL``."""
    return f"{chain}:{symbol}"


@dataclass(frozen=True, slots=True)
class PolicyRequest:
    """One withdrawal as the policy sees it. Build it from the *decoded* intent when known.

    `destination` is already normalised by the chain adapter. `customer_ref` is None for
    the exchange's own movements (rebalancing). `source` is the channel the request came
    through (``api``, ``cli``, ``console``), recorded in the decision for the auditor.
    """

    wallet_id: WalletId
    tier: Tier
    chain: str
    asset: str
    amount: int
    destination: str
    customer_ref: str | None
    requester: str
    call_kind: CallKind
    source: str

    def __post_init__(self) -> None:
        if not isinstance(self.tier, Tier):
            raise InputError("tier", f"{self.tier!r} is not a Tier (hot, warm, cold)")
        if not isinstance(self.call_kind, CallKind):
            raise InputError("call_kind", f"{self.call_kind!r} is not a CallKind")
        if isinstance(self.amount, bool) or not isinstance(self.amount, int):
            raise InputError("amount", "must be an integer number of base units")
        if self.amount <= 0:
            raise InputError("amount", f"must be greater than zero, got {self.amount}")
        for name in ("wallet_id", "chain", "asset", "destination", "requester"):
            if not getattr(self, name):
                raise InputError(name, "must not be empty")

    @property
    def asset_key(self) -> str:
        return asset_key(self.chain, self.asset)

    def to_json(self) -> dict[str, Any]:
        return {
            "wallet_id": self.wallet_id,
            "tier": self.tier.value,
            "chain": self.chain,
            "asset": self.asset,
            "amount": str(self.amount),
            "destination": self.destination,
            "customer_ref": self.customer_ref,
            "requester": self.requester,
            "call_kind": self.call_kind.value,
            "source": self.source,
        }


@dataclass(frozen=True, slots=True)
class AddressBookEntry:
    """An approved destination. It counts only from `effective_at` (after cooling-off)."""

    id: EntryId
    chain: str
    address: str
    label: str
    owner_kind: OwnerKind
    tiers_allowed: frozenset[Tier]
    effective_at: datetime

    def is_effective(self, now: datetime) -> bool:
        return utc(self.effective_at) <= utc(now)

    def allows(self, tier: Tier, now: datetime) -> bool:
        return tier in self.tiers_allowed and self.is_effective(now)


@dataclass(frozen=True, slots=True)
class FreezeRecord:
    """An active freeze. `target` is None only for scope ALL; an asset target is
    ``chain:SYMBOL``."""

    id: FreezeId
    scope: FreezeScope
    target: str | None
    reason: str
    actor: str
    created_at: datetime

    def covers(self, request: PolicyRequest) -> bool:
        if self.scope is FreezeScope.ALL:
            return True
        if self.scope is FreezeScope.WALLET:
            return self.target == request.wallet_id
        if self.scope is FreezeScope.CHAIN:
            return self.target == request.chain
        return self.target == request.asset_key

    def refills(self, destination_wallet: str | None) -> bool:
        """Whether paying into `destination_wallet` (one of the exchange's wallets) would
        refill the wallet this freeze holds still (a wallet-scoped freeze; the other
        scopes already cover the paying wallet)."""
        return (
            destination_wallet is not None
            and self.scope is FreezeScope.WALLET
            and self.target == destination_wallet
        )

    def describe(self) -> str:
        what = "everything" if self.target is None else f"{self.scope.value} {self.target}"
        return f"{what} frozen by {self.actor}: {self.reason}"

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "scope": self.scope.value,
            "target": self.target,
            "reason": self.reason,
            "actor": self.actor,
            "created_at": isoformat(self.created_at),
        }


VelocityKey = tuple[VelocityScope, int]
"""(scope, window in seconds): the request's own wallet / asset / customer is implied."""


@dataclass(frozen=True, slots=True)
class PolicyContext:
    """What the store knows at decision time, gathered by `PolicyService`.

    `velocity` maps (scope, window seconds) to the base units already reserved in that
    window for this request's wallet / asset / customer (same asset), excluding this
    request. A window a rule needs but that is missing here makes the engine deny (fail
    closed) rather than assume zero.
    """

    velocity: Mapping[VelocityKey, int]
    address_entry: AddressBookEntry | None
    freezes: tuple[FreezeRecord, ...]
    screening: ScreeningVerdict
    destination_wallet: str | None = None
    """The exchange's own wallet the request pays into (a rebalancing), if it is one: a
    frozen wallet is refilled by nobody (its keys may be in a thief's hands)."""


@dataclass(frozen=True, slots=True)
class RuleHit:
    """One rule that fired, with the outcome it asked for and why."""

    rule_id: str
    kind: str
    outcome: Outcome
    reason: str

    def to_json(self) -> dict[str, str]:
        return {
            "rule": self.rule_id,
            "kind": self.kind,
            "outcome": self.outcome.value,
            "reason": self.reason,
        }


@dataclass(frozen=True, slots=True)
class Decision:
    """The policy's answer for one request.

    When `outcome` is REQUIRE_APPROVALS, `required_approvals` distinct approvers must
    approve, and among them at least `required_roles[role]` must hold `role` (one approver
    may count towards several roles they hold, but only once towards the total).
    `fired` lists every rule that fired, in evaluation order.
    """

    outcome: Outcome
    policy_version: str
    policy_digest: str
    fired: tuple[RuleHit, ...]
    required_approvals: int = 0
    required_roles: Mapping[str, int] = field(default_factory=lambda: MappingProxyType({}))
    evaluated_at: datetime | None = None

    @property
    def reasons(self) -> list[str]:
        return [f"{hit.rule_id}: {hit.reason}" for hit in self.fired]

    @property
    def denied(self) -> bool:
        return self.outcome is Outcome.DENY

    def summary(self) -> str:
        """One line for people, e.g. ``deny (policy 2026-11-21.1): limit-eth: ...``."""
        why = "; ".join(self.reasons) or "no rule fired"
        return f"{self.outcome.value} (policy {self.policy_version}): {why}"

    def to_json(self) -> dict[str, Any]:
        return {
            "outcome": self.outcome.value,
            "policy_version": self.policy_version,
            "policy_digest": self.policy_digest,
            "required_approvals": self.required_approvals,
            "required_roles": dict(sorted(self.required_roles.items())),
            "fired": [hit.to_json() for hit in self.fired],
            "evaluated_at": None if self.evaluated_at is None else isoformat(self.evaluated_at),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Decision:
        """Parse what `to_json` wrote (e.g. from an approval bundle); refuses anything else."""
        try:
            fired = tuple(
                RuleHit(
                    rule_id=str(h["rule"]),
                    kind=str(h["kind"]),
                    outcome=Outcome(h["outcome"]),
                    reason=str(h["reason"]),
                )
                for h in data["fired"]
            )
            roles = {str(k): int(v) for k, v in dict(data["required_roles"]).items()}
            when = data.get("evaluated_at")
            return cls(
                outcome=Outcome(data["outcome"]),
                policy_version=str(data["policy_version"]),
                policy_digest=str(data["policy_digest"]),
                fired=fired,
                required_approvals=int(data["required_approvals"]),
                required_roles=MappingProxyType(roles),
                evaluated_at=None if when is None else datetime.fromisoformat(str(when)),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise InputError("decision", f"is not a policy decision record: {exc}") from exc
