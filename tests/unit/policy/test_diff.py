"""Noticing a weaker policy: every loosening is named, tightening is not."""

from __future__ import annotations

import pytest

from kinko.policy.diff import Change, weakenings
from kinko.policy.loader import load_policy
from tests.unit.policy.helpers import POLICY

old = load_policy(POLICY, source="old")


def diff(*edits: tuple[str, str]) -> set[tuple[Change, str]]:
    text = POLICY.replace('version: "t-1"', 'version: "t-2"')
    for before, after in edits:
        assert before in text, before
        text = text.replace(before, after)
    return {(w.change, w.rule_id) for w in weakenings(old, load_policy(text, source="new"))}


def test_same_policy_has_no_weakenings() -> None:
    assert diff() == set()


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        (("max: 1000", "max: 1001"), {(Change.LIMIT_RAISED, "eth-max")}),
        (("limit: 2000", "limit: 2500"), {(Change.LIMIT_RAISED, "eth-wallet-1h")}),
        (("window: 1h", "window: 10min"), {(Change.LIMIT_RAISED, "eth-wallet-1h")}),
        (("    on_exceed: hold\n", ""), set()),  # hold -> deny is stricter
        (("max_amount: 100", "max_amount: 150"), {(Change.QUORUM_LOWERED, "eth-hot-auto")}),
        (
            ("roles: {approver: 2, senior_approver: 1}", "roles: {approver: 2}"),
            {(Change.QUORUM_LOWERED, "eth-large")},
        ),
        (
            ("approvals: 3", "approvals: 2"),
            {(Change.QUORUM_LOWERED, "eth-large")},
        ),
        (("min_amount: 500", "min_amount: 900"), {(Change.QUORUM_LOWERED, "eth-large")}),
        (("max: 1000", "max: 900"), set()),
        (('end: "18:00"', 'end: "23:00"'), {(Change.TIME_WINDOW_CHANGED, "cold-hours")}),
        (
            (
                "match: {chain: ethereum, asset: ETH}\n    max: 1000",
                "match: {chain: ethereum, asset: ETH, tier: hot}\n    max: 1000",
            ),
            {(Change.RULE_SCOPE_CHANGED, "eth-max")},
        ),
    ],
)
def test_each_loosening_is_named(edit: tuple[str, str], expected: set[tuple[Change, str]]) -> None:
    assert diff(edit) == expected


def test_removed_rules_and_settings() -> None:
    removed = diff(
        (
            "  - id: eth-large\n    kind: approval_tier\n    match: {chain: ethereum, asset: ETH}\n"
            "    min_amount: 500\n    approvals: 3\n    roles: {approver: 2, senior_approver: 1}\n",
            "",
        ),
    )
    assert removed == {(Change.QUORUM_LOWERED, "eth-large")}
    settings = diff(
        (
            'version: "t-2"',
            'version: "t-2"\nfreeze_outcome: hold\ncooling_off: {cold: 1h}\n'
            "allowed_call_kinds: [native_transfer, token_transfer, contract_call]",
        ),
    )
    assert settings == {
        (Change.FREEZE_SOFTENED, "freeze_outcome"),
        (Change.COOLING_OFF_SHORTENED, "cooling_off"),
        (Change.CALL_KINDS_WIDENED, "allowed_call_kinds"),
    }


def test_new_auto_approval_lowers_the_quorum() -> None:
    added = diff(
        (
            "rules:\n",
            "rules:\n  - id: usdc-auto\n    kind: auto_approve\n"
            "    match: {chain: ethereum, asset: USDC, tier: hot}\n    max_amount: 5\n",
        ),
    )
    assert added == {(Change.QUORUM_LOWERED, "usdc-auto")}
