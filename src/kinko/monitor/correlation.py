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
import operator
from bisect import bisect_left, bisect_right, insort
from collections import OrderedDict
from collections.abc import Callable, Mapping
from typing import Any

from sigma.correlations import SigmaCorrelationConditionOperator as Op
from sigma.correlations import SigmaCorrelationType as Kind

from kinko.monitor.rules import CorrelationRule
from kinko.monitor.sequences import in_order, needed_in_order, rules_present

INGESTED = "ingest"  # an event's origin from outside Kinko (kinko.monitor.engine)
MAX_GROUPS = 100_000
MAX_SUM_ENTRIES = 1024
ALLOWED_LATENESS = 300.0
"""Seconds an event may arrive after a later one and still be placed in its windows."""
RESETS = frozenset({Op.GT, Op.GTE, Op.EQ})
NUMERIC = frozenset({Kind.VALUE_SUM, Kind.VALUE_AVG})

GroupKey = tuple[Any, ...]
Update = Callable[["_Group", str, float, Mapping[str, Any], "int | None"], bool]
COMPARE: dict[Op, Callable[[Any, Any], bool]] = {
    Op.GTE: operator.ge,
    Op.GT: operator.gt,
    Op.EQ: operator.eq,
    Op.LTE: operator.le,
    Op.LT: operator.lt,
    Op.NEQ: operator.ne,
}


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


class _Group:
    """One group's state. ``data``: for counts and sums its `_Entries`; for temporal kinds
    one sorted time list per referenced rule."""

    __slots__ = ("data", "display", "ingested", "last", "last_serial")

    def __init__(self, display: GroupKey) -> None:
        self.last = float("-inf")
        self.data: Any = None
        self.ingested = False
        """An event of this group came from outside Kinko (see `engine.alert_origin`)."""
        self.last_serial: int | None = None
        self.display = display


