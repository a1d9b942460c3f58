"""Which event types a Sigma rule can match (`required_types`): the engine indexes rules by
them, so an event meets only the rules that can match it, and `sigma_compile` decides the
rule's tests of the type field in advance for each indexed type."""

from __future__ import annotations

from collections.abc import Callable
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
    return required_values(rule, "type", str.lower)


def required_values(
    rule: SigmaRule, field: str, norm: Callable[[str], str] = str.casefold
) -> frozenset[str] | None:
    """The values of `field` (normalised by `norm`) without one of which the rule's
    condition cannot be true, or None when it can be true whatever the field holds (the
    engine's logsource key index, `kinko.monitor.sources.KEY_FIELDS`, uses it with
    case folding, as the rule compares)."""
    found: frozenset[str] | None = None
    for cond in rule.detection.parsed_condition:
        values = _values(cond.parsed, field, norm)
        if values is None:
            return None
        found = values if found is None else found | values
    return found


def _values(node: Any, field: str, norm: Callable[[str], str]) -> frozenset[str] | None:
    if isinstance(node, ConditionFieldEqualsValueExpression):
        if canonical_field(node.field) != field or not isinstance(node.value, st.SigmaString):
            return None
        if node.value.contains_special():
            return None
        return frozenset({norm(str(node.value.to_plain()))})
    if isinstance(node, ConditionAND):
        narrowed: frozenset[str] | None = None
        for arg in node.args:
            values = _values(arg, field, norm)
            if values is not None:
                narrowed = values if narrowed is None else narrowed & values
        return narrowed
    if isinstance(node, ConditionOR):
        result = frozenset[str]()
        for arg in node.args:
            values = _values(arg, field, norm)
            if values is None:
                return None
            result |= values
        return result
    return None
