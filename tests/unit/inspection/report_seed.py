"""A JSON inspection report built from the seed's snapshots (pure: no store, no proofs),
for the tests of its renderings (HTML, PDF, OSCAL). Days derive from the real time."""

from __future__ import annotations

from datetime import timedelta

from kinko.identity.sod import DEFAULT_MATRIX
from kinko.inspection import report as reports
from kinko.inspection.catalogue import Framework, packaged
from kinko.inspection.evaluate import Evidence, Held, Period, evaluate
from tests.support.clock import RUN_DAY
from tests.unit.inspection.seed import DECIMALS, days, snapshot

END = RUN_DAY - timedelta(days=1)


def sample_report(framework: Framework | None, count: int = 30, *, gap: bool = True) -> bytes:
    """`count` days ending yesterday: the Japanese cold share at 94.9% on one day (94.9%
    cold: 5.1% outside), Korea's under 80% on another, and one day without a snapshot."""
    span = days(END, count)
    bad_jp, bad_kr, missing = span[count // 3], span[count // 2], span[-3]
    snaps = [
        snapshot(d, cold=94_900_000 if d == bad_jp else 70_000_000 if d == bad_kr else 97_000_000)
        for d in span
        if not (gap and d == missing)
    ]
    evidence = Evidence({s.day: Held.of(s) for s in snaps}, DECIMALS, DEFAULT_MATRIX)
    period = Period(span[0], END)
    catalogue = packaged()
    findings = evaluate(catalogue, framework, period, evidence)
    built = reports.build(catalogue, framework, period, findings, evidence, [], None)
    return reports.encode(built)
