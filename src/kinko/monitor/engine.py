"""The detection engine: events in, alerts out. Pure and single-threaded by design.

Rules are indexed by event type and logsource, so an event meets only the rules that can
match it: those of its logsource (product/service/category, `MonitorEvent.logsource`) whose
condition pins its type or pins none. A match feeds the correlations that
reference the rule; a correlation that fires feeds the correlations that reference *it*
(chained correlations). Baselines see every event. Scale-out is by partitioning events
across engines (see `redis_input`), never by sharing one engine between threads.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from kinko.monitor.alert import Alert, AlertKind
from kinko.monitor.baselines import Baseline
from kinko.monitor.correlation import CorrelationState
from kinko.monitor.events import LOGSOURCE_KEYS, MonitorEvent, default_logsource
from kinko.monitor.rules import CorrelationRule, DetectionRule, LogSource, RuleSet
from kinko.monitor.sigma_compile import Predicate
from kinko.monitor.sources import KEY_FIELDS

Event = Mapping[str, Any]

OWN = "kinko"
"""Origin of an event a Kinko service published on its bus."""
INGESTED = "ingest"
"""Origin of an event posted with an ingest token, read from a file or a Redis stream."""
MAX_SOURCE_KEYS = 4096
"""Distinct (type, logsource, key value) combinations whose applicable rules are cached."""


def alert_origin(alert: Alert) -> str:
    """``kinko`` when every event that made `alert` fire was Kinko's own, else ``ingest``
    (a correlation remembers, per group, whether any of its events came from outside)."""
    if alert.ingested or alert.evidence.get("origin") != OWN:
        return INGESTED
    return OWN


@dataclass(frozen=True, slots=True)
class RuleInfo:
    id: str
    title: str
    level: str
    kind: str
    types: str
    response: str
    emits: bool


_PRODUCT, _SERVICE, _CATEGORY = LOGSOURCE_KEYS
Candidate = tuple[DetectionRule, Predicate | None]


class Engine:
    def __init__(self, rules: RuleSet, baselines: Sequence[Baseline] = ()) -> None:
        self.rules = rules
        self.baselines = list(baselines)
        # Each rule with the predicate to run on an event of the bucket's type: None when
        # the type alone decides that it matches (`DetectionRule.by_type`).
        untyped = [(r, r.predicate) for r in rules.detections if r.types is None]
        typed: dict[str, list[Candidate]] = {}
        for rule in rules.detections:
            decided = dict(rule.by_type)
            for name in rule.types or ():
                verdict = decided.get(name, rule.predicate)
                if verdict is not False:
                    typed.setdefault(name, []).append((rule, None if verdict is True else verdict))
        self._untyped: tuple[Candidate, ...] = tuple(untyped)
        self._index = {name: (*found, *untyped) for name, found in typed.items()}
        self._applicable: dict[tuple[Any, ...], tuple[Candidate, ...]] = {}
        self._serial = 0
        self.states: dict[str, CorrelationState] = {}
        self._consumers: dict[str, list[tuple[CorrelationRule, CorrelationState]]] = {}
        for corr in rules.correlations:
            state = self.states[corr.id] = CorrelationState(corr)
            for source in dict.fromkeys(corr.sources):
                self._consumers.setdefault(source, []).append((corr, state))
        self._baselines: dict[str, tuple[Baseline, ...]] = {}
        for baseline in self.baselines:
            for name in baseline.types:
                self._baselines[name] = (*self._baselines.get(name, ()), baseline)
        self.counts: Counter[str] = Counter()
        self.events_seen = 0

    def process(self, event: MonitorEvent, *, origin: str = INGESTED) -> list[Alert]:
        return self.process_many((event,), origin=origin)

    def process_many(
        self, events: Iterable[MonitorEvent], *, origin: str = INGESTED
    ) -> list[Alert]:
        """Evaluate `events`, all from one channel: `origin` is ``kinko`` for Kinko's own
        services (the bus), ``ingest`` for anything posted, read from a file or a stream.
        Rules and alerts see it as the event's ``origin`` field."""
        alerts: list[Alert] = []
        for event in events:
            flat = event.flat()
            flat["origin"] = origin
            alerts.extend(self.process_flat(flat))
        return alerts

    def process_flat(self, event: Event) -> list[Alert]:
        """Evaluate one flat event (see `MonitorEvent.flat`)."""
        self.events_seen += 1
        alerts: list[Alert] = []
        ts = -1.0
        consumers = self._consumers
        get = event.get
        product, service = get(_PRODUCT), get(_SERVICE)
        keyval = None
        fields = KEY_FIELDS.get(product) if product is not None else None
        if fields is not None and service is not None:  # a mapped source: its key field too
            field = fields.get(service)
            value = get(field) if field is not None else None
            keyval = value.casefold() if value.__class__ is str else None
        key = (event["type"], product, service, get(_CATEGORY), keyval)
        rules = self._applicable.get(key)
        if rules is None:
            rules = self._rules_for(key)
        serial = -1
        for rule, predicate in rules:
            if predicate is None or predicate(event):
                if rule.emits:
                    alerts.append(self._detection_alert(rule, event))
                if rule.id in consumers:
                    if ts < 0:
                        ts = event["time"].timestamp()
                        self._serial += 1
                        serial = self._serial
                    self._feed(rule.id, ts, event, alerts, serial)
        for baseline in self._baselines.get(event["type"], ()):
            alerts.extend(baseline.observe(event))
        if alerts:
            for alert in alerts:
                self.counts[alert.rule_id] += 1
        return alerts

    def _rules_for(self, key: tuple[Any, ...]) -> tuple[Candidate, ...]:
        """The detections an event of this type and logsource meets (cached per key)."""
        product, service, category = (v.lower() if isinstance(v, str) else None for v in key[1:4])
        logsource: LogSource = (
            (product, service, category)
            if product is not None or service is not None or category is not None
            else default_logsource(key[0])
        )
        keyval = key[4]
        candidates = self._index.get(key[0], self._untyped)
        found = tuple(
            c
            for c in candidates
            if c[0].applies_to(logsource)
            and (keyval is None or c[0].keyed is None or keyval in c[0].keyed)
        )
        if len(self._applicable) >= MAX_SOURCE_KEYS:
            self._applicable.clear()
        self._applicable[key] = found
        return found

    def _feed(self, source: str, ts: float, event: Event, alerts: list[Alert], serial: int) -> None:
        for corr, state in self._consumers[source]:
            group = state.feed(source, ts, event, serial)
            if group is None:
                continue
            ingested = state.fired_ingested or event.get("origin") != OWN
            if corr.emits:
                alerts.append(
                    Alert(
                        rule_id=corr.id,
                        title=corr.title,
                        level=corr.level,
                        kind=AlertKind.CORRELATION,
                        time=event["time"],
                        response=corr.response,
                        evidence=dict(event),
                        group=group,
                        reason=f"{corr.kind.name.lower()} over {corr.timespan_s}s matched",
                        ingested=ingested,
                    )
                )
            if corr.id in self._consumers:
                origin = INGESTED if ingested else OWN
                self._serial += 1  # a firing is an event of its own to the next correlation
                chained = {**event, **group, "origin": origin}
                self._feed(corr.id, ts, chained, alerts, self._serial)

    @staticmethod
    def _detection_alert(rule: DetectionRule, event: Event) -> Alert:
        return Alert(
            rule_id=rule.id,
            title=rule.title,
            level=rule.level,
            kind=AlertKind.DETECTION,
            time=event["time"],
            response=rule.response,
            evidence=dict(event),
        )

    def state_size(self) -> int:
        """Entries held by all correlation state (the figure the memory tests bound)."""
        return sum(state.size() for state in self.states.values())

    def describe(self) -> list[RuleInfo]:
        out = [
            RuleInfo(
                r.id,
                r.title,
                r.level,
                "detection",
                ", ".join(sorted(r.types)) if r.types else "*",
                r.response.action.value,
                r.emits,
            )
            for r in self.rules.detections
        ]
        out += [
            RuleInfo(
                c.id,
                c.title,
                c.level,
                c.kind.name.lower(),
                "← " + ", ".join(c.sources),
                c.response.action.value,
                c.emits,
            )
            for c in self.rules.correlations
        ]
        out += [
            RuleInfo(
                b.rule_id,
                b.title,
                "-",
                "baseline",
                ", ".join(sorted(b.types)),
                b.response.action.value,
                True,
            )
            for b in self.baselines
        ]
        return out
