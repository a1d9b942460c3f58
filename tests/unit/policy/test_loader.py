"""Loading a policy: everything is validated, and any problem refuses the whole file."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest

from kinko.chains.base import CallKind
from kinko.core.errors import ConfigError
from kinko.custody.model import Tier
from kinko.policy.loader import default_policy, load_policy
from kinko.policy.model import Outcome, VelocityScope
from kinko.policy.rules import ApprovalTier, AutoApprove, Velocity
from tests.unit.policy.helpers import POLICY

MINIMAL = """
version: "v1"
rules:
  - id: auto
    kind: auto_approve
    match: {chain: ethereum, asset: ETH, tier: hot}
    max_amount: 10
"""


def test_loads_and_names_its_digest() -> None:
    policy = load_policy(POLICY, source="test")
    assert policy.version == "t-1"
    assert policy.digest == hashlib.sha256(POLICY.encode()).hexdigest()
    assert len(policy.rules) == 8
    velocity = next(r for r in policy.rules if isinstance(r, Velocity))
    assert velocity.key == (VelocityScope.WALLET, 3600)
    assert velocity.on_exceed is Outcome.DENY
    large = next(r for r in policy.rules if r.id == "eth-large")
    assert isinstance(large, ApprovalTier)
    assert dict(large.roles) == {"approver": 2, "senior_approver": 1}


def test_default_policy_loads_with_every_kind() -> None:
    policy = default_policy()
    kinds = {rule.kind for rule in policy.rules}
    assert kinds == {"transfer_max", "velocity", "approval_tier", "auto_approve", "time_window"}
    assert policy.cooling_off[Tier.COLD] == timedelta(hours=72)


def test_big_amounts_as_strings_or_ints() -> None:
    text = MINIMAL.replace("max_amount: 10", 'max_amount: "100000000000000000000000"')
    rule = load_policy(text, source="t").rules[0]
    assert isinstance(rule, AutoApprove)
    assert rule.max_amount == 10**23


@pytest.mark.parametrize(
    ("text", "field", "message"),
    [
        ("", "t", "is empty"),
        ("version: 'v1'\nrules: []\n", "rules", "non-empty list"),
        ("rules: [{id: a}]\n", "version", "quoted string"),
        ("version: 1\nrules: []\n", "version", "quoted string"),
        ("version: 'v1'\nversion: 'v2'\nrules: []\n", "line 2", "duplicate key 'version'"),
        ("version: 'v1'\nrulez: []\n", "policy", "unknown key(s) rulez"),
        ("version: [\n", "t", "not valid YAML"),
        (
            MINIMAL.replace("max_amount: 10", "max_amount: 0.5"),
            "rules[0] (id=auto).max_amount",
            "integer number of base units",
        ),
        (
            MINIMAL.replace("max_amount: 10", "max_amount: -3"),
            "rules[0] (id=auto).max_amount",
            "greater than zero, got -3",
        ),
        (
            MINIMAL.replace("max_amount: 10", "max_amount: 0"),
            "rules[0] (id=auto).max_amount",
            "greater than zero",
        ),
        (
            MINIMAL.replace("tier: hot", "tier: cold"),
            "rules[0] (id=auto).match.tier",
            "only to hot wallets",
        ),
        (
            MINIMAL.replace("tier: hot", "tier: lukewarm"),
            "rules[0] (id=auto).match.tier",
            "not one of hot, warm, cold",
        ),
        (
            MINIMAL.replace("asset: ETH, ", ""),
            "rules[0] (id=auto).match",
            "exactly one chain and one asset",
        ),
        (
            MINIMAL.replace("kind: auto_approve", "kind: magic"),
            "rules[0] (id=auto).kind",
            "'magic' is not one of",
        ),
        (MINIMAL.replace("id: auto", "id: Auto Rule"), "rules[0].id", "lower-case id"),
        (MINIMAL + "    colour: red\n", "rules[0] (id=auto)", "unknown key(s) colour"),
        (
            MINIMAL.replace("kind: auto_approve", "kind: allowlist"),
            "rules[0] (id=auto)",
            "unknown key(s) max_amount",
        ),
        (MINIMAL + MINIMAL.split("rules:\n")[1], "rules[1].id", "used twice"),
        (
            "version: 'v1'\nrules:\n  - {id: a, kind: allowlist}\n",
            "rules",
            "every request would be denied",
        ),
        (
            "version: 'v1'\nallowed_call_kinds: [dangerous]\n" + MINIMAL.split("\n", 2)[2],
            "allowed_call_kinds",
            "can never be allowed",
        ),
        (
            "version: 'v1'\nfreeze_outcome: allow\n" + MINIMAL.split("\n", 2)[2],
            "freeze_outcome",
            "must be deny or hold",
        ),
        (
            "version: 'v1'\ncooling_off: {cold: 2 days}\n" + MINIMAL.split("\n", 2)[2],
            "cooling_off.cold",
            "not a duration",
        ),
    ],
)
def test_invalid_policies_refuse_to_load_naming_the_field(
    text: str, field: str, message: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        load_policy(text, source="t")
    assert caught.value.field == field
    assert message in caught.value.message


RULES = {
    "velocity": "scope: wallet\n    window: 1h\n    limit: 5",
    "approval_tier": "min_amount: 1\n    approvals: 2\n    roles: {approver: 2}",
}


@pytest.mark.parametrize(
    ("kind", "bad", "good", "field", "message"),
    [
        ("velocity", "window: 1h", "window: 90", "window", "not a duration"),
        (
            "velocity",
            "scope: wallet",
            "scope: planet",
            "scope",
            "not one of wallet, asset, customer",
        ),
        (
            "velocity",
            "limit: 5",
            "limit: 5\n    on_exceed: allow",
            "on_exceed",
            "must be deny or hold",
        ),
        ("approval_tier", "approvals: 2", "approvals: 0", "approvals", "from 1 to 20"),
        (
            "approval_tier",
            "roles: {approver: 2}",
            "roles: {approver: 3}",
            "roles.approver",
            "from 1 to approvals (2)",
        ),
    ],
)
def test_rule_fields_are_checked(kind: str, bad: str, good: str, field: str, message: str) -> None:
    match = "match: {chain: ethereum, asset: ETH}"
    rule = f"  - id: r\n    kind: {kind}\n    {match}\n    {RULES[kind]}\n"
    text = MINIMAL + rule.replace(bad, good)
    with pytest.raises(ConfigError) as caught:
        load_policy(text, source="t")
    assert caught.value.field == f"rules[1] (id=r).{field}"
    assert message in caught.value.message


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ('start: "09:00"', "start", "24-hour time"),
        ("timezone: Mars/Olympus", "timezone", "IANA time zone"),
        ("days: [funday]", "days", "mon..sun"),
        ('end: "09:00"', "end", "must differ from start"),
    ],
)
def test_time_windows_are_checked(change: str, field: str, message: str) -> None:
    rule = (
        "  - id: tw\n    kind: time_window\n    match: {tier: cold}\n    days: [mon]\n"
        '    start: "09:00"\n    end: "18:00"\n    timezone: Asia/Tokyo\n'
    )
    key = change.split(":", maxsplit=1)[0]
    if key == "start":
        rule = rule.replace('start: "09:00"', "start: 9am")
    else:
        lines = [line for line in rule.splitlines() if not line.strip().startswith(key + ":")]
        rule = "\n".join(lines) + f"\n    {change}\n"
    with pytest.raises(ConfigError) as caught:
        load_policy(MINIMAL + rule, source="t")
    assert caught.value.field == f"rules[1] (id=tw).{field}"
    assert message in caught.value.message


def test_allowed_call_kinds_can_extend_but_not_to_dangerous() -> None:
    text = (
        "version: 'v1'\nallowed_call_kinds: [native_transfer, contract_call]\n"
        + MINIMAL.split("\n", 2)[2]
    )
    policy = load_policy(text, source="t")
    assert policy.allowed_call_kinds == {CallKind.NATIVE_TRANSFER, CallKind.CONTRACT_CALL}
