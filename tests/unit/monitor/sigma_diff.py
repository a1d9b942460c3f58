"""Differential comparison of one Sigma rule: Kinko's engine against pySigma's SQLite backend.

For a rule text: does pySigma parse it, does its SQLite backend convert it, does Kinko
accept it (and if not, why). For an accepted single-event rule, events are generated from
the rule's detection (a matching event per branch of its condition, its upper-cased
variant, and near misses that break one field each); both evaluators decide each event:
Kinko's `Engine` (logsource and type index included) and the backend's SQL over an
in-memory SQLite table of the same events (columns COLLATE NOCASE; REGEXP bound to
Python's `re.search`). Used by `bench/sigma_corpus.py` (the whole SigmaHQ corpus) and
`tests/unit/monitor/test_sigma_corpus.py` (the checked-in sample).
"""

from __future__ import annotations

import ipaddress
import re
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from re import _parser as re_parser  # type: ignore[attr-defined]
from typing import Any

from sigma import conditions as sc
from sigma import types as st
from sigma.backends.sqlite.sqlite import sqliteBackend
from sigma.collection import SigmaCollection
from sigma.rule import SigmaRule

from kinko.monitor.engine import Engine
from kinko.monitor.rules import parse_texts
from kinko.monitor.sigma_compile import RuleError
from kinko.monitor.sigma_values import canonical_field
from kinko.monitor.sources.pipeline import event_field

T0 = datetime(2026, 1, 5, 10, 0, tzinfo=UTC)
OTHER = "kq_other_value"
MAX_BRANCHES = 8


@dataclass
class Outcome:
    parsed: bool = False
    converted: bool = False
    accepted: bool = False
    correlation: bool = False
    refusal: str = ""
    convert_error: str = ""
    compared: int = 0
    """Decisions compared (events)."""
    matched: int = 0
    """Events both evaluators matched (the generator reached a match)."""
    disagreements: list[tuple[str, dict[str, Any], bool, bool]] = field(default_factory=list)
    """(cause, event, kinko, sqlite)."""


def refusal_reason(message: str) -> str:
    """A short class for Kinko's refusal message (the table's row)."""
    for needle, label in (
        ("keyword search", "keyword search (no field)"),
        ("|expand", "placeholder (|expand)"),
        ("unresolved placeholder", "placeholder value"),
        ("does not compile", "regex Python cannot compile"),
        ("unsupported modifier", "unsupported modifier"),
        ("correlation", "correlation construct"),
        ("does not parse", "pySigma parse error"),
        ("needs an id", "no id"),
    ):
        if needle in message:
            return label
    return message[:80]


def compare(text: str, source: str) -> Outcome:
    out = Outcome()
    try:
        collection = SigmaCollection.from_yaml(text, collect_errors=True)
    except Exception as exc:  # any failure of the reference is a figure
        out.refusal = f"pySigma: {exc}"
        return out
    out.parsed = not collection.errors
    if not out.parsed:
        out.refusal = "pySigma parse error"
        return out
    out.correlation = any(not isinstance(r, SigmaRule) for r in collection.rules)
    try:
        queries = sqliteBackend().convert(collection)  # type: ignore[no-untyped-call]
        out.converted = True
    except Exception as exc:
        out.convert_error = " ".join(str(exc).split())[:100]
        queries = []
    try:
        rules = parse_texts([(source, text)])
        out.accepted = True
    except RuleError as exc:
        out.refusal = refusal_reason(str(exc))
        return out
    if out.correlation or not out.converted or len(collection.rules) != 1:
        return out
    rule = collection.rules[0]
    assert isinstance(rule, SigmaRule)
    events = list(_events(rule))
    if not events:
        return out
    engine = Engine(rules)
    predicate = rules.detections[0].predicate
    (query,) = queries
    columns = sorted(set(_fields(rule)) | {k for e in events for k in e})
    theirs = _sqlite_ids(query, events, columns)
    for i, event in enumerate(events):
        flat = _kinko_event(event, rule)
        kinko = bool(engine.process_flat(flat))
        sql = i in theirs
        out.compared += 1
        out.matched += kinko and sql
        if kinko != sql:
            cause = _cause(event, kinko, predicate(flat))
            out.disagreements.append((cause, event, kinko, sql))
    return out


