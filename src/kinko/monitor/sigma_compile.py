"""Compile a parsed pySigma detection into a plain Python predicate over a flat event dict.

pySigma does the parsing (YAML, modifiers, the condition language); this module walks the
resulting condition tree once and builds closures, so matching an event costs a few
function calls and no SIEM. Every modifier pySigma expands is accepted (encodings and
``windash`` arrive here as the strings they expand to). What Kinko cannot evaluate
faithfully (keyword searches, placeholders, query expressions, a regular expression
Python cannot compile) is refused at load with the rule, the construct and the reason: a
rule that silently matched nothing would be worse than no rule.

Semantics follow the Sigma specification (sigma-rules-specification.md v2.1.0,
"Detection" > "General": "All values are treated as case-insensitive strings"): strings
compare case-insensitively (Unicode case folding) unless ``|cased``; a boolean or number
rule value matches the event's value or its text (``true`` matches ``True`` and
``"TRUE"``); ``*`` and ``?`` are wildcards; a list value is OR unless ``|all``; a field
whose event value is a list matches if any element does.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable, Mapping
from typing import Any

from sigma import conditions as sc
from sigma import modifiers as sm
from sigma import types as st
from sigma.rule import SigmaDetection, SigmaDetectionItem, SigmaRule

from kinko.core.errors import InputError
from kinko.monitor.sigma_values import (
    as_text,
    bool_or_text,
    canonical_field,
    cidr_test,
    fieldref,
    numeric_or_text,
    timestamp_part,
)

__all__ = [
    "REFUSED_MODIFIERS",
    "SUPPORTED_MODIFIERS",
    "Predicate",
    "RuleError",
    "canonical_field",
    "compile_detection",
    "required_types",
    "rule_label",
]

Event = Mapping[str, Any]
Predicate = Callable[[Event], bool]

SUPPORTED_MODIFIERS: frozenset[type[Any]] = frozenset(
    {
        # Encodings and windash: pySigma expands the value; Kinko matches what it expands to.
        sm.SigmaBase64Modifier,
        sm.SigmaBase64OffsetModifier,
        sm.SigmaWideModifier,
        sm.SigmaUTF16Modifier,
        sm.SigmaUTF16BEModifier,
        sm.SigmaWindowsDashModifier,
        # `neq` (modifiers appendix v2.1.0): pySigma negates the detection item.
        sm.SigmaNegateModifier,
        sm.SigmaTimestampMinuteModifier,
        sm.SigmaTimestampHourModifier,
        sm.SigmaTimestampDayModifier,
        sm.SigmaTimestampWeekModifier,
        sm.SigmaTimestampMonthModifier,
        sm.SigmaTimestampYearModifier,
        sm.SigmaContainsModifier,
        sm.SigmaStartswithModifier,
        sm.SigmaEndswithModifier,
        sm.SigmaRegularExpressionModifier,
        sm.SigmaRegularExpressionIgnoreCaseFlagModifier,
        sm.SigmaRegularExpressionMultilineFlagModifier,
        sm.SigmaRegularExpressionDotAllFlagModifier,
        sm.SigmaCaseSensitiveModifier,
        sm.SigmaCIDRModifier,
        sm.SigmaAllModifier,
        sm.SigmaLessThanModifier,
        sm.SigmaLessThanEqualModifier,
        sm.SigmaGreaterThanModifier,
        sm.SigmaGreaterThanEqualModifier,
        sm.SigmaNotEqualModifier,
        sm.SigmaFieldReferenceModifier,
        sm.SigmaExistsModifier,
    }
)

_COMPARE = {
    st.CompareOperators.LT: operator.lt,
    st.CompareOperators.LTE: operator.le,
    st.CompareOperators.GT: operator.gt,
    st.CompareOperators.GTE: operator.ge,
    st.CompareOperators.NEQ: operator.ne,
}


REFUSED_MODIFIERS: dict[type[Any], str] = {
    sm.SigmaExpandModifier: (
        "expands placeholders (|expand), which Kinko has no values for; the Sigma "
        'specification ("Placeholders") requires a tool that cannot handle them to reject '
        "the rule"
    ),
}


class RuleError(InputError):
    """A rule that cannot be used. Loading refuses the whole pack (fail closed)."""

    code = "invalid_rule"


def rule_label(rule: Any) -> str:
    return f"rule {rule.title!r} ({rule.id or rule.name or 'no id'})"


def compile_detection(rule: SigmaRule) -> Predicate:
    """The rule's condition(s) as one predicate; several conditions are OR-ed (Sigma spec)."""
    _check_modifiers(rule)
    preds = [_node(cond.parsed, rule) for cond in rule.detection.parsed_condition]
    if not preds:
        raise RuleError(rule_label(rule), "has no condition")
    return preds[0] if len(preds) == 1 else _or(preds)


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
    if isinstance(node, sc.ConditionFieldEqualsValueExpression):
        if canonical_field(node.field) != "type" or not isinstance(node.value, st.SigmaString):
            return None
        if node.value.contains_special():
            return None
        return frozenset({str(node.value.to_plain()).lower()})
    if isinstance(node, sc.ConditionAND):
        narrowed: frozenset[str] | None = None
        for arg in node.args:
            types = _types(arg)
            if types is not None:
                narrowed = types if narrowed is None else narrowed & types
        return narrowed
    if isinstance(node, sc.ConditionOR):
        result = frozenset[str]()
        for arg in node.args:
            types = _types(arg)
            if types is None:
                return None
            result |= types
        return result
    return None


