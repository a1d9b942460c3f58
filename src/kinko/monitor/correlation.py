"""Streaming state for Sigma correlations (specification v2.1.0), bounded by the window.

Windows are the reference's (pySigma's SQLite backend): a correlation is evaluated on the
window ``[t - timespan, t]`` ending at each matching event's time ``t``, both ends included.

- **One event counts once.** An event that matches two rules a correlation references is one
  event for ``event_count``, ``value_sum`` and ``value_avg`` (it still marks both rules for
  ``temporal``).
- **An event without a group-by field is not counted**: it belongs to no group.
- **Late events.** Each correlation keeps a watermark, the latest event time it has seen.
  An event up to ``min(ALLOWED_LATENESS, timespan)`` seconds older than the watermark is
  placed at its own time: it counts in the window ending at it and in the windows ending at
  the later events it falls inside (those are evaluated again). An older event is not
  counted (``late``), since the state that would place it is gone.
- **Memory.** Groups sit in an ordered dict by last touch and expire once no future window
  can reach them (swept every 1/32 of the window); a hard cap (`MAX_GROUPS`) evicts the
  stalest group if an attacker sprays keys. A group keeps the entries of the last
  ``timespan + lateness`` only (at most twice the window), at most `MAX_SUM_ENTRIES` of
  them (past that the two oldest merge: sums stay exact, counts and times err toward firing
  early).
- **Firing.** With ``gt``/``gte``/``eq`` a group starts again after firing, so a sustained
  attack alerts once per threshold, not once per event. ``lt``/``lte``/``neq`` keep their
  state (a reset would make every count small) and fire on each matching event whose window
  satisfies them; nothing arriving means nothing is evaluated (no alert for silence).
"""

from __future__ import annotations

import math
from bisect import bisect_left, bisect_right, insort
from collections import OrderedDict
from collections.abc import Mapping
from typing import Any

from sigma.correlations import SigmaCorrelationConditionOperator as Op
from sigma.correlations import SigmaCorrelationType as Kind

from kinko.monitor.rules import CorrelationRule

INGESTED = "ingest"  # an event's origin from outside Kinko (kinko.monitor.engine)
MAX_GROUPS = 100_000
MAX_SUM_ENTRIES = 1024
ALLOWED_LATENESS = 300.0
"""Seconds an event may arrive after a later one and still be placed in its windows."""
RESETS = frozenset({Op.GT, Op.GTE, Op.EQ})
NUMERIC = frozenset({Kind.VALUE_SUM, Kind.VALUE_AVG})

GroupKey = tuple[Any, ...]


def holds(op: Op, value: float, threshold: float) -> bool:
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


def _finite(value: float) -> bool:
    return math.isfinite(value)