def _kinko_event(event: dict[str, Any], rule: SigmaRule) -> dict[str, Any]:
    ls = rule.logsource
    flat: dict[str, Any] = {"type": "corpus.event"}
    # the rule's fields as the sources name them (auditd's `type` is `record_type`)
    flat.update(
        {canonical_field(event_field(k, ls.product, ls.service)): v for k, v in event.items()}
    )
    if not isinstance(flat.get("type"), str):
        flat["type"] = str(flat.get("type"))
    flat["time"] = T0
    flat["logsource.product"] = ls.product
    flat["logsource.service"] = ls.service
    flat["logsource.category"] = ls.category
    return flat


def _sqlite_ids(query: str, events: list[dict[str, Any]], columns: list[str]) -> set[int]:
    conn = sqlite3.connect(":memory:")
    conn.create_function(
        "REGEXP",
        2,
        lambda p, v: v is not None and re.search(p, str(v)) is not None,
    )
    cols = ", ".join(f'"{c}" COLLATE NOCASE' for c in columns)
    conn.execute(f"CREATE TABLE logs (kq_id INTEGER PRIMARY KEY{', ' if cols else ''}{cols})")
    marks = ", ".join("?" for _ in range(len(columns) + 1))
    conn.executemany(
        f"INSERT INTO logs VALUES ({marks})",
        [(i, *(e.get(c) for c in columns)) for i, e in enumerate(events)],
    )
    sql = query.replace("SELECT *", "SELECT kq_id", 1)
    return {row[0] for row in conn.execute(sql)}


CAUSE_NON_ASCII = "reference: SQLite folds the case of ASCII letters only"
CAUSE_TYPE_INDEX = "Kinko: engine's event-type index is case-sensitive (`type: EXECVE`)"
REFERENCE_ERRORS = frozenset({CAUSE_NON_ASCII})
"""Causes where the specification says the reference is wrong ("Detection" > "General":
values are case-insensitive strings; SQLite's LIKE and NOCASE fold only A-Z)."""


def _cause(event: dict[str, Any], kinko: bool, predicate: bool) -> str:
    if predicate != kinko:
        kind = event.get("type")
        if isinstance(kind, str) and kind != kind.lower():
            return CAUSE_TYPE_INDEX
        return "Kinko: the engine and the rule's predicate differ"
    texts = [v for v in event.values() if isinstance(v, str)]
    if kinko and any(not t.isascii() for t in texts):
        return CAUSE_NON_ASCII
    return "unclassified"


# --- event generation ---------------------------------------------------------------

Constraint = tuple[str, Any]
"""(field, value to put there); None value: absent."""


def _events(rule: SigmaRule) -> Iterator[dict[str, Any]]:
    fields = _fields(rule)
    seen: list[dict[str, Any]] = []
    for cond in rule.detection.parsed_condition:
        for branch in _solve(cond.parsed, True)[:MAX_BRANCHES]:
            event = _event(branch, fields)
            if event is None or event in seen:
                continue
            seen.append(event)
            yield event
            upper = {k: v.upper() if isinstance(v, str) else v for k, v in event.items()}
            sparse = {k: v for k, v in event.items() if v != OTHER}
            for variant in (upper, sparse):
                if variant != event and variant not in seen:
                    seen.append(variant)
                    yield variant
            for name, value in branch:
                miss = dict(event)
                miss[name] = _miss(value)
                if miss not in seen:
                    seen.append(miss)
                    yield miss


def _fields(rule: SigmaRule) -> list[str]:
    """Every field the rule names, fieldref targets included."""
    found: set[str] = set()
    for item in _leaves(rule):
        if item.field:
            found.add(item.field)
        for value in item.value:
            if isinstance(value, st.SigmaFieldReference):
                found.add(value.field)
    return sorted(found)