def _check_modifiers(rule: SigmaRule) -> None:
    for name, detection in rule.detection.detections.items():
        for item in _items(detection):
            if item.field is None:
                raise RuleError(
                    rule_label(rule),
                    f"selection {name!r} is a keyword search; Kinko events have no free-text "
                    "body, so name the field to match",
                )
            for modifier in item.modifiers:
                if modifier in REFUSED_MODIFIERS:
                    raise RuleError(
                        rule_label(rule),
                        f"field {item.field!r} {REFUSED_MODIFIERS[modifier]}",
                    )
                if modifier not in SUPPORTED_MODIFIERS:
                    raise RuleError(
                        rule_label(rule),
                        f"field {item.field!r} uses unsupported modifier "
                        f"{modifier.__name__.removeprefix('Sigma').removesuffix('Modifier')}",
                    )


def _items(detection: SigmaDetection) -> list[SigmaDetectionItem]:
    out: list[SigmaDetectionItem] = []
    for item in detection.detection_items:
        if isinstance(item, SigmaDetection):
            out.extend(_items(item))
        else:
            out.append(item)
    return out


def _node(node: Any, rule: SigmaRule) -> Predicate:
    if isinstance(node, sc.ConditionAND):
        return _and([_node(a, rule) for a in node.args])
    if isinstance(node, sc.ConditionOR):
        args = node.args
        equals = [a for a in args if isinstance(a, sc.ConditionFieldEqualsValueExpression)]
        fields = {canonical_field(a.field) for a in equals}
        if len(equals) == len(args) and len(fields) == 1:
            as_set = _plain_in(fields.pop(), [a.value for a in equals])
            if as_set is not None:
                return as_set
        return _or([_node(a, rule) for a in args])
    if isinstance(node, sc.ConditionNOT):
        inner = _node(node.args[0], rule)
        return lambda ev: not inner(ev)
    if isinstance(node, sc.ConditionFieldEqualsValueExpression):
        return _field(canonical_field(node.field), node.value, rule)
    raise RuleError(rule_label(rule), f"cannot evaluate condition element {type(node).__name__}")


def _and(preds: list[Predicate]) -> Predicate:
    if len(preds) == 1:
        return preds[0]
    if len(preds) == 2:
        a, b = preds
        return lambda ev: a(ev) and b(ev)

    def all_of(ev: Event) -> bool:
        # A plain loop: all() over a generator costs ~2x on this hot path.
        for pred in preds:  # noqa: SIM110
            if not pred(ev):
                return False
        return True

    return all_of


def _or(preds: list[Predicate]) -> Predicate:
    if len(preds) == 1:
        return preds[0]
    if len(preds) == 2:
        a, b = preds
        return lambda ev: a(ev) or b(ev)

    def any_of(ev: Event) -> bool:
        for pred in preds:  # noqa: SIM110
            if pred(ev):
                return True
        return False

    return any_of


def _on_value(name: str, test: Callable[[Any], bool]) -> Predicate:
    """Apply `test` to the field's value (or any element of a list value); absent is False."""

    def pred(ev: Event) -> bool:
        value = ev.get(name)
        if value is None:
            return False
        if isinstance(value, list | tuple):
            return any(test(v) for v in value if v is not None)
        return test(value)

    return pred


