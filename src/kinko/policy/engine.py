"""`evaluate(policy, request, context, now) -> Decision`: the pure policy function.

Order of evaluation (every check runs, so the decision lists every rule that fired):

1. built-in gates that no policy file can switch off: freezes, screening verdict, call
   kinds (``dangerous`` always denied), the allowlist for warm and cold wallets;
2. the policy's gates: per-transfer maximum, velocity windows, allowlists, time windows;
3. who must approve: approval tiers (the strictest matching tier wins) or, for small
   hot-wallet transfers, auto-approval;
4. if neither an approval tier nor an auto-approval matched: default deny.

The outcome is the most severe one asked for (deny > hold > require approvals > allow).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from types import MappingProxyType
from zoneinfo import ZoneInfo

from kinko.chains.base import CallKind
from kinko.core.clock import utc
from kinko.custody.model import Tier
from kinko.policy.model import (
    Decision,
    Outcome,
    PolicyContext,
    PolicyRequest,
    RuleHit,
    ScreeningVerdict,
    Weekday,
)
from kinko.policy.rules import (
    Allowlist,
    ApprovalTier,
    AutoApprove,
    Policy,
    TimeWindow,
    TransferMax,
    Velocity,
)

BUILTIN_FREEZE = "builtin.freeze"
BUILTIN_SCREENING = "builtin.screening"
BUILTIN_CALL_KIND = "builtin.call_kind"
BUILTIN_ALLOWLIST = "builtin.allowlist"
BUILTIN_DEFAULT_DENY = "builtin.default_deny"

_ALLOWLISTED_TIERS = frozenset({Tier.WARM, Tier.COLD})


def evaluate(
    policy: Policy, request: PolicyRequest, context: PolicyContext, now: datetime
) -> Decision:
    """Decide on `request` given `context` at `now`. Pure: no I/O, no clock."""
    now = utc(now)
    fired: list[RuleHit] = []
    _builtin_gates(policy, request, context, now, fired)
    approvals = 0
    roles: dict[str, int] = {}
    auto_approved = False
    allowlisted = request.tier in _ALLOWLISTED_TIERS
    for rule in policy.candidates(request.chain, request.asset, request.tier):
        wallets = rule.match.wallets
        if wallets is not None and request.wallet_id not in wallets:
            continue
        if isinstance(rule, TransferMax):
            if request.amount > rule.max_amount:
                fired.append(
                    RuleHit(
                        rule.id,
                        rule.kind,
                        Outcome.DENY,
                        f"amount {request.amount} exceeds the per-transfer maximum "
                        f"{rule.max_amount}",
                    )
                )
        elif isinstance(rule, Velocity):
            _velocity(rule, request, context, fired)
        elif isinstance(rule, Allowlist):
            if not allowlisted:
                allowlisted = True
                _allowlist((rule.id, rule.kind), request, context, now, fired)
        elif isinstance(rule, TimeWindow):
            _time_window(rule, now, fired)
        elif isinstance(rule, ApprovalTier):
            if request.amount >= rule.min_amount:
                approvals = max(approvals, rule.approvals)
                for role, count in rule.roles.items():
                    roles[role] = max(roles.get(role, 0), count)
                fired.append(
                    RuleHit(
                        rule.id,
                        rule.kind,
                        Outcome.REQUIRE_APPROVALS,
                        f"amount {request.amount} ≥ {rule.min_amount} needs "
                        f"{_describe_quorum(rule.approvals, rule.roles)}",
                    )
                )
        elif (
            isinstance(rule, AutoApprove)
            and request.tier is Tier.HOT
            and request.amount <= rule.max_amount
        ):
            auto_approved = True
            fired.append(
                RuleHit(
                    rule.id,
                    rule.kind,
                    Outcome.ALLOW,
                    f"hot-wallet amount {request.amount} ≤ {rule.max_amount} is auto-approved",
                )
            )
    if approvals == 0 and not auto_approved:
        fired.append(
            RuleHit(
                BUILTIN_DEFAULT_DENY,
                "default_deny",
                Outcome.DENY,
                "no approval tier or auto-approval rule matched this request",
            )
        )
    # An approval tier that matches outranks an auto-approval (require approvals > allow);
    # both stay listed, since both fired.
    outcome = max((h.outcome for h in fired), key=lambda o: o.severity)
    needs_quorum = outcome is Outcome.REQUIRE_APPROVALS
    return Decision(
        outcome=outcome,
        policy_version=policy.version,
        policy_digest=policy.digest,
        fired=tuple(fired),
        required_approvals=approvals if needs_quorum else 0,
        required_roles=MappingProxyType(roles if needs_quorum else {}),
        evaluated_at=now,
    )


def _builtin_gates(
    policy: Policy,
    request: PolicyRequest,
    context: PolicyContext,
    now: datetime,
    fired: list[RuleHit],
) -> None:
    for freeze in context.freezes:
        if freeze.covers(request):
            fired.append(
                RuleHit(BUILTIN_FREEZE, "freeze", policy.freeze_outcome, freeze.describe())
            )
        elif freeze.refills(context.destination_wallet):
            reason = f"the destination is the exchange's {freeze.describe()}; nothing refills it"
            fired.append(RuleHit(BUILTIN_FREEZE, "freeze", policy.freeze_outcome, reason))
    if context.screening is ScreeningVerdict.HIT:
        fired.append(
            RuleHit(
                BUILTIN_SCREENING,
                "screening",
                Outcome.DENY,
                "the destination is on a sanctions or stolen-funds list",
            )
        )
    elif context.screening is not ScreeningVerdict.CLEAR:
        fired.append(
            RuleHit(
                BUILTIN_SCREENING,
                "screening",
                Outcome.HOLD,
                f"screening verdict is {context.screening.value}: lists are stale or missing",
            )
        )
    if request.call_kind is CallKind.DANGEROUS or (
        request.call_kind not in policy.allowed_call_kinds
    ):
        fired.append(
            RuleHit(
                BUILTIN_CALL_KIND,
                "call_kind",
                Outcome.DENY,
                f"call kind {request.call_kind.value} is not allowed by this policy",
            )
        )
    if request.tier in _ALLOWLISTED_TIERS:
        _allowlist((BUILTIN_ALLOWLIST, "allowlist"), request, context, now, fired)


def _allowlist(
    rule: tuple[str, str],
    request: PolicyRequest,
    context: PolicyContext,
    now: datetime,
    fired: list[RuleHit],
) -> None:
    entry = context.address_entry
    if entry is None or entry.chain != request.chain or entry.address != request.destination:
        reason = f"{request.destination} is not in the address book"
    elif not entry.is_effective(now):
        reason = (
            f"address-book entry {entry.id} is still cooling off until "
            f"{utc(entry.effective_at).isoformat()}"
        )
    elif request.tier not in entry.tiers_allowed:
        reason = f"address-book entry {entry.id} is not allowed for {request.tier.value} wallets"
    else:
        return
    fired.append(RuleHit(rule[0], rule[1], Outcome.DENY, reason))


def _velocity(
    rule: Velocity, request: PolicyRequest, context: PolicyContext, fired: list[RuleHit]
) -> None:
    used = context.velocity.get(rule.key)
    if used is not None and used + request.amount <= rule.limit:
        return
    window = _describe_window(rule.key[1])
    if used is None:
        fired.append(
            RuleHit(
                rule.id,
                rule.kind,
                Outcome.DENY,
                f"no {rule.scope.value} velocity total for the {window} window was supplied",
            )
        )
    else:
        fired.append(
            RuleHit(
                rule.id,
                rule.kind,
                rule.on_exceed,
                f"{rule.scope.value} total in the last {window} would be "
                f"{used + request.amount} (already {used}), over the limit {rule.limit}",
            )
        )


def _time_window(rule: TimeWindow, now: datetime, fired: list[RuleHit]) -> None:
    local = now.astimezone(ZoneInfo(rule.timezone))
    clock = local.time().replace(tzinfo=None)
    day = Weekday(local.weekday())
    if rule.start <= rule.end:
        inside = rule.start <= clock < rule.end and day in rule.days
    else:  # spans midnight: the part after midnight belongs to the previous day's window
        before_midnight = clock >= rule.start and day in rule.days
        after_midnight = clock < rule.end and Weekday((day - 1) % 7) in rule.days
        inside = before_midnight or after_midnight
    if not inside:
        fired.append(
            RuleHit(
                rule.id,
                rule.kind,
                rule.on_outside,
                f"{local.strftime('%a %H:%M')} {rule.timezone} is outside "
                f"{rule.start.strftime('%H:%M')}-{rule.end.strftime('%H:%M')} "
                f"on {','.join(d.name.lower() for d in sorted(rule.days))}",
            )
        )


def _describe_window(seconds: int) -> str:
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def _describe_quorum(approvals: int, roles: Mapping[str, int]) -> str:
    text = f"{approvals} approval{'s' if approvals != 1 else ''}"
    if roles:
        parts = ", ".join(f"{n} {role}" for role, n in sorted(roles.items()))
        text += f" including {parts}"
    return text
