"""Choosing the narrowest response the evidence allows (pure).

A freeze rule names the scope it wants and how far it may widen. The planner walks from
the wanted scope outward and stops at the first scope whose target the evidence names:
a wallet freeze needs `wallet`, an asset freeze `asset` (with `chain`, as ``chain:SYMBOL``),
a chain freeze `chain`. Without any, the response degrades to an alert and says why.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from kinko.monitor.alert import Alert
from kinko.monitor.response_spec import SCOPE_ORDER, ResponseAction, Scope


@dataclass(frozen=True, slots=True)
class PlannedResponse:
    action: ResponseAction
    scope: Scope | None = None
    target: str | None = None
    note: str = ""


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value.strip() else None


def freeze_target(scope: Scope, facts: Mapping[str, Any]) -> str | None:
    if scope is Scope.WALLET:
        return _text(facts.get("wallet"))
    if scope is Scope.ASSET:
        asset, chain = _text(facts.get("asset")), _text(facts.get("chain"))
        if asset and ":" in asset:
            return asset
        return f"{chain}:{asset}" if asset and chain else None
    if scope is Scope.CHAIN:
        return _text(facts.get("chain"))
    return None


def plan(alert: Alert) -> PlannedResponse:
    spec = alert.response
    facts = {**alert.evidence, **alert.group}
    if spec.action is ResponseAction.ALERT:
        return PlannedResponse(ResponseAction.ALERT)
    if spec.action is ResponseAction.FREEZE:
        assert spec.scope is not None and spec.max_scope is not None
        first, last = SCOPE_ORDER.index(spec.scope), SCOPE_ORDER.index(spec.max_scope)
        for scope in SCOPE_ORDER[first : last + 1]:
            if scope is Scope.ALL:
                return PlannedResponse(ResponseAction.FREEZE, Scope.ALL, None)
            target = freeze_target(scope, facts)
            if target is not None:
                return PlannedResponse(ResponseAction.FREEZE, scope, target)
        wanted = ", ".join(s.value for s in SCOPE_ORDER[first : last + 1])
        return PlannedResponse(
            ResponseAction.ALERT, note=f"freeze not applied: the evidence names no {wanted}"
        )
    if spec.action is ResponseAction.HOLD_WITHDRAWAL:
        target = _text(facts.get("withdrawal_id")) or _text(facts.get("withdrawal"))
        if target is None:
            return PlannedResponse(
                ResponseAction.ALERT, note="hold not applied: the evidence names no withdrawal_id"
            )
        return PlannedResponse(ResponseAction.HOLD_WITHDRAWAL, target=target)
    target = _text(facts.get("account")) or _text(facts.get("actor"))
    if target is None:
        return PlannedResponse(
            ResponseAction.ALERT, note=f"{spec.action.value} not applied: no actor in the evidence"
        )
    return PlannedResponse(spec.action, target=target)
