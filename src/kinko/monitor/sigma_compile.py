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
from kinko.monitor.sigma_keywords import body_field, keyword_test
from kinko.monitor.sigma_types import required_types
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
    "Compiled",
    "Predicate",
    "RuleError",
    "canonical_field",
    "compile_detection",
    "compile_for_type",
    "required_types",
    "rule_label",
]

Event = Mapping[str, Any]
Predicate = Callable[[Event], bool]
Compiled = Predicate | bool
"""A predicate, or the verdict itself where the event type alone decides it."""

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
    compiled = compile_for_type(rule, None)
    if isinstance(compiled, bool):  # only a known type decides a condition on its own
        return lambda ev: compiled
    return compiled


def compile_for_type(rule: SigmaRule, event_type: str | None) -> Compiled:
    """The rule's condition(s) for events whose ``type`` is `event_type` (the engine's index
    guarantees it): each test of the type field is decided now, so the predicate tests only
    the rest — or the verdict is known (True: every event of that type matches)."""
    _check_modifiers(rule)
    preds = [_node(cond.parsed, rule, event_type) for cond in rule.detection.parsed_condition]
    if not preds:
        raise RuleError(rule_label(rule), "has no condition")
    return _or(preds)


def _check_modifiers(rule: SigmaRule) -> None:
    for name, detection in rule.detection.detections.items():
        for item in _items(detection):
            if item.field is None:
                if body_field(rule) is None:
                    raise RuleError(
                        rule_label(rule),
                        f"selection {name!r} is a keyword search; Kinko events have no "
                        "free-text body (of the mapped sources, only sshd's MESSAGE is one), "
                        "so name the field to match",
                    )
                if item.modifiers:
                    raise RuleError(
                        rule_label(rule),
                        f"selection {name!r} is a keyword search with modifiers; Kinko "
                        "matches keywords as plain text (wildcards allowed)",
                    )
                continue
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


def _node(node: Any, rule: SigmaRule, known: str | None) -> Compiled:
    """`known`: the event type, when the caller guarantees it (else None)."""
    if isinstance(node, sc.ConditionAND):
        return _and([_node(a, rule, known) for a in node.args])
    if isinstance(node, sc.ConditionOR):
        args = node.args
        equals = [a for a in args if isinstance(a, sc.ConditionFieldEqualsValueExpression)]
        fields = {canonical_field(a.field) for a in equals}
        if len(equals) == len(args) and len(fields) == 1:
            name = fields.pop()
            as_set = _plain_in(name, [a.value for a in equals])
            if as_set is not None:
                return as_set({"type": known}) if known is not None and name == "type" else as_set
        return _or([_node(a, rule, known) for a in args])
    if isinstance(node, sc.ConditionNOT):
        inner = _node(node.args[0], rule, known)
        if isinstance(inner, bool):
            return not inner
        return lambda ev: not inner(ev)
    if isinstance(node, sc.ConditionFieldEqualsValueExpression):
        name = canonical_field(node.field)
        pred = _field(name, node.value, rule)
        # a text or pattern test of the type reads nothing else: decided by the known type
        if known is not None and name == "type" and isinstance(node.value, _TYPE_DECIDED):
            return pred({"type": known})
        return pred
    if isinstance(node, sc.ConditionValueExpression):  # a keyword: the source's text body
        body = body_field(rule)
        if body is None or not isinstance(node.value, st.SigmaString):
            raise RuleError(rule_label(rule), f"cannot evaluate keyword {node.value!s}")
        try:
            return _on_text(body, keyword_test(node.value))
        except ValueError as exc:
            raise RuleError(rule_label(rule), str(exc)) from None
    raise RuleError(rule_label(rule), f"cannot evaluate condition element {type(node).__name__}")


_TYPE_DECIDED = (st.SigmaString, st.SigmaRegularExpression)


def _and(compiled: list[Compiled]) -> Compiled:
    if any(c is False for c in compiled):
        return False
    preds: list[Predicate] = [c for c in compiled if not isinstance(c, bool)]
    if not preds:
        return True
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


def _or(compiled: list[Compiled]) -> Compiled:
    if any(c is True for c in compiled):
        return True
    preds: list[Predicate] = [c for c in compiled if not isinstance(c, bool)]
    if not preds:
        return False
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
        expanded = _or([_field(name, v, rule) for v in value.values])
        return (lambda ev: False) if isinstance(expanded, bool) else expanded
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
