"""Correlations and logsources as the Sigma specification (v2.1.0) defines them.

Windows are those of the reference (pySigma's SQLite backend): ``[t - timespan, t]`` ending
at each matching event, both ends included. Late events are placed at their own time within
the documented allowed lateness (`kinko.monitor.correlation`).
"""

from __future__ import annotations

from typing import Any

import pytest

from kinko.monitor.correlation import ALLOWED_LATENESS
from kinko.monitor.engine import Engine
from kinko.monitor.events import LogSource, MonitorEvent
from kinko.monitor.rules import parse_texts
from tests.unit.monitor.support import T0, ev

BASE = """title: base {n}
name: {n}
logsource: {{product: kinko}}
detection:
  s: {detection}
  condition: s
---
"""


def engine(correlation: str, *bases: tuple[str, str]) -> Engine:
    text = "".join(BASE.format(n=n, detection=d) for n, d in bases)
    text += "title: corr\nname: corr\ncorrelation:\n" + correlation
    return Engine(parse_texts([("c.yml", text)]))


def corr(kind: str, rules: str, span: str, condition: str, group: str = "actor") -> str:
    return (
        f"  type: {kind}\n  rules: [{rules}]\n  group-by: [{group}]\n"
        f"  timespan: {span}\n  condition: {condition}\n"
    )


def fired(eng: Engine, events: list[MonitorEvent]) -> list[dict[str, Any]]:
    return [dict(a.group) for a in eng.process_many(events) if a.rule_id == "corr"]


# Correlation specification, "Event Count": "Counts events".
def test_an_event_matching_two_referenced_rules_counts_once() -> None:
    eng = engine(
        corr("event_count", "a, b", "1m", "{gte: 2}"),
        ("a", "{type: x.y}"),
        ("b", "{outcome: failure}"),
    )
    assert fired(eng, [ev("x.y", 0, actor="u", outcome="failure")]) == []
    assert fired(eng, [ev("x.y", 1, actor="u")]) == [{"actor": "u"}]


def test_window_edges_are_inclusive() -> None:
    rule = corr("event_count", "a", "60s", "{gte: 2}")
    assert fired(
        engine(rule, ("a", "{type: x.y}")), [ev("x.y", 0, actor="u"), ev("x.y", 60, actor="u")]
    )
    assert not fired(
        engine(rule, ("a", "{type: x.y}")), [ev("x.y", 0, actor="u"), ev("x.y", 60.001, actor="u")]
    )


def test_a_late_event_counts_only_in_windows_it_is_in() -> None:
    rule = corr("event_count", "a", "60s", "{gte: 3}")
    # t=0 and t=100 are 100 s apart; t=50 (late) shares a window with each, never with both
    events = [ev("x.y", t, actor="u") for t in (0, 100, 50)]
    assert fired(engine(rule, ("a", "{type: x.y}")), events) == []
    # t=5 after t=1000: far outside every window, and later than the allowed lateness
    events = [ev("x.y", t, actor="u") for t in (1000, 1001, 5)]
    eng = engine(rule, ("a", "{type: x.y}"))
    assert fired(eng, events) == []
    assert eng.states["corr"].late == 1


def test_a_late_event_completes_the_windows_it_belongs_to() -> None:
    rule = corr("event_count", "a", "60s", "{gte: 3}")
    events = [ev("x.y", t, actor="u") for t in (10, 20, 15)]
    assert fired(engine(rule, ("a", "{type: x.y}")), events) == [{"actor": "u"}]
    # ... including a window that ends at an earlier-arrived, later event: only [-10, 50]
    # holds four (0, 10, 45, 50); those ending at 45 and 100 hold three
    rule = corr("event_count", "a", "60s", "{gte: 4}")
    events = [ev("x.y", t, actor="u") for t in (0, 10, 50, 100, 45)]
    assert fired(engine(rule, ("a", "{type: x.y}")), events) == [{"actor": "u"}]


