"""The controls decided from the governance register, sign-ins and the signature log, from
values: the register as it stood on each day, stale dated evidence fails, none is
insufficient, never a pass."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import Any

from kinko.identity.sod import DEFAULT_MATRIX
from kinko.inspection.catalogue import packaged
from kinko.inspection.evaluate import Evidence, Finding, Held, Period, Status, evaluate
from kinko.inspection.history import Activity, RegisterHistory, Signature, activity
from kinko.inspection.register import Kind
from kinko.inspection.register_changes import parse_record
from tests.support.clock import RUN_DAY
from tests.unit.inspection.register_seed import at, good_records, history, records
from tests.unit.inspection.seed import DECIMALS, days, snapshot

END = RUN_DAY - timedelta(days=1)
DAYS = days(END, 7)
BEFORE = at(DAYS[0] - timedelta(days=1))
REGISTER_CONTROLS = ("CUS-09", "KEY-05", "KEY-07", "GOV-01", "GOV-02", "GOV-03", "GOV-04",
                     "IR-01", "VUL-01")  # fmt: skip
PEOPLE = ("u_admin", "u_bob", "u_carol")


def fresh_activity() -> dict[str, Activity]:
    return {p: activity(DAYS[0] - timedelta(days=10), [DAYS[0]]) for p in PEOPLE}


def run(
    register: RegisterHistory | None,
    *,
    accounts: dict[str, Activity] | None = None,
    signatures: tuple[Signature, ...] | None = (),
    snaps: Any = None,
) -> dict[str, Finding]:
    held = {s.day: Held.of(s) for s in (snaps or [snapshot(d) for d in DAYS])}
    evidence = Evidence(held, DECIMALS, DEFAULT_MATRIX, None, register,
                        fresh_activity() if accounts is None else accounts, signatures)  # fmt: skip
    found = evaluate(packaged(), None, Period(DAYS[0], END), evidence)
    return {f.control.id: f for f in found}


def good(**changes: Any) -> RegisterHistory:
    raw = good_records(DAYS[0])
    for kind, items in changes.items():
        raw[Kind(kind)] = items
    return history((r, BEFORE) for r in records(raw))


def test_a_kept_register_fails_nothing_and_passes_what_it_fully_decides() -> None:
    found = run(good())
    for control in ("CUS-09", "GOV-01", "GOV-02", "GOV-04", "IR-01", "VUL-01", "IAM-06"):
        assert found[control].status is Status.PASS, found[control]
    # parts the register does not hold keep these from passing, and nothing fails
    for control in ("GOV-03", "KEY-05", "KEY-07"):
        assert found[control].status is Status.INSUFFICIENT_EVIDENCE, found[control]
        assert not found[control].failures
    assert "not held" in found["GOV-03"].reason


def test_missing_register_evidence_is_insufficient_never_a_pass() -> None:
    for register in (None, history([])):
        found = run(register)
        for control in REGISTER_CONTROLS:
            assert found[control].status is Status.INSUFFICIENT_EVIDENCE, (control, register)


def test_the_register_is_read_as_it_stood_on_each_day() -> None:
    raw = good_records(DAYS[0])
    ciso = parse_record(Kind.CISO, raw[Kind.CISO][0])
    others = [r for r in records(raw) if r.key != "ciso"]
    # the CISO is recorded on the period's fourth day: the days before lack it
    found = run(history([*((r, BEFORE) for r in others), (ciso, at(DAYS[3]))]))
    gov01 = found["GOV-01"]
    assert gov01.status is Status.INSUFFICIENT_EVIDENCE
    [missing] = gov01.missing
    assert (missing.start, missing.end) == (DAYS[0], DAYS[2])
    # a CISO given a conflicting duty on the fifth day fails from that day, naming it
    worse = replace(ciso, other_duties=("Head of IT operations",))
    later = run(history([*((r, BEFORE) for r in others), (ciso, BEFORE), (worse, at(DAYS[4]))]))
    [failure] = later["GOV-01"].failures
    assert (failure.start, failure.end) == (DAYS[4], END)
    assert failure.check == "no conflicting duty" and failure.value == "Head of IT operations"
    assert failure.rows[0].path == "register[ciso/ciso]@v2"
    # and a CISO removed on the sixth day is missing again from then on
    gone = run(history([*((r, BEFORE) for r in others), (ciso, BEFORE), ((Kind.CISO, "ciso"),
                        at(DAYS[5]))]))["GOV-01"]  # fmt: skip
    assert [(m.start, m.end) for m in gone.missing] == [(DAYS[5], END)]


def test_a_security_budget_under_7_percent_fails_as_a_recommendation() -> None:
    raw = good_records(DAYS[0])
    staffing = [
        {**s, "budget_minor": 5 * 10**7} if s["function"] == "security" else s
        for s in raw[Kind.STAFFING]
    ]
    found = run(good(staffing=staffing))
    gov02 = found["GOV-02"]
    assert gov02.status is Status.FAIL
    [failure] = gov02.failures
    assert (failure.start, failure.end) == (DAYS[0], END)
    assert failure.check == "security budget / IT budget"
    assert (failure.value, failure.limit) == ("0.0500", "0.07")
    assert "recommendation" in failure.detail and "recommendation" in gov02.reason
    # a fiscal year without its records is missing evidence
    only_old = [s for s in raw[Kind.STAFFING] if s["fiscal_year"] < DAYS[0].year]
    assert run(good(staffing=only_old))["GOV-02"].status is Status.INSUFFICIENT_EVIDENCE


def test_stale_dated_evidence_fails() -> None:
    raw = good_records(DAYS[0])
    old_drill = [
        {**d, "held_on": DAYS[0] - timedelta(days=400)} if d["kind"] == "key_compromise" else d
        for d in raw[Kind.DRILL]
    ]
    ir01 = run(good(drill=old_drill))["IR-01"]
    [failure] = ir01.failures
    assert ir01.status is Status.FAIL and failure.check == "key-compromise drill within 12 months"
    assert failure.value == f"last on {DAYS[0] - timedelta(days=400)}"
    assert (failure.start, failure.end) == (DAYS[0], END)
    # a vendor review due on the third day is overdue from the fourth
    vendor = [{**raw[Kind.VENDOR][0], "next_review_due": DAYS[2], "last_review_on": None}]
    [overdue] = run(good(vendor=vendor))["GOV-04"].failures
    assert (overdue.start, overdue.end, overdue.value) == (DAYS[3], END, f"due {DAYS[2]}")
    # a critical pen-test finding open 30 days after the report fails
    test = dict(raw[Kind.ASSESSMENT][0])
    test["reported_on"] = DAYS[0] - timedelta(days=40)
    test["findings"] = [{"id": "F-9", "severity": "critical", "title": "RCE"}]
    vul = run(good(assessment=[test, raw[Kind.ASSESSMENT][1]]))["VUL-01"]
    assert vul.status is Status.FAIL and vul.failures[0].value == "F-9 (critical) open"


def test_a_dormant_account_fails_and_an_unknown_one_is_missing() -> None:
    accounts = fresh_activity()
    accounts["u_bob"] = activity(DAYS[0] - timedelta(days=200), [DAYS[0] - timedelta(days=95)])
    iam06 = run(good(), accounts=accounts)["IAM-06"]
    [failure] = iam06.failures
    assert (failure.start, failure.end) == (DAYS[0], END)
    assert failure.value == f"no sign-in since {DAYS[0] - timedelta(days=95)}"
    assert failure.limit == "90 days" and "(u_bob), privileged" in failure.detail
    del accounts["u_bob"]
    unknown = run(good(), accounts=accounts)["IAM-06"]
    assert unknown.status is Status.INSUFFICIENT_EVIDENCE
    assert unknown.missing[0].what == "people[u_bob]: no account record to read sign-ins from"


def test_a_repeated_nonce_fails_from_the_day_it_was_recorded() -> None:
    def sig(txid: str, r: str, digest: str, day: int) -> Signature:
        return Signature("ethereum", txid, "02" + "ab" * 32, r, "11" * 32, digest, DAYS[day])

    fine = (sig("0x1", "01" * 32, "aa" * 32, 0), sig("0x2", "02" * 32, "bb" * 32, 1))
    assert run(good(), signatures=fine)["KEY-08"].status is Status.PASS
    repeated = (*fine, sig("0x3", "01" * 32, "cc" * 32, 4))
    key08 = run(good(), signatures=repeated)["KEY-08"]
    [failure] = key08.failures
    assert (failure.start, failure.end) == (DAYS[4], END)
    assert failure.value == f"r {'01' * 32} in 2 signatures" and "one key" in failure.detail
    assert {r.path for r in failure.rows} == {"signature_log[ethereum:0x1]",
                                              "signature_log[ethereum:0x3]"}  # fmt: skip
    assert run(good(), signatures=())["KEY-08"].status is Status.INSUFFICIENT_EVIDENCE