def _leaves(rule: SigmaRule) -> list[Any]:
    out = []
    for det in rule.detection.detections.values():
        stack: list[Any] = list(det.detection_items)
        while stack:
            item = stack.pop()
            if hasattr(item, "detection_items"):
                stack.extend(item.detection_items)
            else:
                out.append(item)
    return out


def _event(branch: list[Constraint], fields: list[str]) -> dict[str, Any] | None:
    event: dict[str, Any] = dict.fromkeys(fields, OTHER)
    wanted: dict[str, list[Any]] = {}
    for name, value in branch:
        wanted.setdefault(name, []).append(value)
    for name, values in wanted.items():
        event[name] = _merge(values)
    refs = [(k, v) for k, v in event.items() if isinstance(v, _Ref)]
    for name, ref in refs:
        event[name] = event.get(ref.other, OTHER)
        if isinstance(event[name], _Ref):
            event[name] = OTHER
    return {k: v for k, v in event.items() if not isinstance(v, _Absent)}


class _Absent:
    pass


@dataclass(frozen=True)
class _Ref:
    other: str


@dataclass(frozen=True)
class _Pattern:
    prefix: str
    middle: str
    suffix: str


def _merge(values: list[Any]) -> Any:
    # a field a filter wants different (OTHER) takes the selection's value when it has one
    values = [v for v in values if not (isinstance(v, str) and v == OTHER)] or values
    patterns = [v for v in values if isinstance(v, _Pattern)]
    if len(patterns) == len(values) and patterns:
        exact = [p for p in patterns if not p.middle and p.prefix == p.suffix and p.prefix]
        if exact:
            return exact[0].prefix
        return (
            "".join(p.prefix for p in patterns)
            + "".join(p.middle for p in patterns)
            + "".join(p.suffix for p in patterns)
        )
    for v in values:
        if not isinstance(v, _Pattern):
            return v
    return values[0]


def _solve(node: Any, want: bool) -> list[list[Constraint]]:
    """Ways (lists of constraints) to make `node` evaluate to `want`."""
    if isinstance(node, sc.ConditionNOT):
        return _solve(node.args[0], not want)
    if isinstance(node, sc.ConditionAND | sc.ConditionOR):
        every = isinstance(node, sc.ConditionAND) == want
        parts = [_solve(a, want) for a in node.args]
        if every:
            combos: list[list[Constraint]] = [[]]
            for options in parts:
                combos = [c + o for c in combos for o in options[:2]][:MAX_BRANCHES]
            return combos
        return [o for options in parts for o in options[:2]][:MAX_BRANCHES]
    if isinstance(node, sc.ConditionFieldEqualsValueExpression):
        return [[(node.field, v)] for v in _values(node.value, want)[:2]]
    return [[]]


def _values(value: Any, want: bool) -> list[Any]:
    if isinstance(value, st.SigmaExpansion):
        return [v for sub in value.values[:2] for v in _values(sub, want)]
    if not want:
        if isinstance(value, st.SigmaExists):
            return [_Absent()] if bool(value) else ["present"]
        if isinstance(value, st.SigmaNull):
            return [OTHER]
        if isinstance(value, st.SigmaBool):
            return [not bool(value)]
        if isinstance(value, st.SigmaNumber):
            return [value.number + 1]
        if isinstance(value, st.SigmaCompareExpression):
            return [_compare_value(value, False)]
        return [OTHER]
    if isinstance(value, st.SigmaString):
        return [_pattern(value)]
    if isinstance(value, st.SigmaRegularExpression):
        return [_regex_example(str(value.regexp.to_plain()))]
    if isinstance(value, st.SigmaBool):
        return [bool(value)]
    if isinstance(value, st.SigmaNumber):
        return [value.number]
    if isinstance(value, st.SigmaCompareExpression):
        return [_compare_value(value, True)]
    if isinstance(value, st.SigmaCIDRExpression):
        return [str(next(iter(value.network.hosts()), value.network.network_address))]
    if isinstance(value, st.SigmaExists):
        return ["present"] if bool(value) else [_Absent()]
    if isinstance(value, st.SigmaNull):
        return [_Absent()]
    if isinstance(value, st.SigmaFieldReference):
        return [_Ref(value.field)]
    return [OTHER]