def test_allowed_lateness_is_bounded_by_the_window() -> None:
    rule = corr("event_count", "a", "1h", "{gte: 2}")
    on_time = [ev("x.y", ALLOWED_LATENESS, actor="u"), ev("x.y", 0, actor="u")]
    assert fired(engine(rule, ("a", "{type: x.y}")), on_time) == [{"actor": "u"}]
    too_late = [ev("x.y", ALLOWED_LATENESS + 1, actor="u"), ev("x.y", 0, actor="u")]
    assert fired(engine(rule, ("a", "{type: x.y}")), too_late) == []


def test_late_events_in_temporal_ordered() -> None:
    rule = corr("temporal_ordered", "a, b", "60s", "{gte: 2}")
    bases = (("a", "{type: x.a}"), ("b", "{type: x.b}"))
    # b arrives first but a's (late) event happened before it
    events = [ev("x.b", 30, actor="u"), ev("x.a", 10, actor="u")]
    assert fired(engine(rule, *bases), events) == [{"actor": "u"}]
    events = [ev("x.b", 30, actor="u"), ev("x.a", 40, actor="u")]
    assert fired(engine(rule, *bases), events) == []


# Correlation specification, "Condition": for temporal kinds, the count of different rules.
def test_temporal_ordered_honours_its_condition() -> None:
    rule = corr("temporal_ordered", "a, b, c", "5m", "{gte: 2}")
    bases = (("a", "{type: x.a}"), ("b", "{type: x.b}"), ("c", "{type: x.c}"))
    assert fired(engine(rule, *bases), [ev("x.a", 0, actor="u"), ev("x.c", 10, actor="u")]) == [
        {"actor": "u"}
    ]
    assert fired(engine(rule, *bases), [ev("x.c", 0, actor="u"), ev("x.a", 10, actor="u")]) == []
    three = corr("temporal_ordered", "a, b, c", "5m", "{gt: 2}")
    two = [ev("x.a", 0, actor="u"), ev("x.b", 10, actor="u")]
    assert fired(engine(three, *bases), two) == []


def test_temporal_with_an_upper_bound() -> None:
    rule = corr("temporal", "a, b", "5m", "{lt: 2}")
    bases = (("a", "{type: x.a}"), ("b", "{type: x.b}"))
    assert fired(engine(rule, *bases), [ev("x.a", 0, actor="u")]) == [{"actor": "u"}]
    eng = engine(rule, *bases)
    assert len(fired(eng, [ev("x.a", 0, actor="u"), ev("x.b", 1, actor="u")])) == 1


@pytest.mark.parametrize(
    ("condition", "counts", "expected"),
    [
        ("{lt: 3}", [0, 1, 2, 3], [True, True, False, False]),
        ("{lte: 2}", [0, 1, 2], [True, True, False]),
        ("{neq: 2}", [0, 1, 2], [True, False, True]),
        ("{eq: 2}", [0, 1], [False, True]),
    ],
)
def test_event_count_conditions(condition: str, counts: list[float], expected: list[bool]) -> None:
    """Evaluated on each matching event, over the window ending at it."""
    eng = engine(corr("event_count", "a", "1m", condition), ("a", "{type: x.y}"))
    got = [bool(fired(eng, [ev("x.y", t, actor="u")])) for t in counts]
    assert got == expected


# Correlation specification, "Value Average (value_avg)".
def test_value_avg() -> None:
    rule = corr("value_avg", "a", "1h", "{field: bytes, gt: 500}")
    eng = engine(rule, ("a", "{type: net.flow}"))
    assert fired(eng, [ev("net.flow", 0, actor="u", bytes=400)]) == []
    assert fired(eng, [ev("net.flow", 1, actor="u", bytes=700)]) == [{"actor": "u"}]
    eng = engine(
        corr("value_avg", "a", "1h", "{field: bytes, lte: 2.5}"), ("a", "{type: net.flow}")
    )
    assert fired(
        eng, [ev("net.flow", 0, actor="u", bytes=2), ev("net.flow", 1, actor="u", bytes=3)]
    )


def test_value_sum_with_a_lower_bound() -> None:
    rule = corr("value_sum", "a", "1h", "{field: amount, lt: 100}")
    eng = engine(rule, ("a", "{type: chain.outflow}"))
    assert fired(eng, [ev("chain.outflow", 0, actor="u", amount=60)]) == [{"actor": "u"}]
    assert fired(eng, [ev("chain.outflow", 1, actor="u", amount=60)]) == []


