"""Loading a rule pack: Sigma YAML files, parsed by pySigma, compiled, checked as a whole.

Loading is all-or-nothing. One file that does not parse, one unsupported modifier, one
dangling correlation reference or one bad ``kinko:`` block refuses the whole pack with the
file and rule named, so the monitor never runs with a silently thinner rule set.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from sigma.collection import SigmaCollection
from sigma.correlations import (
    SigmaCorrelationCondition,
    SigmaCorrelationConditionOperator,
    SigmaCorrelationRule,
    SigmaCorrelationType,
)
from sigma.exceptions import SigmaError
from sigma.rule import SigmaRule

from kinko.monitor.events import TYPE_PATTERN
from kinko.monitor.response_spec import ResponseSpec
from kinko.monitor.sigma_compile import (
    Compiled,
    Predicate,
    RuleError,
    canonical_field,
    compile_detection,
    compile_for_type,
    required_types,
    rule_label,
)
from kinko.monitor.sigma_types import required_values
from kinko.monitor.sources import KEY_FIELDS
from kinko.monitor.sources import pipeline as sources_pipeline

SUPPORTED_CORRELATIONS = frozenset(
    {
        SigmaCorrelationType.EVENT_COUNT,
        SigmaCorrelationType.VALUE_COUNT,
        SigmaCorrelationType.VALUE_SUM,
        SigmaCorrelationType.VALUE_AVG,
        SigmaCorrelationType.TEMPORAL,
        SigmaCorrelationType.TEMPORAL_ORDERED,
    }
)
REFUSED_CORRELATIONS = {
    SigmaCorrelationType.VALUE_PERCENTILE: (
        "the specification does not define which percentile the condition compares (its "
        "example reads as a share of events, pySigma as the percentile of the values), and an "
        "exact percentile needs every value of the window kept; use value_avg or value_sum"
    ),
    SigmaCorrelationType.VALUE_MEDIAN: (
        "is not in the specification (v2.1.0) and needs every value of the window kept; "
        "use value_avg"
    ),
}
VALUE_KINDS = frozenset(
    {
        SigmaCorrelationType.VALUE_COUNT,
        SigmaCorrelationType.VALUE_SUM,
        SigmaCorrelationType.VALUE_AVG,
    }
)
ORDERED_OPERATORS = frozenset(
    {SigmaCorrelationConditionOperator.GT, SigmaCorrelationConditionOperator.GTE}
)
LogSource = tuple[str | None, str | None, str | None]
"""(product, service, category), lower case; None: any."""


@dataclass(frozen=True, slots=True)
class DetectionRule:
    """A single-event rule: a predicate over the flat event, indexed by event type."""

    id: str
    title: str
    level: str
    types: frozenset[str] | None
    predicate: Predicate
    response: ResponseSpec
    emits: bool
    source: str
    logsource: LogSource = (None, None, None)
    by_type: tuple[tuple[str, Compiled], ...] = ()
    """For each of `types`, the predicate with the rule's tests of the type already decided
    (True: every event of that type matches; the engine's index guarantees the type)."""
    keyed: frozenset[str] | None = None
    """For a rule of a mapped source's logsource, the case-folded values of that source's
    key field (`kinko.monitor.sources.KEY_FIELDS`: CloudTrail's ``eventName``…) without
    one of which it cannot match; None: any. The engine skips it for other values."""

    def applies_to(self, logsource: LogSource) -> bool:
        """Whether an event of `logsource` is one this rule is for: each of the rule's
        product, service and category that is set must be the event's."""
        pairs = zip(self.logsource, logsource, strict=True)
        return all(want is None or want == got for want, got in pairs)


@dataclass(frozen=True, slots=True)
class CorrelationRule:
    """A Sigma correlation over earlier rules' matches (which may be correlations too)."""

    id: str
    title: str
    level: str
    kind: SigmaCorrelationType
    sources: tuple[str, ...]
    group_by: tuple[str, ...]
    # alias -> {source rule id -> that rule's field}
    aliases: dict[str, dict[str, str]]
    timespan_s: int
    op: SigmaCorrelationConditionOperator
    threshold: int | float
    value_field: str | None
    response: ResponseSpec
    emits: bool
    source: str

    def group_field(self, name: str, source_rule: str) -> str:
        return self.aliases.get(name, {}).get(source_rule, name)


@dataclass(frozen=True)
class RuleSet:
    detections: tuple[DetectionRule, ...]
    correlations: tuple[CorrelationRule, ...]
    by_id: dict[str, DetectionRule | CorrelationRule] = field(default_factory=dict)

    def ids(self) -> list[str]:
        return [*(r.id for r in self.detections), *(c.id for c in self.correlations)]

    def only(self, rule_id: str) -> RuleSet:
        """This rule plus everything it depends on, with the rule itself emitting."""
        if rule_id not in self.by_id:
            raise RuleError("rule", f"no rule {rule_id!r}; see `kinko monitor rules list`")
        keep: set[str] = set()
        todo = [rule_id]
        while todo:
            current = todo.pop()
            keep.add(current)
            rule = self.by_id[current]
            if isinstance(rule, CorrelationRule):
                todo.extend(s for s in rule.sources if s not in keep)
        from dataclasses import replace

        dets = tuple(replace(r, emits=r.id == rule_id) for r in self.detections if r.id in keep)
        cors = tuple(replace(c, emits=c.id == rule_id) for c in self.correlations if c.id in keep)
        return build_ruleset(dets, cors)

    def logsources(self, rule_id: str) -> dict[LogSource, list[str]]:
        """The logsources whose events `rule_id` sees, each with the detections (the rule
        itself, or those its correlations reference, however deep) that read them."""
        seen: dict[LogSource, list[str]] = {}
        for rule in self.only(rule_id).detections:
            seen.setdefault(rule.logsource, []).append(rule.id)
        return seen


def build_ruleset(
    detections: Sequence[DetectionRule], correlations: Sequence[CorrelationRule]
) -> RuleSet:
    by_id: dict[str, DetectionRule | CorrelationRule] = {}
    every: list[DetectionRule | CorrelationRule] = [*detections, *correlations]
    for rule in every:
        if rule.id in by_id:
            raise RuleError(f"rule {rule.id!r}", f"is defined twice ({rule.source})")
        by_id[rule.id] = rule
    return RuleSet(tuple(detections), tuple(correlations), by_id)


def _rule_id(rule: SigmaRule | SigmaCorrelationRule) -> str:
    if rule.name:
        return str(rule.name)
    if rule.id is not None:
        return str(rule.id)
    raise RuleError(rule_label(rule), "needs an id or a name so alerts can name it")


def _response(rule: SigmaRule | SigmaCorrelationRule) -> ResponseSpec:
    custom: dict[str, Any] = dict(getattr(rule, "custom_attributes", {}) or {})
    try:
        return ResponseSpec.parse(custom.get("kinko"), where=rule_label(rule))
    except ValueError as exc:
        raise RuleError(rule_label(rule), str(exc).split(": ", 1)[-1]) from None


def _level(rule: SigmaRule | SigmaCorrelationRule) -> str:
    return str(rule.level.name.lower()) if rule.level is not None else "medium"


def _one_line(exc: Exception) -> str:
    return " ".join(str(exc).split())


def parse_texts(texts: Iterable[tuple[str, str]]) -> RuleSet:
    """Parse ``(source name, YAML text)`` pairs into one checked, compiled rule set."""
    collections = []
    for source, text in texts:
        try:
            collection = SigmaCollection.from_yaml(text, collect_errors=True)
        except (SigmaError, ValueError, yaml.YAMLError) as exc:
            raise RuleError(source, f"does not parse: {_one_line(exc)}") from None
        if collection.errors:
            broken = next((r for r in collection.rules if r.errors), None)
            where = f"{rule_label(broken)} ({source})" if broken is not None else source
            raise RuleError(where, f"does not parse: {_one_line(collection.errors[0])}")
        for rule in collection.rules:
            rule.custom_attributes = {**(rule.custom_attributes or {}), "_source": source}
        collections.append(collection)
    try:
        merged = SigmaCollection.merge(collections)
    except SigmaError as exc:
        raise RuleError("rules", f"a correlation reference does not resolve: {exc}") from None
    detections: list[DetectionRule] = []
    correlations: list[CorrelationRule] = []
    for rule in merged.rules:
        source = str((rule.custom_attributes or {}).pop("_source", "rules"))
        if isinstance(rule, SigmaRule):
            detections.append(_detection(rule, source))
        elif isinstance(rule, SigmaCorrelationRule):
            correlations.append(_correlation(rule, source, merged))
    if not detections and not correlations:
        raise RuleError("rules", "the pack holds no rules; refusing to run an empty monitor")
    return build_ruleset(detections, correlations)


def _detection(rule: SigmaRule, source: str) -> DetectionRule:
    try:
        sources_pipeline.apply(rule)  # fields as the sources emit them (auditd's type)
        predicate = compile_detection(rule)
        types = _indexed_types(required_types(rule))
        by_type = tuple((name, compile_for_type(rule, name)) for name in sorted(types or ()))
    except SigmaError as exc:
        raise RuleError(rule_label(rule), f"({source}) {exc}") from None
    return DetectionRule(
        id=_rule_id(rule),
        title=rule.title,
        level=_level(rule),
        types=types,
        predicate=predicate,
        response=_response(rule),
        emits=bool(rule._output),
        source=source,
        logsource=_logsource(rule),
        by_type=by_type,
        keyed=_keyed(rule),
    )


def _keyed(rule: SigmaRule) -> frozenset[str] | None:
    product, service, _ = _logsource(rule)
    field = KEY_FIELDS.get(product or "", {}).get(service or "")
    return required_values(rule, field) if field is not None else None


def _indexed_types(types: frozenset[str] | None) -> frozenset[str] | None:
    """The event types to index a rule under, or None (evaluated on every event of its
    logsource). Only Kinko event types (lower-case, dotted: `MonitorEvent.type`) are indexed:
    the index is an exact look-up, while the rule compares case-insensitively, so a rule
    pinning another source's `type` field (auditd's `type: EXECVE`) must not be hidden
    behind its lower-cased value."""
    if types is None or not all(TYPE_PATTERN.match(name) for name in types):
        return None
    return types


def _logsource(rule: SigmaRule) -> LogSource:
    def norm(value: str | None) -> str | None:
        return value.strip().lower() if value else None

    ls = rule.logsource
    return (norm(ls.product), norm(ls.service), norm(ls.category))


def _correlation(
    rule: SigmaCorrelationRule, source: str, collection: SigmaCollection
) -> CorrelationRule:
    label = f"{rule_label(rule)} ({source})"
    kind = rule.type
    if kind in REFUSED_CORRELATIONS:
        raise RuleError(label, f"correlation type {kind.name.lower()} {REFUSED_CORRELATIONS[kind]}")
    if kind not in SUPPORTED_CORRELATIONS:
        raise RuleError(label, f"correlation type {kind.name.lower()} is not supported")
    condition = rule.condition
    if not isinstance(condition, SigmaCorrelationCondition):
        raise RuleError(
            label,
            "extended (boolean) correlation conditions are not supported; chain correlations "
            "instead",
        )
    if kind is SigmaCorrelationType.TEMPORAL_ORDERED and condition.op not in ORDERED_OPERATORS:
        raise RuleError(
            label,
            f"temporal_ordered condition {condition.op.name.lower()} is not supported: the "
            "specification defines the count of rules matched in order, which only gt and gte "
            "bound; use a temporal correlation for an upper bound",
        )
    value_field = None
    if kind in VALUE_KINDS:
        if not isinstance(condition.fieldref, str):
            raise RuleError(label, f"{kind.name.lower()} needs condition.field (one field)")
        value_field = canonical_field(condition.fieldref)
    count = condition.count
    integral = isinstance(count, int) or float(count).is_integer()
    if kind is not SigmaCorrelationType.VALUE_AVG and not integral:
        raise RuleError(
            label, "condition count must be an integer (counts; amounts are base units)"
        )
    threshold: int | float = int(count) if integral else float(count)
    sources = tuple(_rule_id(ref.rule) for ref in rule.referenced_rules)
    if not sources:
        raise RuleError(label, "references no rules")
    aliases: dict[str, dict[str, str]] = {}
    for alias in rule.aliases:
        mapping: dict[str, str] = {}
        for ref, name in alias.mapping.items():
            try:
                target = collection[ref.reference]
            except (KeyError, IndexError, ValueError):
                raise RuleError(
                    label, f"alias {alias.alias!r} names unknown rule {ref.reference!r}"
                ) from None
            mapping[_rule_id(target)] = canonical_field(name)
        aliases[alias.alias] = mapping
    return CorrelationRule(
        id=_rule_id(rule),
        title=rule.title,
        level=_level(rule),
        kind=rule.type,
        sources=sources,
        group_by=tuple(canonical_field(g) for g in (rule.group_by or [])),
        aliases=aliases,
        timespan_s=int(rule.timespan.seconds),
        op=condition.op,
        threshold=threshold,
        value_field=value_field,
        response=_response(rule),
        emits=bool(rule._output),
        source=source,
    )


def load_paths(paths: Iterable[Path]) -> RuleSet:
    """Rules from files and directories (``*.yml``/``*.yaml``, sorted)."""
    texts: list[tuple[str, str]] = []
    for path in paths:
        files = sorted([*path.glob("*.yml"), *path.glob("*.yaml")]) if path.is_dir() else [path]
        if not files:
            raise RuleError(str(path), "holds no .yml rule files")
        for file in files:
            try:
                texts.append((str(file), file.read_text(encoding="utf-8")))
            except OSError as exc:
                raise RuleError(str(file), f"cannot be read: {exc.strerror}") from None
    return parse_texts(texts)


def default_pack() -> RuleSet:
    """Kinko's default rules, shipped in ``kinko/monitor/rules/``."""
    folder = resources.files("kinko.monitor") / "rules"
    texts = [
        (f"default:{entry.name}", entry.read_text(encoding="utf-8"))
        for entry in sorted(folder.iterdir(), key=lambda e: e.name)
        if entry.name.endswith((".yml", ".yaml"))
    ]
    return parse_texts(texts)
