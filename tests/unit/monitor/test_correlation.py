"""Sigma correlations: each type, group-by, windows, chaining, aliases, bounded state."""

from __future__ import annotations

import pytest

from kinko.monitor.correlation import MAX_SUM_ENTRIES
from kinko.monitor.engine import Engine
from kinko.monitor.rules import parse_texts
from tests.unit.monitor.support import ev

BASE = """title: base {n}
name: {n}
logsource: {{product: kinko}}
detection:
  s: {{type: {t}}}
  condition: s
---
"""


def spec(kind: str, rules: str, group: str, span: str, condition: str) -> str:
    return (
        f"  type: {kind}\n  rules: [{rules}]\n  group-by: [{group}]\n"
        f"  timespan: {span}\n  condition: {condition}\n"
    )


def engine(corr: str, *bases: tuple[str, str]) -> Engine:
    text = "".join(BASE.format(n=n, t=t) for n, t in bases)
    return Engine(parse_texts([("c.yml", text + "title: corr\nname: corr\ncorrelation:\n" + corr)]))


def fired(eng: Engine, events: list) -> list[dict]:
    return [dict(a.group) for a in eng.process_many(events) if a.rule_id == "corr"]


def test_event_count_window_and_group() -> None:
    corr = spec("event_count", "a", "actor", "60s", "{gte: 3}")
    eng = engine(corr, ("a", "x.y"))
    assert fired(eng, [ev("x.y", t, actor="u1") for t in (0, 30, 59)]) == [{"actor": "u1"}]
    eng = engine(corr, ("a", "x.y"))
    assert fired(eng, [ev("x.y", t, actor="u1") for t in (0, 30, 61)]) == []
    eng = engine(corr, ("a", "x.y"))
    mixed = [ev("x.y", 0, actor="u1"), ev("x.y", 1, actor="u2"), ev("x.y", 2, actor="u1")]
    assert fired(eng, mixed) == []


def test_value_count_counts_distinct() -> None:
    corr = spec("value_count", "a", "wallet", "10m", "{field: asset, gte: 3}")
    eng = engine(corr, ("a", "chain.outflow"))
    same = [ev("chain.outflow", i, wallet="w", asset="ETH") for i in range(10)]
    assert fired(eng, same) == []
    three = [ev("chain.outflow", i, wallet="w", asset=a) for i, a in enumerate(["A", "B", "C"])]
    assert fired(eng, three) == [{"wallet": "w"}]


def test_value_sum_exact_in_base_units() -> None:
    corr = spec("value_sum", "a", "wallet", "1h", "{field: amount, gt: 1000000000000000000000}")
    eng = engine(corr, ("a", "chain.outflow"))
    half = 5 * 10**20
    assert (
        fired(
            eng,
            [
                ev("chain.outflow", 0, wallet="w", amount=half),
                ev("chain.outflow", 1, wallet="w", amount=half),
            ],
        )
        == []
    )
    assert fired(eng, [ev("chain.outflow", 2, wallet="w", amount=1)]) == [{"wallet": "w"}]


def test_value_sum_merging_keeps_sum_exact() -> None:
    corr = spec("value_sum", "a", "wallet", "1h", f"{{field: amount, gte: {3 * MAX_SUM_ENTRIES}}}")
    eng = engine(corr, ("a", "chain.outflow"))
    events = [
        ev("chain.outflow", i * 0.5, wallet="w", amount=1) for i in range(3 * MAX_SUM_ENTRIES - 1)
    ]
    assert fired(eng, events) == []
    assert eng.state_size() <= MAX_SUM_ENTRIES + 10
    assert fired(eng, [ev("chain.outflow", 3000, wallet="w", amount=1)]) == [{"wallet": "w"}]


def test_temporal_any_order() -> None:
    corr = spec("temporal", "a, b", "actor", "5m", "{gte: 2}")
    eng = engine(corr, ("a", "x.a"), ("b", "x.b"))
    assert fired(eng, [ev("x.b", 0, actor="u"), ev("x.a", 60, actor="u")]) == [{"actor": "u"}]
    eng = engine(corr, ("a", "x.a"), ("b", "x.b"))
    assert fired(eng, [ev("x.b", 0, actor="u"), ev("x.a", 400, actor="u")]) == []


