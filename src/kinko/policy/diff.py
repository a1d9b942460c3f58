"""What a new policy version loosens compared with the previous one.

Loading a policy that raises a limit, lowers a quorum or drops the allowlist is exactly
what an insider (or an attacker with a foothold) would do before a large theft. The
policy service audits every weakening and publishes it as a ``policy.change`` security
event, which the monitor's ``kinko-policy-weakened`` rule alerts on. Rules are compared by
id; a rule whose match changed is reported too, since narrowing a match can exempt
requests from it.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from kinko.policy.model import Outcome
from kinko.policy.rules import (
    Allowlist,
    ApprovalTier,
    AutoApprove,
    Policy,
    Rule,
    TimeWindow,
    TransferMax,
    Velocity,
)


class Change(StrEnum):
    LIMIT_RAISED = "limit_raised"
    QUORUM_LOWERED = "quorum_lowered"
    ALLOWLIST_DISABLED = "allowlist_disabled"
    COOLING_OFF_SHORTENED = "cooling_off_shortened"
    TIME_WINDOW_CHANGED = "time_window_changed"
    CALL_KINDS_WIDENED = "call_kinds_widened"
    FREEZE_SOFTENED = "freeze_softened"
    RULE_SCOPE_CHANGED = "rule_scope_changed"


@dataclass(frozen=True, slots=True)
class Weakening:
    change: Change
    rule_id: str
    detail: str


def weakenings(old: Policy, new: Policy) -> list[Weakening]:
    """Every way `new` is looser than `old` (empty when it is as strict or stricter)."""
    found: list[Weakening] = []
    new_rules = {rule.id: rule for rule in new.rules}
    for before in old.rules:
        after = new_rules.get(before.id)
        if after is None or type(after) is not type(before):
            change = _removal(before)
            what = "removed" if after is None else f"became {after.kind}"
            if change is not None:
                found.append(Weakening(change, before.id, f"{before.kind} rule {what}"))
        else:
            found.extend(_compare(before, after))
    old_ids = {rule.id for rule in old.rules}
    for rule in new.rules:
        if isinstance(rule, AutoApprove) and rule.id not in old_ids:
            found.append(
                Weakening(
                    Change.QUORUM_LOWERED,
                    rule.id,
                    f"new auto-approval up to {rule.max_amount}",
                )
            )
    for tier, period in old.cooling_off.items():
        if new.cooling_off[tier] < period:
            found.append(
                Weakening(
                    Change.COOLING_OFF_SHORTENED,
                    "cooling_off",
                    f"{tier.value}: {period} → {new.cooling_off[tier]}",
                )
            )
    widened = new.allowed_call_kinds - old.allowed_call_kinds
    if widened:
        kinds = ", ".join(sorted(k.value for k in widened))
        found.append(
            Weakening(Change.CALL_KINDS_WIDENED, "allowed_call_kinds", f"now allows {kinds}")
        )
    if old.freeze_outcome is Outcome.DENY and new.freeze_outcome is not Outcome.DENY:
        found.append(
            Weakening(Change.FREEZE_SOFTENED, "freeze_outcome", "frozen requests now only hold")
        )
    return found


def _removal(rule: Rule) -> Change | None:
    """What removing `rule` loosens (None: removing an auto-approval only tightens)."""
    if isinstance(rule, ApprovalTier):
        return Change.QUORUM_LOWERED
    if isinstance(rule, Allowlist):
        return Change.ALLOWLIST_DISABLED
    if isinstance(rule, TimeWindow):
        return Change.TIME_WINDOW_CHANGED
    if isinstance(rule, AutoApprove):
        return None
    return Change.LIMIT_RAISED


def _compare(before: Rule, after: Rule) -> list[Weakening]:
    out: list[Weakening] = []

    def add(change: Change, detail: str) -> None:
        out.append(Weakening(change, before.id, detail))

    if after.match != before.match:
        add(Change.RULE_SCOPE_CHANGED, "the rule's match changed")
    if isinstance(before, TransferMax) and isinstance(after, TransferMax):
        if after.max_amount > before.max_amount:
            add(Change.LIMIT_RAISED, f"max {before.max_amount} → {after.max_amount}")
    elif isinstance(before, Velocity) and isinstance(after, Velocity):
        if after.limit > before.limit:
            add(Change.LIMIT_RAISED, f"limit {before.limit} → {after.limit}")
        if after.window < before.window:
            add(Change.LIMIT_RAISED, f"window {before.window} → {after.window}")
        if before.on_exceed is Outcome.DENY and after.on_exceed is not Outcome.DENY:
            add(Change.LIMIT_RAISED, "on_exceed deny → hold")
        if after.scope is not before.scope:
            add(Change.RULE_SCOPE_CHANGED, f"scope {before.scope} → {after.scope}")
    elif isinstance(before, ApprovalTier) and isinstance(after, ApprovalTier):
        if after.approvals < before.approvals:
            add(Change.QUORUM_LOWERED, f"approvals {before.approvals} → {after.approvals}")
        if after.min_amount > before.min_amount:
            add(Change.QUORUM_LOWERED, f"min_amount {before.min_amount} → {after.min_amount}")
        for role, count in before.roles.items():
            if after.roles.get(role, 0) < count:
                add(Change.QUORUM_LOWERED, f"{role} {count} → {after.roles.get(role, 0)}")
    elif isinstance(before, AutoApprove) and isinstance(after, AutoApprove):
        if after.max_amount > before.max_amount:
            add(Change.QUORUM_LOWERED, f"auto-approval {before.max_amount} → {after.max_amount}")
    elif isinstance(before, TimeWindow) and isinstance(after, TimeWindow) and after != before:
        add(Change.TIME_WINDOW_CHANGED, "days, hours, time zone or outcome changed")
    return out