class _Entries:
    """A group's matches for counts and sums, as parallel sequences sorted by time; `weights`
    counts the events an entry stands for (more than one once entries merged)."""

    __slots__ = ("merged", "times", "values", "weights")

    def __init__(self) -> None:
        self.times: list[float] = []
        self.values: list[Any] = []
        self.weights: list[int] = []
        self.merged = False

    def __len__(self) -> int:
        return len(self.times)

    def pad(self, size: int) -> None:
        """Bring `values` and `weights` to `size` entries (event_count appends times alone)."""
        missing = size - len(self.weights)
        if missing > 0:
            self.values[:0] = [None] * missing
            self.weights[:0] = [1] * missing


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
        self._slots = {
            source: [i for i, name in enumerate(rule.sources) if name == source]
            for source in rule.sources
        }
        self._key_fields = {
            source: tuple(rule.group_field(name, source) for name in rule.group_by)
            for source in rule.sources
        }
        self._value_field = {
            source: rule.group_field(rule.value_field, source) if rule.value_field else None
            for source in rule.sources
        }
        self._resets = rule.op in RESETS
        self._need = (
            needed_in_order(rule.op, rule.threshold) if rule.kind is Kind.TEMPORAL_ORDERED else 0
        )
        # The fewest referenced rules that must have matched at all for a temporal
        # condition to hold (a gt/gte one: a shortcut, never a verdict).
        self._least = (
            needed_in_order(rule.op, rule.threshold)
            if rule.kind is Kind.TEMPORAL and rule.op in (Op.GT, Op.GTE)
            else self._need
        )
        self._holds = COMPARE[rule.op]
        self._threshold = rule.threshold
        self._width = len(rule.sources)
        # The same event can reach a group twice only through two different referenced rules.
        self._dedupe = len(set(rule.sources)) > 1
        updates: dict[Kind, Update] = {
            Kind.EVENT_COUNT: self._count,
            Kind.VALUE_COUNT: self._distinct,
            Kind.VALUE_SUM: self._numeric,
            Kind.VALUE_AVG: self._numeric,
            Kind.TEMPORAL: self._temporal,
            Kind.TEMPORAL_ORDERED: self._temporal,
        }
        self._update: Update = updates[rule.kind]

    def size(self) -> int:
        """Entries held: groups plus what they store (for the bounded-memory checks)."""
        groups = self.groups.values()
        if self.rule.kind in (Kind.TEMPORAL, Kind.TEMPORAL_ORDERED):
            held = sum(
                len(times) if times.__class__ is list else 1
                for g in groups
                if g.data
                for times in g.data
                if times is not None
            )
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
        names = self._key_fields[source]
        # Group keys compare case-insensitively; a group shows the values of its first
        # event. The display tuple is the key itself where folding changed nothing (fewer
        # objects for the garbage collector to track).
        if len(names) == 1:  # the common case, without the loops
            value = get(names[0])
            if value is None:
                return None
            if value.__class__ is str:
                folded = value.casefold()
                key: GroupKey = (folded,)
                display: GroupKey = key if folded == value else (value,)
            else:
                display = key = (value,)
        else:
            display = tuple([get(name) for name in names])
            if None in display:
                return None
            key = tuple([v.casefold() if v.__class__ is str else v for v in display])
            if key == display:
                key = display
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

    def _count(
        self, group: _Group, source: str, ts: float, event: Mapping[str, Any], serial: int | None
    ) -> bool:
        """event_count. In order and unmerged (the hot path) only the times are kept: values
        and weights are not read until a merge or a late event pads them."""
        if self._dedupe and serial is not None:
            if group.last_serial == serial:
                return False  # the same event through a second referenced rule
            group.last_serial = serial
        entries = group.data
        if entries is None:
            entries = group.data = _Entries()
        times = entries.times
        if entries.merged or (times and ts < times[-1]):
            return self._place(entries, ts, None)
        times.append(ts)
        if times[0] < self.watermark - self.keep or len(times) > MAX_SUM_ENTRIES:
            entries.pad(len(times))
            self._trim(entries)
        return self._holds(len(times) - bisect_left(times, ts - self.span), self._threshold)

    def _distinct(
        self, group: _Group, source: str, ts: float, event: Mapping[str, Any], serial: int | None
    ) -> bool:
        """value_count: the distinct values (case-folded text) in the window. An event
        matching two referenced rules adds its value twice, which counts once."""
        field = self._value_field[source]
        value = event.get(field) if field is not None else None
        if value is None:
            return False
        if value.__class__ is str:
            value = value.casefold()
        entries = group.data
        if entries is None:
            entries = group.data = _Entries()
        times = entries.times
        if entries.merged or (times and ts < times[-1]):
            return self._place(entries, ts, value)
        times.append(ts)
        values = entries.values
        values.append(value)
        entries.weights.append(1)
        if times[0] < self.watermark - self.keep or len(times) > MAX_SUM_ENTRIES:
            self._trim(entries)
        # in order: the window [ts - span, ts] runs to the last entry
        distinct = len(set(values[bisect_left(times, ts - self.span) :]))
        return self._holds(distinct, self._threshold)

    def _numeric(
        self, group: _Group, source: str, ts: float, event: Mapping[str, Any], serial: int | None
    ) -> bool:
        """value_sum and value_avg over the numbers (or their text) in the window."""
        field = self._value_field[source]
        value = number(event.get(field)) if field is not None else None
        if value is None:
            return False
        if self._dedupe and serial is not None:
            if group.last_serial == serial:
                return False  # the same event through a second referenced rule
            group.last_serial = serial
        entries = group.data
        if entries is None:
            entries = group.data = _Entries()
        return self._place(entries, ts, value)

    def _place(self, entries: _Entries, ts: float, value: Any) -> bool:
        """Put one entry at its time and evaluate the windows it is in: the one ending at it
        and, when it is late, those of the later entries it falls inside."""
        times = entries.times
        late = bool(times) and ts < times[-1]
        entries.pad(len(times))
        if late:
            at = bisect_right(times, ts)
            times.insert(at, ts)
            entries.values.insert(at, value)
            entries.weights.insert(at, 1)
        else:
            times.append(ts)
            entries.values.append(value)
            entries.weights.append(1)
        self._trim(entries)
        if not late:
            return self._window_holds(entries, ts)
        # late: its own window, and those of the later entries it falls inside
        ends = dict.fromkeys(times[bisect_right(times, ts) : bisect_right(times, ts + self.span)])
        return any(self._window_holds(entries, end) for end in (ts, *ends))

    def _trim(self, entries: _Entries) -> None:
        times = entries.times
        cutoff = self.watermark - self.keep
        if times[0] < cutoff:
            cut = bisect_left(times, cutoff)
            del times[:cut], entries.values[:cut], entries.weights[:cut]
        while len(times) > MAX_SUM_ENTRIES:
            # merge the two oldest into the later one: sums stay exact
            del times[0]
            oldest_value, oldest_weight = entries.values.pop(0), entries.weights.pop(0)
            if self.rule.kind in NUMERIC:
                entries.values[0] += oldest_value
            entries.weights[0] += oldest_weight
            entries.merged = True

    def _window_holds(self, entries: _Entries, end: float) -> bool:
        rule = self.rule
        times = entries.times
        lo = bisect_left(times, end - self.span)
        hi = bisect_right(times, end)
        kind = rule.kind
        metric: float
        if kind is Kind.EVENT_COUNT:
            metric = sum(entries.weights[lo:hi]) if entries.merged else hi - lo
        elif kind is Kind.VALUE_COUNT:
            metric = len(set(entries.values[lo:hi]))
        else:
            total = sum(entries.values[lo:hi])
            if kind is Kind.VALUE_AVG:
                weight = sum(entries.weights[lo:hi])
                if not weight:
                    return False
                metric = total / weight
            else:
                metric = total
        return self._holds(metric, self._threshold)

    def _temporal(
        self, group: _Group, source: str, ts: float, event: Mapping[str, Any], serial: int | None
    ) -> bool:
        """temporal and temporal_ordered: one sorted time list per referenced rule (None
        until the rule matches in the group, its bare time until it matches twice)."""
        lists: list[Any] | None = group.data
        if lists is None:
            lists = group.data = [None] * self._width
        cutoff = self.watermark - self.keep
        slots = self._slots[source]
        for index in slots:  # the other lists are trimmed when they next grow
            times = lists[index]
            if times is None:
                # A first time is kept bare: not late past the lateness, so not older than
                # `keep`; and not a container the garbage collector must track (most groups
                # of a sequence never see its other rules).
                lists[index] = ts
                continue
            if times.__class__ is not list:
                times = lists[index] = [times]
            if ts < times[-1]:
                insort(times, ts)
            else:
                times.append(ts)
            if times[0] < cutoff:
                del times[: bisect_left(times, cutoff)]
            if len(times) > MAX_SUM_ENTRIES:
                del times[0]
        if self._least and len(lists) - lists.count(None) < self._least:
            return False  # fewer of the rules than the condition needs matched at all
        for index, times in enumerate(lists):
            if times is not None and times.__class__ is not list:
                lists[index] = [times]
        late = False
        for times in lists:
            if times and times[-1] > ts:
                late = True
                break
        need = self._need
        if not late and slots[-1] < need - 1:
            # in order, and this rule cannot end an ordered chain: no window it ends can
            # hold one that the previous (already evaluated) windows did not
            return False
        ends = [ts]
        if late:  # the later windows it falls inside are evaluated again
            later = {t for times in lists if times for t in times if ts < t <= ts + self.span}
            ends.extend(sorted(later))
        check = self._ordered if self.rule.kind is Kind.TEMPORAL_ORDERED else self._present
        return any(check(lists, end) for end in ends)

    def _present(self, lists: list[list[float] | None], end: float) -> bool:
        return self._holds(rules_present(lists, end - self.span, end), self._threshold)

    def _ordered(self, lists: list[list[float] | None], end: float) -> bool:
        return in_order(lists, end - self.span, end, self._need)
