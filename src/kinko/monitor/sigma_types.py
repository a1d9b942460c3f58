"""Which event types a Sigma rule can match (`required_types`): the engine indexes rules by
them, so an event meets only the rules that can match it, and `sigma_compile` decides the
rule's tests of the type field in advance for each indexed type."""

from __future__ import annotations

from typing import Any

from sigma import types as st
from sigma.conditions import ConditionAND, ConditionFieldEqualsValueExpression, ConditionOR
from sigma.rule import SigmaRule

from kinko.monitor.sigma_values import canonical_field


def required_types(rule: SigmaRule) -> frozenset[str] | None:
    """Event types the rule can match, or None when it may match any type.

    Sound but not complete: a rule is indexed under a type only when its condition
    cannot be true for an event of another type.
    """
    found: frozenset[str] | None = None
    for cond in rule.detection.parsed_condition:
        types = _types(cond.parsed)
        if types is None:
            return None
        found = types if found is None else found | types
    return found


def _types(node: Any) -> frozenset[str] | None:
    if isinstance(node, ConditionFieldEqualsValueExpression):
        if canonical_field(node.field) != "type" or not isinstance(node.value, st.SigmaString):
            return None
        if node.value.contains_special():
            return None
        return frozenset({str(node.value.to_plain()).lower()})
    if isinstance(node, ConditionAND):
        narrowed: frozenset[str] | None = None
        for arg in node.args:
            types = _types(arg)
            if types is not None:
                narrowed = types if narrowed is None else narrowed & types
        return narrowed
    if isinstance(node, ConditionOR):
        result = frozenset[str]()
        for arg in node.args:
            types = _types(arg)
            if types is None:
                return None
            result |= types
        return result
    return None