def number(value: Any) -> int | float | None:
    """A value_sum/value_avg operand: an integer (exact), a finite float, or their text."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return value if isinstance(value, int) or _finite(value) else None
    if isinstance(value, str):
        try:
            return int(value)
        except ValueError:
            try:
                parsed = float(value)
            except ValueError:
                return None
            return parsed if _finite(parsed) else None
    return None


def _key_part(value: Any) -> Any:
    # Group keys compare as the specification's case-insensitive strings.
    return value.casefold() if value.__class__ is str else value


class _Group:
    """One group's state. ``data``: for counts and sums a time-sorted list of entries
    ``[time, value, weight]``; for temporal kinds one sorted time list per referenced rule."""

    __slots__ = ("data", "display", "ingested", "last", "last_serial")

    def __init__(self, display: GroupKey) -> None:
        self.last = float("-inf")
        self.data: Any = None
        self.ingested = False
        """An event of this group came from outside Kinko (see `engine.alert_origin`)."""
        self.last_serial: int | None = None
        self.display = display


class CorrelationState:
    """All groups of one correlation rule."""

    def __init__(self, rule: CorrelationRule, *, max_groups: int = MAX_GROUPS) -> None:
        self.rule = rule
        self.span = float(rule.timespan_s)
        self.lateness = min(ALLOWED_LATENESS, self.span)
        self.keep = self.span + self.lateness
        self.max_groups = max_groups
        self.groups: OrderedDict[GroupKey, _Group] = OrderedDict()
        self.evicted = 0
        self.late = 0
        """Events not counted because they arrived later than `lateness` allows."""
        self.watermark = float("-inf")
        self.fired_ingested = False
        """Whether the group that fired last had an event from outside Kinko in it."""
        self._next_sweep = float("-inf")
        self._index = {source: i for i, source in reversed(list(enumerate(rule.sources)))}
        self._key_fields = {
            source: tuple(rule.group_field(name, source) for name in rule.group_by)
            for source in rule.sources
        }
        self._value_field = {
            source: rule.group_field(rule.value_field, source) if rule.value_field else None
            for source in rule.sources
        }
        self._resets = rule.op in RESETS

    def size(self) -> int:
        """Entries held: groups plus what they store (for the bounded-memory checks)."""
        groups = self.groups.values()
        if self.rule.kind in (Kind.TEMPORAL, Kind.TEMPORAL_ORDERED):
            held = sum(len(times) for g in groups if g.data for times in g.data)
        else:
            held = sum(len(g.data) for g in groups if g.data)
        return len(self.groups) + held

    def feed(
        self, source: str, ts: float, event: Mapping[str, Any], serial: int | None = None
    ) -> dict[str, Any] | None:
        """Count a match of rule `source`; return the group's fields when the rule fires.
        `serial` identifies the event (`Engine`): the same serial through a second referenced
        rule is not counted again."""
        if ts < self.watermark - self.lateness:
            self.late += 1
            return None
        if ts > self.watermark:  # noqa: PLR1730 (max() is a call on the hot path)
            self.watermark = ts
        if ts >= self._next_sweep:
            self._expire(ts)
            self._next_sweep = ts + self.span / 32
        get = event.get
        display = tuple([get(name) for name in self._key_fields[source]])
        if None in display:
            return None
        key = tuple([_key_part(v) for v in display])
        groups = self.groups
        group = groups.get(key)
        if group is None:
            if len(groups) >= self.max_groups:
                groups.popitem(last=False)
                self.evicted += 1
            group = groups[key] = _Group(display)
        else:
            groups.move_to_end(key)
        if ts > group.last:  # noqa: PLR1730 (max() is a call on the hot path)
            group.last = ts
        if get("origin") == INGESTED:
            group.ingested = True
        if not self._update(group, source, ts, event, serial):
            return None
        if self._resets:
            del groups[key]
        self.fired_ingested = group.ingested
        return dict(zip(self.rule.group_by, group.display, strict=True))

    def _expire(self, now: float) -> None:
        horizon = self.watermark - self.keep
        groups = self.groups
        while groups:
            first = next(iter(groups.values()))
            if first.last >= horizon:
                break
            groups.popitem(last=False)

    def _update(
        self, group: _Group, source: str, ts: float, event: Mapping[str, Any], serial: int | None
    ) -> bool:
        kind = self.rule.kind
        if kind is Kind.TEMPORAL or kind is Kind.TEMPORAL_ORDERED:
            return self._temporal(group, source, ts)
        if kind is Kind.VALUE_COUNT:
            field = self._value_field[source]
            value = event.get(field) if field is not None else None
            if value is None:
                return False
            value = _key_part(value)
        elif kind in NUMERIC:
            field = self._value_field[source]
            value = number(event.get(field)) if field is not None else None
            if value is None:
                return False
        else:
            value = None
        if kind is not Kind.VALUE_COUNT and serial is not None:
            if group.last_serial == serial:
                return False  # the same event through a second referenced rule
            group.last_serial = serial
        entries = group.data
        if entries is None:
            entries = group.data = []
        late = bool(entries) and ts < entries[-1][0]
        if late:
            insort(entries, [ts, value, 1], key=_time)
        else:
            entries.append([ts, value, 1])
        self._trim(entries)
        return any(self._window_holds(entries, end) for end in self._ends(entries, ts, late))

    def _trim(self, entries: list[list[Any]]) -> None:
        cutoff = self.watermark - self.keep
        if entries[0][0] < cutoff:
            del entries[: bisect_left(entries, cutoff, key=_time)]
        while len(entries) > MAX_SUM_ENTRIES:
            oldest = entries.pop(0)
            merged = entries[0]
            if self.rule.kind in NUMERIC:
                merged[1] += oldest[1]
            merged[2] += oldest[2]

    def _ends(self, entries: list[list[Any]], ts: float, late: bool) -> list[float]:
        """Ends of the windows a new entry at `ts` can change: its own, and for a late one
        those of the later entries it falls inside."""
        if not late:
            return [ts]
        first = bisect_right(entries, ts, key=_time)
        last = bisect_right(entries, ts + self.span, key=_time)
        return [ts, *dict.fromkeys(e[0] for e in entries[first:last])]

    def _window_holds(self, entries: list[list[Any]], end: float) -> bool:
        rule = self.rule
        lo = bisect_left(entries, end - self.span, key=_time)
        hi = bisect_right(entries, end, key=_time)
        kind = rule.kind
        if kind is Kind.EVENT_COUNT:
            if hi - lo == len(entries):
                metric: float = sum(e[2] for e in entries)
            else:
                metric = sum(e[2] for e in entries[lo:hi])
        elif kind is Kind.VALUE_COUNT:
            metric = len({e[1] for e in entries[lo:hi]})
        else:
            window = entries[lo:hi]
            total = sum(e[1] for e in window)
            if kind is Kind.VALUE_AVG:
                weight = sum(e[2] for e in window)
                if not weight:
                    return False
                metric = total / weight
            else:
                metric = total
        return holds(rule.op, metric, rule.threshold)

    def _temporal(self, group: _Group, source: str, ts: float) -> bool:
        sources = self.rule.sources
        if group.data is None:
            group.data = [[] for _ in sources]
        lists: list[list[float]] = group.data
        cutoff = self.watermark - self.keep
        latest = ts
        for index, name in enumerate(sources):
            times = lists[index]
            if name == source:
                insort(times, ts)
            if times and times[0] < cutoff:
                del times[: bisect_left(times, cutoff)]
            if len(times) > MAX_SUM_ENTRIES:
                del times[0]
            if times and times[-1] > latest:
                latest = times[-1]
        ends = [ts]
        if latest > ts:  # late: the later windows it falls inside are evaluated again
            later = {t for times in lists for t in times if ts < t <= ts + self.span}
            ends.extend(sorted(later))
        check = self._ordered if self.rule.kind is Kind.TEMPORAL_ORDERED else self._present
        return any(check(lists, end) for end in ends)

    def _present(self, lists: list[list[float]], end: float) -> bool:
        start = end - self.span
        present = sum(1 for times in lists if bisect_right(times, end) > bisect_left(times, start))
        return holds(self.rule.op, present, self.rule.threshold)

    def _ordered(self, lists: list[list[float]], end: float) -> bool:
        """Whether `threshold`-many (gte) referenced rules matched in the order listed,
        inside the window (equal times count as in order). `chain[i]`: for each length, the
        earliest time a chain of that length can end with rule i."""
        start = end - self.span
        need = _needed(self.rule.op, self.rule.threshold)
        if need <= 0:
            return True
        inf = float("inf")
        best: list[list[float]] = []  # best[i][length-1]
        for i, times in enumerate(lists):
            row = [inf] * need
            first = bisect_left(times, start)
            if first < len(times) and times[first] <= end:
                row[0] = times[first]
            for length in range(1, need):
                after = min((best[j][length - 1] for j in range(i)), default=inf)
                if after == inf:
                    continue
                k = bisect_left(times, max(after, start))
                if k < len(times) and times[k] <= end:
                    row[length] = times[k]
            if row[need - 1] != inf:
                return True
            best.append(row)
        return False


def _needed(op: Op, threshold: float) -> int:
    """How many rules in order a gt/gte temporal_ordered condition asks for."""
    if op is Op.GT:
        return int(threshold) + 1
    return int(-(-threshold // 1))


def _time(entry: list[Any]) -> float:
    return float(entry[0])