def _regex_example(pattern: str) -> str:
    """A string the regular expression matches (its first branch of everything, each
    repeat at its minimum, a class's first member), or OTHER where that cannot be built."""
    try:
        text = _sre_example(re_parser.parse(pattern))
    except (re.error, ValueError, KeyError, IndexError, TypeError):
        return OTHER
    return text if re.search(pattern, text) else OTHER


def _sre_example(parsed: Any) -> str:
    out: list[str] = []
    for op, arg in parsed:
        name = str(op)
        if name == "LITERAL":
            out.append(chr(arg))
        elif name == "ANY":
            out.append("x")
        elif name == "IN":
            out.append(_class_member(arg))
        elif name in ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT"):
            low, _high, sub = arg
            out.append(_sre_example(sub) * max(low, 0))
        elif name == "SUBPATTERN":
            out.append(_sre_example(arg[-1]))
        elif name == "ATOMIC_GROUP":
            out.append(_sre_example(arg))
        elif name == "BRANCH":
            out.append(_sre_example(arg[1][0]))
        elif name in ("AT", "ASSERT_NOT"):
            continue
        elif name == "ASSERT":
            out.append(_sre_example(arg[1]))
        else:
            raise ValueError(name)
    return "".join(out)


def _class_member(items: Any) -> str:
    for op, arg in items:
        name = str(op)
        if name == "NEGATE":
            return "~"  # the caller checks the example: OTHER when the class holds it
        if name == "LITERAL":
            return chr(arg)
        if name == "RANGE":
            return chr(arg[0])
        if name == "CATEGORY":
            return {"CATEGORY_DIGIT": "7", "CATEGORY_SPACE": " "}.get(str(arg), "a")
    raise ValueError("empty class")


def _compare_value(value: st.SigmaCompareExpression, want: bool) -> int | float:
    bound = value.number.number
    op = value.op
    above = op in (st.CompareOperators.GT, st.CompareOperators.GTE)
    if op in (st.CompareOperators.GTE, st.CompareOperators.LTE):
        inside = bound
    else:
        inside = bound + 1 if above else bound - 1
    outside = bound - 1 if above else bound + 1
    return inside if want else outside


def _pattern(value: st.SigmaString) -> _Pattern:
    parts = list(value.s)
    many = st.SpecialChars.WILDCARD_MULTI
    text = "".join(p if isinstance(p, str) else ("" if p is many else "x") for p in parts)
    starts = bool(parts) and parts[0] is many
    ends = bool(parts) and parts[-1] is many
    if starts and ends:
        return _Pattern("", text, "")
    if ends:
        return _Pattern(text, "", "")
    if starts:
        return _Pattern("", "", text)
    return _Pattern(text, "", text)


def _miss(value: Any) -> Any:
    """A near miss of a generated value: one character changed, the number moved, the
    boolean flipped, another address, a present field for an absent one."""
    if isinstance(value, _Pattern):
        text = _merge([value])
        if not text:
            return OTHER
        at = len(text) // 2
        return text[:at] + ("q" if text[at] not in "qQ" else "z") + text[at + 1 :]
    if isinstance(value, bool):
        return not value
    if isinstance(value, int | float):
        return value + 7
    if isinstance(value, str):
        try:
            ipaddress.ip_address(value)
            return "203.0.113.77" if ":" not in value else "2001:db8:ffff::77"
        except ValueError:
            return value + "q"
    if isinstance(value, _Absent):
        return "present"
    if isinstance(value, _Ref):
        return OTHER
    return OTHER
