"""Streaming state for Sigma correlations (spec 2.0), with memory bounded by the window.

Each correlation keeps one small state per group-by key. Groups sit in an ordered dict by
last touch, so on every event the groups whose window has passed are dropped from the
front; a hard cap (`MAX_GROUPS`) evicts the stalest group if an attacker sprays keys.
Within a group the state is bounded by the threshold (event_count, value_count), by
`MAX_SUM_ENTRIES` (value_sum merges its two oldest entries, which keeps the sum exact and
errs toward firing early), or is constant (temporal, temporal_ordered). After a firing the
group starts again, so a sustained attack alerts once per threshold, not once per event.
"""

from __future__ import annotations

from collections import OrderedDict, deque
from collections.abc import Mapping
from typing import Any

from sigma.correlations import SigmaCorrelationConditionOperator as Op
from sigma.correlations import SigmaCorrelationType as Kind

from kinko.monitor.rules import CorrelationRule

INGESTED = "ingest"  # an event's origin from outside Kinko (kinko.monitor.engine)
MAX_GROUPS = 100_000
MAX_SUM_ENTRIES = 1024

GroupKey = tuple[Any, ...]


def _holds(op: Op, value: int, threshold: int) -> bool:
    if op is Op.GTE:
        return value >= threshold
    if op is Op.GT:
        return value > threshold
    if op is Op.EQ:
        return value == threshold
    if op is Op.LTE:
        return value <= threshold
    if op is Op.LT:
        return value < threshold
    return value != threshold


class _Group:
    """One group's state; only the part its correlation type needs is ever allocated."""

    __slots__ = ("data", "ingested", "last", "sum")

    def __init__(self) -> None:
        self.last = 0.0
        self.sum = 0
        self.data: Any = None
        self.ingested = False
        """An event of this group came from outside Kinko (see `engine.alert_origin`)."""

    def size(self) -> int:
        return len(self.data) if self.data is not None else 0


class CorrelationState:
    """All groups of one correlation rule."""

    def __init__(self, rule: CorrelationRule, *, max_groups: int = MAX_GROUPS) -> None:
        self.rule = rule
        self.span = float(rule.timespan_s)
        self.max_groups = max_groups
        self.groups: OrderedDict[GroupKey, _Group] = OrderedDict()
        self.evicted = 0
        self.fired_ingested = False
        """Whether the group that fired last had an event from outside Kinko in it."""
        # Sweeping stale groups every 1/32 of the window keeps memory bounded at a fraction
        # of the cost of sweeping on every event; each update still checks its own horizon.
        self._next_sweep = float("-inf")
        self._key_fields = {
            source: tuple(rule.group_field(name, source) for name in rule.group_by)
            for source in rule.sources
        }

    def size(self) -> int:
        """Entries held: groups plus what they store (for the bounded-memory checks)."""
        return len(self.groups) + sum(g.size() for g in self.groups.values())

    def feed(self, source: str, ts: float, event: Mapping[str, Any]) -> dict[str, Any] | None:
        """Count a match of rule `source`; return the group's fields when the rule fires."""
        if ts >= self._next_sweep:
            self._expire(ts)
            self._next_sweep = ts + self.span / 32
        get = event.get
        key = tuple([get(name) for name in self._key_fields[source]])
        groups = self.groups
        group = groups.get(key)
        if group is None:
            if len(groups) >= self.max_groups:
                groups.popitem(last=False)
                self.evicted += 1
            group = groups[key] = _Group()
            group.last = ts
        else:
            groups.move_to_end(key)
            if ts > group.last:  # noqa: PLR1730 (max() is a call on the hot path)
                group.last = ts
        if get("origin") == INGESTED:
            group.ingested = True
        if not self._update(group, source, ts, event):
            return None
        del groups[key]
        self.fired_ingested = group.ingested
        return dict(zip(self.rule.group_by, key, strict=True))

    def _expire(self, now: float) -> None:
        horizon = now - self.span
        groups = self.groups
        while groups:
            first = next(iter(groups.values()))
            if first.last >= horizon:
                break
            groups.popitem(last=False)

    def _update(self, group: _Group, source: str, ts: float, event: Mapping[str, Any]) -> bool:
        rule = self.rule
        horizon = ts - self.span
        kind = rule.kind
        if kind is Kind.EVENT_COUNT:
            times = group.data
            if times is None:
                times = group.data = deque(maxlen=rule.threshold + 1)
            times.append(ts)
            while times and times[0] < horizon:
                times.popleft()
            return _holds(rule.op, len(times), rule.threshold)
        if kind is Kind.VALUE_COUNT:
            assert rule.value_field is not None
            value = event.get(rule.value_field)
            if value is None:
                return False
            distinct = group.data
            if distinct is None:
                distinct = group.data = OrderedDict()
            distinct[value] = ts
            distinct.move_to_end(value)
            while distinct and next(iter(distinct.values())) < horizon:
                distinct.popitem(last=False)
            while len(distinct) > rule.threshold + 1:
                distinct.popitem(last=False)
            return _holds(rule.op, len(distinct), rule.threshold)
        if kind is Kind.VALUE_SUM:
            return self._value_sum(group, ts, horizon, event)
        if kind is Kind.TEMPORAL:
            return self._temporal(group, source, ts, horizon)
        return self._temporal_ordered(group, source, ts, horizon)

    def _value_sum(
        self, group: _Group, ts: float, horizon: float, event: Mapping[str, Any]
    ) -> bool:
        rule = self.rule
        assert rule.value_field is not None
        amount = event.get(rule.value_field)
        if not isinstance(amount, int) or isinstance(amount, bool):
            return False
        values = group.data
        if values is None:
            values = group.data = deque()
        values.append([ts, amount])
        group.sum += amount
        while values and values[0][0] < horizon:
            group.sum -= int(values.popleft()[1])
        if len(values) > MAX_SUM_ENTRIES:
            oldest = values.popleft()
            values[0][1] = int(values[0][1]) + int(oldest[1])
        return _holds(rule.op, group.sum, rule.threshold)

    def _starts(self, group: _Group) -> list[float | None]:
        if group.data is None:
            group.data = [None] * len(self.rule.sources)
        starts: list[float | None] = group.data
        return starts

    def _temporal(self, group: _Group, source: str, ts: float, horizon: float) -> bool:
        starts = self._starts(group)
        sources = self.rule.sources
        for index, name in enumerate(sources):
            if name == source:
                starts[index] = ts
            elif (seen := starts[index]) is not None and seen < horizon:
                starts[index] = None
        present = sum(1 for s in starts if s is not None)
        return _holds(self.rule.op, present, self.rule.threshold)

    def _temporal_ordered(self, group: _Group, source: str, ts: float, horizon: float) -> bool:
        """starts[i]: start of the latest in-order run of sources[0..i] inside the window."""
        starts = self._starts(group)
        sources = self.rule.sources
        for index in range(len(sources) - 1, -1, -1):
            if sources[index] != source:
                continue
            if index == 0:
                starts[0] = ts
                continue
            before = starts[index - 1]
            if before is not None and before >= horizon:
                current = starts[index]
                starts[index] = before if current is None else max(current, before)
        last = starts[-1]
        return last is not None and last >= horizon