def test_temporal_ordered_needs_order() -> None:
    corr = spec("temporal_ordered", "a, b, c", "actor", "5m", "{gte: 3}")
    bases = (("a", "x.a"), ("b", "x.b"), ("c", "x.c"))
    eng = engine(corr, *bases)
    ok = [ev("x.a", 0, actor="u"), ev("x.b", 10, actor="u"), ev("x.c", 20, actor="u")]
    assert fired(eng, ok) == [{"actor": "u"}]
    eng = engine(corr, *bases)
    wrong = [ev("x.b", 0, actor="u"), ev("x.a", 10, actor="u"), ev("x.c", 20, actor="u")]
    assert fired(eng, wrong) == []
    eng = engine(corr, *bases)
    slow = [ev("x.a", 0, actor="u"), ev("x.b", 10, actor="u"), ev("x.c", 301, actor="u")]
    assert fired(eng, slow) == []


def test_chained_correlation_and_aliases() -> None:
    text = (
        BASE.format(n="fail", t="auth.mfa")
        + "title: burst\nname: burst\ncorrelation:\n"
        + spec("event_count", "fail", "actor", "5m", "{gte: 2}")
        + "---\n"
        + BASE.format(n="reset", t="mfa.reset")
        + "title: corr\nname: corr\ncorrelation:\n"
        + "  type: temporal_ordered\n  rules: [reset, burst]\n  group-by: [who]\n"
        "  aliases:\n    who:\n      reset: target_user\n      burst: actor\n"
        "  timespan: 10m\n  condition: {gte: 2}\n"
    )
    eng = Engine(parse_texts([("c.yml", text)]))
    events = [
        ev("mfa.reset", 0, actor="admin", target_user="u1"),
        ev("auth.mfa", 10, actor="u1"),
        ev("auth.mfa", 20, actor="u1"),
    ]
    alerts = [a for a in eng.process_many(events) if a.rule_id == "corr"]
    assert [dict(a.group) for a in alerts] == [{"who": "u1"}]
    # the intermediate correlation is referenced, so it does not alert by itself
    assert "burst" not in eng.counts


def test_state_stays_bounded_over_many_events() -> None:
    """120k events over 10k rotating keys: state holds only the groups alive in the window."""
    corr = spec("value_count", "a", "wallet", "60s", "{field: asset, gte: 50}")
    eng = engine(corr, ("a", "chain.outflow"))
    sizes = []
    flat = ev("chain.outflow", 0, wallet="w0", asset="A").flat()
    t0 = flat["time"]
    from datetime import timedelta

    for i in range(120_000):
        eng.process_flat(
            {
                **flat,
                "time": t0 + timedelta(seconds=i * 0.01),
                "wallet": f"w{i % 10_000}",
                "asset": f"A{i % 7}",
            }
        )
        if i % 12_000 == 11_999:
            sizes.append(eng.state_size())
    # A group keeps the entries of the window plus the allowed lateness (60 s + 60 s) before
    # its last event, and lives that long after it: at most 2 x 120 s x 100/s = 24,000
    # entries, in at most 10,000 groups; flat once that much time has passed.
    assert max(sizes) <= 24_000 + 10_000
    assert max(sizes) - min(sizes[1:]) <= 0.05 * max(sizes)


@pytest.mark.parametrize("max_groups", [100])
def test_group_cap_evicts_stalest(max_groups: int) -> None:
    from kinko.monitor.correlation import CorrelationState

    corr = spec("event_count", "a", "actor", "1d", "{gte: 5}")
    rule = engine(corr, ("a", "x.y")).rules.correlations[0]
    state = CorrelationState(rule, max_groups=max_groups)
    for i in range(1000):
        state.feed("a", float(i), {"actor": f"u{i}"})
    assert len(state.groups) == max_groups
    assert state.evicted == 900