def _field(name: str, value: Any, rule: SigmaRule) -> Predicate:
    if isinstance(value, st.SigmaExpansion):
        return _or([_field(name, v, rule) for v in value.values])
    if isinstance(value, st.SigmaString):
        return _on_text(name, _string_test(value, rule))
    if isinstance(value, st.SigmaRegularExpression):
        return _on_text(name, _regex_test(value, rule))
    if isinstance(value, st.SigmaCompareExpression):
        compare = _COMPARE[value.op]
        bound = value.number.number
        if isinstance(value.number, st.SigmaTimestampPart):
            unit = value.number.timestamp_part

            def cmp_part(v: Any) -> bool:
                got = timestamp_part(v, unit)
                return got is not None and compare(got, bound)

            return _on_value(name, cmp_part)

        def cmp(v: Any) -> bool:
            return isinstance(v, int | float) and not isinstance(v, bool) and compare(v, bound)

        return _on_value(name, cmp)
    if isinstance(value, st.SigmaTimestampPart):
        unit, wanted_part = value.timestamp_part, value.number
        return _on_value(name, lambda v: timestamp_part(v, unit) == wanted_part)
    if isinstance(value, st.SigmaBool):
        return _on_value(name, bool_or_text(bool(value)))
    if isinstance(value, st.SigmaNumber):
        return _on_value(name, numeric_or_text(value.number))
    if isinstance(value, st.SigmaCIDRExpression):
        return _on_value(name, cidr_test(value.network))
    if isinstance(value, st.SigmaExists):
        # Modifiers appendix v2.1.0, "Generic Modifiers" > exists: "this check only verifies
        # the presence of a field, not its value, be it empty or null".
        wanted = bool(value)
        return lambda ev: (name in ev) is wanted
    if isinstance(value, st.SigmaNull):
        # Rules specification v2.1.0, "Special Field Values": "The application of these values
        # depends on the target SIEM system". Kinko matches a field that is null or absent,
        # as pySigma's backends do (`IS NULL`, `NOT _exists_`); `|exists` tells them apart.
        return lambda ev: ev.get(name) is None
    if isinstance(value, st.SigmaFieldReference):
        return fieldref(name, value)
    raise RuleError(
        rule_label(rule), f"field {name!r}: value type {type(value).__name__} is not supported"
    )


def _string_test(value: st.SigmaString, rule: SigmaRule) -> Callable[[str], bool]:
    cased = isinstance(value, st.SigmaCasedString)
    parts = list(value.s)
    if any(not isinstance(p, str | st.SpecialChars) for p in parts):
        raise RuleError(rule_label(rule), f"value {value!s} holds an unresolved placeholder")
    literal = [p for p in parts if isinstance(p, str)]
    specials = [p for p in parts if not isinstance(p, str)]
    norm: Callable[[str], str] = (lambda s: s) if cased else str.casefold
    many = st.SpecialChars.WILDCARD_MULTI
    if not specials:
        expect = norm("".join(literal))
        if cased:
            return lambda s: s == expect
        # Most values arrive already in canonical case: try the cheap comparison first.
        return lambda s: s == expect or s.casefold() == expect
    if len(literal) == 1 and all(p is many for p in specials):
        word = norm(literal[0])
        if parts == [many, literal[0], many]:
            return lambda s: word in norm(s)
        if parts == [literal[0], many]:
            return lambda s: norm(s).startswith(word)
        if parts == [many, literal[0]]:
            return lambda s: norm(s).endswith(word)
    # Both sides case-folded, as for equality (re.IGNORECASE folds one character at a time,
    # so "STRASSE" would not meet "straße*").
    pattern = "".join(
        re.escape(norm(p)) if isinstance(p, str) else (".*" if p is many else ".") for p in parts
    )
    compiled = re.compile(pattern, re.DOTALL)
    if cased:
        return lambda s: compiled.fullmatch(s) is not None
    return lambda s: compiled.fullmatch(s.casefold()) is not None


def _on_text(name: str, test: Callable[[str], bool]) -> Predicate:
    """Apply a text test to the field (numbers and booleans as their text); absent is False."""

    def pred(ev: Event) -> bool:
        value = ev.get(name)
        if value.__class__ is str:
            return test(value)
        if value is None:
            return False
        if isinstance(value, list | tuple):
            return any((t := as_text(v)) is not None and test(t) for v in value)
        text = as_text(value)
        return text is not None and test(text)

    return pred


def _plain_in(name: str, values: list[Any]) -> Predicate | None:
    """``field: [a, b, c]`` of plain case-insensitive strings as one set look-up."""
    wanted: set[str] = set()
    for value in values:
        if type(value) is not st.SigmaString or value.contains_special():
            return None
        wanted.add(str(value.to_plain()).casefold())
    frozen = frozenset(wanted)
    return _on_text(name, lambda s: s in frozen or s.casefold() in frozen)


def _regex_test(value: st.SigmaRegularExpression, rule: SigmaRule) -> Callable[[str], bool]:
    flags = 0
    for flag in value.flags:
        flags |= {
            st.SigmaRegularExpressionFlag.IGNORECASE: re.IGNORECASE,
            st.SigmaRegularExpressionFlag.MULTILINE: re.MULTILINE,
            st.SigmaRegularExpressionFlag.DOTALL: re.DOTALL,
        }[flag]
    try:
        compiled = re.compile(str(value.regexp.to_plain()), flags)
    except re.error as exc:
        raise RuleError(
            rule_label(rule), f"regular expression {value.regexp!s} does not compile: {exc}"
        ) from None
    return lambda s: compiled.search(s) is not None
