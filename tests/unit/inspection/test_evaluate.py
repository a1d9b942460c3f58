"""The pure evaluator (kinko.inspection.evaluate): each control the snapshots decide, from
snapshots built as values; missing evidence is never a pass."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

import pytest

from kinko.core.errors import InputError
from kinko.identity.permissions import Role
from kinko.identity.sod import DEFAULT_MATRIX, ConflictMatrix, ConflictRule
from kinko.inspection.catalogue import Decision, Framework, packaged
from kinko.inspection.evaluate import Evidence, Finding, Held, Period, Status, evaluate
from kinko.inspection.snapshot import Snapshot
from tests.support.clock import RUN_DAY
from tests.unit.inspection.seed import DECIMALS, days, snapshot

END = RUN_DAY - timedelta(days=1)
DAYS = days(END, 7)
BAD_DAY = DAYS[3]


def run(
    snaps: list[Snapshot],
    framework: Framework | None = Framework.JP,
    period: Period | None = None,
    matrix: ConflictMatrix = DEFAULT_MATRIX,
) -> dict[str, Finding]:
    evidence = Evidence({s.day: Held.of(s) for s in snaps}, DECIMALS, matrix)
    found = evaluate(packaged(), framework, period or Period(DAYS[0], END), evidence)
    return {f.control.id: f for f in found}


def test_a_japanese_cold_share_of_94_9_percent_on_one_day_fails_naming_that_day() -> None:
    snaps = [snapshot(d, cold=94_900_000 if d == BAD_DAY else 97_000_000) for d in DAYS]
    found = run(snaps)
    cus01 = found["CUS-01"]
    assert cus01.status is Status.FAIL
    [failure] = cus01.failures
    assert (failure.start, failure.end) == (BAD_DAY, BAD_DAY)
    assert failure.value == "0.051000" and failure.limit == "0.05"
    assert "outside cold 765000.00 JPY" in failure.detail
    assert failure.rows[0].path == f"liabilities[{snaps[0].liabilities[0].asset}]"  # type: ignore[index]
    assert cus01.evidence == tuple(DAYS)
    assert [p.value for p in cus01.series] == [
        "0.051000" if d == BAD_DAY else "0.030000" for d in DAYS
    ]
    for control in ("KEY-01", "IAM-01", "IAM-03"):
        assert found[control].status is Status.PASS, found[control]
        assert found[control].evidence == tuple(DAYS)
    # full reserve also needs the proof-of-reserves snapshots (none read here)
    assert found["CUS-05"].status is Status.INSUFFICIENT_EVIDENCE
    assert "proof-of-reserves snapshots were not read" in found["CUS-05"].reason
    assert found["CUS-05"].evidence == tuple(DAYS)
    # every control mapped to jp is there, in catalogue order; the rest lack evidence
    assert list(found) == [c.id for c in packaged().for_framework(Framework.JP)]
    decided = {"CUS-01", "CUS-05", "KEY-01", "IAM-01", "IAM-03"}
    for control, finding in found.items():
        if control not in decided:
            assert finding.status is Status.INSUFFICIENT_EVIDENCE, control
            assert finding.reason


def test_a_day_without_a_snapshot_is_insufficient_evidence_never_a_pass() -> None:
    snaps = [snapshot(d) for d in DAYS if d != BAD_DAY]
    found = run(snaps)
    for control in ("CUS-01", "CUS-05", "KEY-01", "IAM-01", "IAM-03"):
        finding = found[control]
        assert finding.status is Status.INSUFFICIENT_EVIDENCE, control
        [missing] = finding.missing
        assert (missing.start, missing.end, missing.what) == (
            BAD_DAY,
            BAD_DAY,
            "no snapshot of this day",
        )
    # ... while a failure on another day still fails
    snaps[0] = snapshot(DAYS[0], cold=90_000_000)
    assert run(snaps)["CUS-01"].status is Status.FAIL


def test_a_snapshot_without_balances_is_insufficient_for_the_cold_share() -> None:
    snaps = [snapshot(d) for d in DAYS]
    snaps[2] = replace(snaps[2], balances=None, origin=snaps[2].origin)
    found = run(snaps)
    assert found["CUS-01"].status is Status.INSUFFICIENT_EVIDENCE
    assert found["CUS-01"].missing[0].what.startswith("balances: the snapshot does not hold")
    assert found["KEY-01"].status is Status.PASS  # wallets are still there


def test_korea_values_at_the_trailing_average_price_and_fails_under_80_percent() -> None:
    snaps = [snapshot(d, cold=79_000_000 if d == END else 97_000_000) for d in DAYS]
    found = run(snaps, Framework.KR)
    cus02 = found["CUS-02"]
    assert cus02.status is Status.FAIL
    [failure] = cus02.failures
    assert failure.start == END and failure.value == "0.790000" and failure.limit == "0.8"
    # the window reaches back before the period: those days are evidence too
    later = run(snaps, Framework.KR, Period(DAYS[4], END))["CUS-02"]
    assert later.evidence == tuple(DAYS)
    # a gap inside the window (after the first snapshot held) is missing evidence
    gappy = [s for s in snaps if s.day != DAYS[1]]
    window = run(gappy, Framework.KR, Period(DAYS[4], DAYS[5]))["CUS-02"]
    assert window.status is Status.INSUFFICIENT_EVIDENCE
    assert "lacks the snapshots of 1 day(s)" in window.missing[0].what


def test_key_shares_on_one_device_and_a_weak_quorum_fail_under_ccss() -> None:
    snaps = [snapshot(d, shared_device=d == BAD_DAY, hot_quorum=(1, 1)) for d in DAYS]
    found = run(snaps, Framework.CCSS)
    key02 = found["KEY-02"]
    assert key02.status is Status.FAIL
    device = [f for f in key02.failures if f.check == "one key share per device"]
    assert [(f.start, f.end) for f in device] == [(BAD_DAY, BAD_DAY)]
    assert {r.path for r in device[0].rows} == {"keys[ks_w-cold_0]", "keys[ks_w-cold_1]"}
    key01 = found["KEY-01"]  # a 1-of-1 customer wallet, every day: one merged failure
    assert [(f.start, f.end, f.value) for f in key01.failures] == [(DAYS[0], END, "1-of-1")]
    key03 = found["KEY-03"]  # the 1-of-1 wallet's one share is on one site, one entity
    assert key03.status is Status.FAIL
    assert {(f.check, f.detail) for f in key03.failures} == {
        ("level II: distinct sites", "wallet w-hot (w-hot): site-0"),
        ("level III: distinct legal entities", "wallet w-hot (w-hot): entity-0"),
    }
    # level III's three factor types are not read: IAM-01 cannot pass under ccss
    assert found["IAM-01"].status is Status.INSUFFICIENT_EVIDENCE
    assert "level III" in found["IAM-01"].reason


def test_one_device_spelt_two_ways_is_one_device() -> None:
    def spelt(day: date) -> Snapshot:
        snap = snapshot(day)
        keys = list(snap.keys)
        keys[1] = replace(keys[1], device=" " + keys[0].device.upper())  # "W-COLD-HSM-0"
        return replace(snap, keys=tuple(keys))

    key02 = run([spelt(d) for d in DAYS], Framework.CCSS)["KEY-02"]
    [failure] = key02.failures
    assert failure.check == "one key share per device" and (failure.start, failure.end) == (
        DAYS[0],
        END,
    )
    assert "W-COLD-HSM-0 / w-cold-hsm-0" in failure.detail


def test_a_grant_conflicting_under_the_matrix_in_force_now_fails() -> None:
    snaps = [snapshot(d, grants=("approver", "auditor")) for d in DAYS]
    assert run(snaps)["IAM-03"].status is Status.PASS  # not a conflict by default
    stricter = ConflictMatrix((*DEFAULT_MATRIX.rules, ConflictRule(Role.APPROVER, Role.AUDITOR)))
    iam03 = run(snaps, matrix=stricter)["IAM-03"]
    assert iam03.status is Status.FAIL
    [failure] = iam03.failures
    assert (failure.start, failure.end) == (DAYS[0], END)
    assert failure.value == "approver + auditor" and "bob (u_bob)" in failure.detail
    assert failure.rows[0].path == "people[u_bob]"


def test_a_privileged_person_without_a_security_key_fails_mfa() -> None:
    snaps = [snapshot(d) for d in DAYS]
    bob = replace(snaps[5].people[1], webauthn=0, totp=1)
    snaps[5] = replace(snaps[5], people=(snaps[5].people[0], bob, snaps[5].people[2]))
    iam01 = run(snaps)["IAM-01"]
    assert iam01.status is Status.FAIL
    [failure] = iam01.failures
    assert failure.start == DAYS[5] and failure.check == "phishing-resistant factor"


def test_a_stale_screening_list_fails_and_fresh_ones_do_not_pass_alone() -> None:
    snaps = [snapshot(d) for d in DAYS]
    aml = run(snaps, Framework.KR)["AML-02"]
    assert aml.status is Status.INSUFFICIENT_EVIDENCE  # per-transfer screening not read
    stale = replace(snaps[6].screening_lists[0], published="2000-01-01T00:00:00.000000Z")
    snaps[6] = replace(snaps[6], screening_lists=(stale,))
    aml = run(snaps, Framework.KR)["AML-02"]
    assert aml.status is Status.FAIL and aml.failures[0].start == END


def test_controls_for_the_register_say_so_and_the_period_is_checked() -> None:
    found = run([snapshot(d) for d in DAYS], None)
    assert len(found) == len(packaged().controls)
    dated = [c for c in packaged().controls if c.decision is Decision.EVIDENCE_DATED]
    for control in dated:
        assert found[control.id].status is Status.INSUFFICIENT_EVIDENCE
        assert "governance register" in found[control.id].reason
    with pytest.raises(InputError, match="before --from"):
        Period(END, DAYS[0])
    with pytest.raises(InputError) as excinfo:
        Period(date(2000, 1, 1), date(2020, 1, 1))
    assert excinfo.value.field == "--from"