def test_group_by_with_a_missing_field_belongs_to_no_group() -> None:
    rule = corr("event_count", "a", "1m", "{gte: 2}")
    events = [ev("x.y", 0), ev("x.y", 1)]  # no actor: not one group of "None"
    assert fired(engine(rule, ("a", "{type: x.y}")), events) == []


def test_group_keys_and_distinct_values_are_case_insensitive() -> None:
    rule = corr("event_count", "a", "1m", "{gte: 2}")
    events = [ev("x.y", 0, actor="Alice"), ev("x.y", 1, actor="alice")]
    assert fired(engine(rule, ("a", "{type: x.y}")), events) == [{"actor": "Alice"}]
    rule = corr("value_count", "a", "1m", "{field: user, gte: 2}", group="source_ip")
    events = [ev("x.y", 0, source_ip="10.0.0.1", user=u) for u in ("Bob", "BOB", "bob")]
    assert fired(engine(rule, ("a", "{type: x.y}")), events) == []


def test_value_field_follows_aliases() -> None:
    text = (
        BASE.format(n="a", detection="{type: x.a}")
        + BASE.format(n="b", detection="{type: x.b}")
        + "title: corr\nname: corr\ncorrelation:\n  type: value_count\n  rules: [a, b]\n"
        "  group-by: [who]\n  timespan: 1m\n  condition: {field: who_else, gte: 2}\n"
        "  aliases:\n    who: {a: actor, b: target}\n    who_else: {a: target, b: actor}\n"
    )
    eng = Engine(parse_texts([("c.yml", text)]))
    events = [ev("x.a", 0, actor="u", target="v1"), ev("x.b", 1, actor="v2", target="u")]
    assert [dict(a.group) for a in eng.process_many(events)] == [{"who": "u"}]


# Rules specification, "LogSource": a rule is for the log data its logsource describes.
WINDOWS_RULE = """title: windows
name: win
logsource: {product: windows, service: security}
detection:
  s: {type: auth.login}
  condition: s
"""


def test_a_rule_fires_only_on_its_logsource() -> None:
    eng = Engine(parse_texts([("w.yml", WINDOWS_RULE)]))
    assert eng.process(ev("auth.login", 0, actor="u")) == []
    windows = MonitorEvent(
        time=T0, type="auth.login", logsource=LogSource(product="windows", service="security")
    )
    assert [a.rule_id for a in eng.process(windows)] == ["win"]
    other = MonitorEvent(time=T0, type="auth.login", logsource=LogSource(product="windows"))
    assert eng.process(other) == []


def test_kinko_events_are_product_kinko_service_their_area() -> None:
    flat = ev("withdrawal.request", 0).flat()
    assert (flat["logsource.product"], flat["logsource.service"]) == ("kinko", "withdrawal")
    rule = WINDOWS_RULE.replace("{product: windows, service: security}", "{service: withdrawal}")
    eng = Engine(parse_texts([("k.yml", rule.replace("auth.login", "withdrawal.request"))]))
    assert [a.rule_id for a in eng.process(ev("withdrawal.request", 0))] == ["win"]
    eng = Engine(parse_texts([("k.yml", rule.replace("{service: withdrawal}", "{service: auth}"))]))
    assert eng.process(ev("withdrawal.request", 0)) == []


def test_a_posted_event_names_its_logsource_or_is_refused() -> None:
    from kinko.core.errors import InputError
    from kinko.monitor.events import parse_event

    raw = {"time": "2026-11-21T09:00:00Z", "type": "auth.login"}
    event = parse_event({**raw, "logsource": {"product": "okta", "service": "okta"}}, where="e")
    flat = event.flat()
    assert (flat["logsource.product"], flat["logsource.service"]) == ("okta", "okta")
    assert "logsource.category" not in flat
    with pytest.raises(InputError) as info:
        parse_event({**raw, "logsource": {"product": "Windows Defender"}}, where="events[0]")
    assert info.value.field == "events[0]: logsource.product"
    with pytest.raises(InputError, match="shadow"):
        parse_event({**raw, "fields": {"logsource.product": "windows"}}, where="e")
