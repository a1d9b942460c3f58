"""The parsed policy: rule values and the `Policy` that holds them.

Instances are built by `kinko.policy.loader.load_policy`, which validates everything; the
engine trusts what exists here. Rules that carry an amount name exactly one chain and
asset, because base units of different assets cannot be compared.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import time, timedelta
from types import MappingProxyType

from kinko.chains.base import CallKind
from kinko.custody.model import Tier
from kinko.policy.model import Outcome, PolicyRequest, VelocityKey, VelocityScope, Weekday


@dataclass(frozen=True, slots=True)
class Match:
    """Which requests a rule applies to; None means any."""

    chains: frozenset[str] | None = None
    assets: frozenset[str] | None = None
    wallets: frozenset[str] | None = None
    tiers: frozenset[Tier] | None = None

    def matches(self, request: PolicyRequest) -> bool:
        return (
            (self.chains is None or request.chain in self.chains)
            and (self.assets is None or request.asset in self.assets)
            and (self.wallets is None or request.wallet_id in self.wallets)
            and (self.tiers is None or request.tier in self.tiers)
        )

    def single_asset(self) -> tuple[str, str] | None:
        """(chain, symbol) when the match names exactly one of each."""
        if self.chains is None or self.assets is None:
            return None
        if len(self.chains) != 1 or len(self.assets) != 1:
            return None
        return next(iter(self.chains)), next(iter(self.assets))


@dataclass(frozen=True, slots=True)
class TransferMax:
    """A single transfer above `max_amount` is denied."""

    id: str
    match: Match
    max_amount: int
    kind: str = "transfer_max"


@dataclass(frozen=True, slots=True)
class Velocity:
    """Reserved amounts within the last `window` (per scope, same asset) must stay ≤ `limit`."""

    id: str
    match: Match
    scope: VelocityScope
    window: timedelta
    limit: int
    on_exceed: Outcome
    kind: str = "velocity"
    key: VelocityKey = field(init=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "key", (self.scope, int(self.window.total_seconds())))


@dataclass(frozen=True, slots=True)
class ApprovalTier:
    """From `min_amount` up, `approvals` distinct approvers, with at least `roles[r]` of role r."""

    id: str
    match: Match
    min_amount: int
    approvals: int
    roles: Mapping[str, int]
    kind: str = "approval_tier"


@dataclass(frozen=True, slots=True)
class AutoApprove:
    """Hot-wallet transfers up to `max_amount` need no human approval."""

    id: str
    match: Match
    max_amount: int
    kind: str = "auto_approve"


@dataclass(frozen=True, slots=True)
class Allowlist:
    """Matching requests may go only to effective address-book entries (always on for
    warm and cold wallets; this rule extends it, e.g. to hot wallets)."""

    id: str
    match: Match
    kind: str = "allowlist"


@dataclass(frozen=True, slots=True)
class TimeWindow:
    """Matching requests are allowed only on `days` between `start` and `end` (local time
    in `timezone`); outside it they get `on_outside`. `end` before `start` spans midnight."""

    id: str
    match: Match
    days: frozenset[Weekday]
    start: time
    end: time
    timezone: str
    on_outside: Outcome
    kind: str = "time_window"


Rule = TransferMax | Velocity | ApprovalTier | AutoApprove | Allowlist | TimeWindow


@dataclass(frozen=True, slots=True)
class Policy:
    """A validated, versioned policy. `digest` is SHA-256 of the source text (hex)."""

    version: str
    digest: str
    source: str
    rules: tuple[Rule, ...]
    freeze_outcome: Outcome = Outcome.DENY
    allowed_call_kinds: frozenset[CallKind] = frozenset(
        {CallKind.NATIVE_TRANSFER, CallKind.TOKEN_TRANSFER}
    )
    cooling_off: Mapping[Tier, timedelta] = field(
        default_factory=lambda: MappingProxyType(
            {
                Tier.HOT: timedelta(hours=48),
                Tier.WARM: timedelta(hours=48),
                Tier.COLD: timedelta(hours=48),
            }
        )
    )
    text: str = field(default="", repr=False, compare=False)
    _by_asset: dict[tuple[str, str, Tier], tuple[Rule, ...]] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )

    def candidates(self, chain: str, asset: str, tier: Tier) -> tuple[Rule, ...]:
        """Rules that can apply to `chain`/`asset`/`tier`, in file order (cached); only
        the wallet part of `match` is left for the caller to check."""
        key = (chain, asset, tier)
        found = self._by_asset.get(key)
        if found is None:
            found = tuple(
                rule
                for rule in self.rules
                if (rule.match.chains is None or chain in rule.match.chains)
                and (rule.match.assets is None or asset in rule.match.assets)
                and (rule.match.tiers is None or tier in rule.match.tiers)
            )
            self._by_asset[key] = found
        return found

    def velocity_keys(self, request: PolicyRequest) -> frozenset[VelocityKey]:
        """The (scope, window) totals the engine will need for `request`."""
        return frozenset(
            rule.key
            for rule in self.candidates(request.chain, request.asset, request.tier)
            if isinstance(rule, Velocity) and rule.match.matches(request)
        )

    def cooling_off_for(self, tiers: frozenset[Tier]) -> timedelta:
        """The longest cooling-off of the tiers an address-book entry may serve."""
        return max((self.cooling_off[t] for t in tiers), default=timedelta(hours=48))
