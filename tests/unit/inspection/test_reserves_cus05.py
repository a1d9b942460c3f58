"""CUS-05 (full reserve) decided from the proof-of-reserves snapshots of the period."""

from __future__ import annotations

from datetime import timedelta

from kinko.identity.sod import DEFAULT_MATRIX
from kinko.inspection.catalogue import Framework, packaged
from kinko.inspection.evaluate import Evidence, Finding, Held, Period, Status, evaluate
from kinko.reserves.coverage import Coverage, Outcome
from tests.support.clock import RUN_DAY
from tests.unit.inspection.seed import DECIMALS, days, snapshot

END = RUN_DAY - timedelta(days=1)
DAYS = days(END, 7)
BTC, ETH = "bitcoin:BTC", "ethereum:ETH"


def _outcome(at: int, eth_reserves: int = 5, *, name: str = "a") -> Outcome:
    day = DAYS[at]
    assets = (Coverage(BTC, 0, 0), Coverage(ETH, 4, eth_reserves))
    return Outcome(f"{day.isoformat()}.{name}", day, 10 + at, "ab" * 32, assets, (20 + at,))


def _cus05(reserves: tuple[Outcome, ...] | None) -> Finding:
    held = {d: Held.of(snapshot(d)) for d in DAYS}
    evidence = Evidence(held, DECIMALS, DEFAULT_MATRIX, reserves=reserves)
    found = evaluate(packaged(), Framework.JP, Period(DAYS[0], END), evidence)
    return next(f for f in found if f.control.id == "CUS-05")


def test_every_snapshot_of_the_period_passed_per_asset_passes_citing_them() -> None:
    finding = _cus05((_outcome(1), _outcome(5)))
    assert finding.status is Status.PASS, finding
    assert f"{DAYS[1].isoformat()}.a (audit #11)" in finding.reason
    assert f"{DAYS[5].isoformat()}.a (audit #15)" in finding.reason


def test_one_asset_short_in_one_snapshot_fails_on_its_day_citing_its_entries() -> None:
    finding = _cus05((_outcome(1), _outcome(5, eth_reserves=3, name="b")))
    assert finding.status is Status.FAIL
    [failure] = finding.failures
    assert (failure.start, failure.check, failure.value, failure.limit) == (
        DAYS[5],
        "proof of reserves",
        "3",
        "4",
    )
    assert ETH in failure.detail and "audit entries #15, #25" in failure.detail
    assert failure.rows[0].path == f"reserves[{DAYS[5].isoformat()}.b]"


def test_no_snapshot_in_the_period_is_insufficient_evidence_never_a_pass() -> None:
    outside = Outcome("old", DAYS[0] - timedelta(days=3), 1, "00" * 32, (Coverage(ETH, 1, 1),))
    for reserves in ((), (outside,), None):
        finding = _cus05(reserves)
        assert finding.status is Status.INSUFFICIENT_EVIDENCE, reserves
        assert "proof-of-reserves snapshot" in finding.reason
