"""Response planning (pure): narrowest scope the evidence allows; specs parse strictly."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from kinko.monitor.alert import Alert, AlertKind, json_safe
from kinko.monitor.response_plan import plan
from kinko.monitor.response_spec import ResponseAction, ResponseSpec, Scope
from tests.unit.monitor.support import T0


def alert(
    spec: ResponseSpec, evidence: dict[str, Any], group: dict[str, Any] | None = None
) -> Alert:
    return Alert("r", "t", "high", AlertKind.DETECTION, T0, spec, evidence, group or {})


FREEZE = ResponseSpec(ResponseAction.FREEZE, Scope.WALLET, Scope.CHAIN)


@pytest.mark.parametrize(
    ("evidence", "scope", "target"),
    [
        ({"wallet": "w1", "asset": "ETH", "chain": "ethereum"}, Scope.WALLET, "w1"),
        ({"asset": "ETH", "chain": "ethereum"}, Scope.ASSET, "ethereum:ETH"),
        ({"asset": "ethereum:USDT"}, Scope.ASSET, "ethereum:USDT"),
        ({"asset": "ETH", "chain": "ethereum", "wallet": "  "}, Scope.ASSET, "ethereum:ETH"),
        ({"chain": "bitcoin"}, Scope.CHAIN, "bitcoin"),
    ],
)
def test_freeze_scope_is_the_narrowest_with_evidence(
    evidence: dict[str, Any], scope: Scope, target: str
) -> None:
    planned = plan(alert(FREEZE, evidence))
    assert (planned.action, planned.scope, planned.target) == (ResponseAction.FREEZE, scope, target)


def test_freeze_never_widens_past_max_scope() -> None:
    narrow = ResponseSpec(ResponseAction.FREEZE, Scope.WALLET, Scope.WALLET)
    planned = plan(alert(narrow, {"chain": "ethereum"}))
    assert planned.action is ResponseAction.ALERT and "names no wallet" in planned.note
    everything = ResponseSpec(ResponseAction.FREEZE, Scope.CHAIN, Scope.ALL)
    assert plan(alert(everything, {})).scope is Scope.ALL


def test_lock_targets_group_alias_then_actor() -> None:
    lock = ResponseSpec(ResponseAction.LOCK_ACCOUNT)
    assert plan(alert(lock, {"actor": "user:a"}, {"account": "user:b"})).target == "user:b"
    assert plan(alert(lock, {"actor": "user:a"})).target == "user:a"
    assert plan(alert(lock, {})).action is ResponseAction.ALERT


def test_hold_needs_a_withdrawal() -> None:
    hold = ResponseSpec(ResponseAction.HOLD_WITHDRAWAL)
    assert plan(alert(hold, {"withdrawal": "wd_1"})).target == "wd_1"
    assert plan(alert(hold, {})).note == "hold not applied: the evidence names no withdrawal_id"


@pytest.mark.parametrize(
    ("block", "message"),
    [
        ("freeze", "must be a mapping"),
        ({"response": "nuke"}, "must be one of"),
        ({"response": "freeze", "scope": "planet"}, "wallet, asset, chain, all"),
        ({"response": "freeze", "scope": "chain", "max_scope": "wallet"}, "narrower"),
        ({"response": "lock_account", "scope": "wallet"}, "only applies"),
        ({"response": "alert", "colour": "red"}, "unknown key"),
    ],
)
def test_bad_response_blocks_refused(block: Any, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        ResponseSpec.parse(block, where="rule x")


def test_json_safe_for_audit() -> None:
    assert json_safe({"a": 2**60, "b": 1.5, "c": T0, "d": Decimal("1.0"), "e": (1, True)}) == {
        "a": str(2**60),
        "b": "1.5",
        "c": "2026-11-21T09:00:00.000000Z",
        "d": "1.0",
        "e": [1, True],
    }
