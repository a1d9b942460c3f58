"""The evaluator walks the days once, one snapshot at a time (kinko.inspection.evaluate):
a stream of snapshots gives the report a mapping gives, no more than one parsed day is
alive at a time, and the trailing KRW price window is summed as the days pass."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal

import pytest

from kinko.identity.sod import DEFAULT_MATRIX
from kinko.inspection import report as reports
from kinko.inspection.catalogue import packaged
from kinko.inspection.evaluate import Evidence, Held, Period, evaluate
from kinko.inspection.prices import TrailingPrices
from kinko.inspection.snapshot import Price, Snapshot
from tests.support.clock import RUN_DAY
from tests.unit.inspection.seed import BTC, DECIMALS, days, snapshot

END = RUN_DAY - timedelta(days=1)


def _day(day: date, index: int) -> Snapshot:
    """The seed's exchange, its KRW price moving every day and its cold share falling
    under Korea's 80% every fifth day (so trailing averages and failures both vary)."""
    snap = snapshot(day, cold=70_000_000 if index % 5 == 0 else 97_000_000)
    krw = Price("KRW", BTC, day.isoformat(), str(100_000_000 + 37 * index))
    return replace(snap, prices=(snap.prices[0], krw))


def _report(evidence: Evidence, period: Period) -> bytes:
    catalogue = packaged()
    findings = evaluate(catalogue, None, period, evidence)
    return reports.encode(reports.build(catalogue, None, period, findings, evidence, [], None))


def test_a_stream_of_snapshots_gives_the_report_a_mapping_gives() -> None:
    span = days(END, 40)
    gone = {span[3], span[30]}  # one in the price window before the period, one in it
    held = {d: Held.of(_day(d, i)) for i, d in enumerate(span) if d not in gone}
    period = Period(span[20], END)
    began = span[0]

    from_mapping = _report(Evidence(held, DECIMALS, DEFAULT_MATRIX, began), period)
    stream = (held[d] for d in sorted(held))
    from_stream = _report(Evidence(stream, DECIMALS, DEFAULT_MATRIX, began), period)

    assert from_stream == from_mapping
    assert b'"status":"fail"' in from_stream  # the test's data does decide something
    assert span[30].isoformat().encode() in from_stream  # the missing day is reported


def _alive() -> int:
    return sum(isinstance(o, Snapshot) for o in gc.get_objects())


def test_the_walk_holds_one_parsed_day_at_a_time() -> None:
    span = days(END, 20)
    alive: list[int] = []
    gc.collect()
    before = _alive()  # what the test process holds anyway

    def stream() -> Iterator[Held]:
        for i, d in enumerate(span):
            alive.append(_alive() - before)  # before this day is built: what is still held
            yield Held.of(_day(d, i))

    evidence = Evidence(stream(), DECIMALS, DEFAULT_MATRIX, span[0])
    findings = evaluate(packaged(), None, Period(span[0], END), evidence)

    assert len(alive) == len(span)
    assert max(alive) <= 1, alive  # the previous day at most, never the period
    assert {f.control.id for f in findings if f.evidence} >= {"CUS-01", "CUS-02", "KEY-02"}


def test_a_stream_out_of_day_order_is_refused() -> None:
    span = days(END, 5)
    out_of_order = [Held.of(snapshot(d)) for d in (span[0], span[2], span[1])]
    evidence = Evidence(iter(out_of_order), DECIMALS, DEFAULT_MATRIX, span[0])
    with pytest.raises(ValueError, match="ascending day order"):
        evaluate(packaged(), None, Period(span[0], END), evidence)


def _fed(prices: dict[date, int | None], began: date | None) -> TrailingPrices:
    trailing = TrailingPrices("KRW", 3, began)
    for day in sorted(prices):
        price = prices[day]
        snap = (
            None
            if price is None
            else replace(snapshot(day), prices=(Price("KRW", BTC, day.isoformat(), str(price)),))
        )
        trailing.observe(day, None if snap is None else Held.of(snap))
    return trailing


def test_the_trailing_window_averages_its_own_days_only() -> None:
    d = days(END, 5)
    trailing = _fed({d[0]: 10, d[1]: 20, d[2]: 30, d[3]: 40, d[4]: 62}, None)
    averages, used, gaps = trailing.at(d[4])
    assert gaps is None
    assert averages == {BTC: Decimal(44)}  # d[2], d[3], d[4]: d[0], d[1] dropped
    assert used == d[2:]


def test_a_day_missing_from_the_window_is_named_and_days_before_kinko_began_are_not() -> None:
    d = days(END, 5)
    missing = _fed({d[0]: 10, d[1]: 20, d[2]: None, d[3]: 40, d[4]: 50}, d[0])
    averages, used, gaps = missing.at(d[4])
    assert averages == {}
    assert used == [d[3], d[4]]
    assert gaps is not None and f"1 day(s) (the first {d[2].isoformat()})" in gaps

    young = _fed({d[2]: None, d[3]: 40, d[4]: 50}, d[3])  # Kinko's first snapshot: d[3]
    averages, used, gaps = young.at(d[4])
    assert gaps is None
    assert averages == {BTC: Decimal(45)}
    assert used == [d[3], d[4]]
