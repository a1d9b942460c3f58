"""Controls decided from the governance register, day by day (pure).

Each day of the period reads the register as it stood at the end of that day
(`RegisterHistory.on`): a record applied later says nothing about earlier days. Dated
evidence is judged against the control's interval (an organisation-defined parameter of
the catalogue): none recorded is missing evidence (`insufficient_evidence`: the register
may just not be kept); recorded but older than the interval, or a finding past its due
date, is a failure (the register itself shows the rule broken). A failure's rows name the
register record (``register[KIND/KEY]@vN``) and its digest, the one the record's
``inspection.register_change`` audit entry holds. docs/inspection.md lists the rules.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from kinko.inspection.dated import (
    interval,
    latest_dated,
    mentions,
    on_register,
    overdue,
    register_row,
    terms,
)
from kinko.inspection.evaluate import (
    Decider,
    Evidence,
    Period,
    Row,
    Tally,
    daily,
    parameter,
)
from kinko.inspection.history import Entry
from kinko.inspection.register import (
    Assessment,
    AssessmentKind,
    Check,
    CheckKind,
    CheckResult,
    Ciso,
    Drill,
    DrillKind,
    Engagement,
    Kind,
    MaturityStage,
    Staffing,
    Vendor,
)
from kinko.inspection.snapshot import Snapshot

# ---------------------------------------------------------------- governance


def gov_01(t: Tally, period: Period, evidence: Evidence) -> str:
    register = on_register(t, evidence)
    conflicting, lines = terms(t, "conflicting_duties"), terms(t, "reporting_lines")
    for day in period.days() if register else ():
        found = register.of(day, Kind.CISO) if register else ()
        if not found:
            t.lack(day, "the register holds no CISO record")
            continue
        entry = found[0]
        c = entry.record
        assert isinstance(c, Ciso)
        t.applies = True
        if c.since > day:
            t.lack(day, f"the CISO recorded took office on {c.since}: before that, not recorded")
            continue
        if not c.independent:
            t.fail(day, "independent", "false", "true", f"CISO {c.person}", register_row(entry))
        for duty in c.other_duties:
            if mentions(duty, conflicting):
                t.fail(day, "no conflicting duty", duty, "none of: " + "; ".join(conflicting),
                       f"CISO {c.person} also: {duty}", register_row(entry))  # fmt: skip
        if not mentions(c.reports_to, lines):
            t.fail(day, "reporting line", c.reports_to, "one of: " + "; ".join(lines),
                   f"CISO {c.person}", register_row(entry))  # fmt: skip
    return (
        "a CISO is recorded on every day, independent, with no duty of the conflicting "
        "ones (organisation-defined conflicting_duties) and reporting to one of reporting_lines"
    )


def _fiscal_year(day: date, start: str) -> int:
    month, _, dom = start.partition("-")
    return day.year if (day.month, day.day) >= (int(month), int(dom)) else day.year - 1


def gov_02(t: Tally, period: Period, evidence: Evidence) -> str:
    register = on_register(t, evidence)
    start = str(parameter(t.control, "fiscal_year_start"))
    ratios = {n: Decimal(str(parameter(t.control, n))) for n in
              ("it_staff_ratio", "security_staff_ratio", "security_budget_ratio")}  # fmt: skip
    note = "5-5-7 is a recommendation (Korea's FSI and KISA ISMS 1.1.6), not a legal minimum"
    for day in period.days() if register else ():
        year = _fiscal_year(day, start)
        held = {e.key: e for e in (register.of(day, Kind.STAFFING) if register else ())}
        rows: dict[str, Entry] = {}
        for function in ("total", "it", "security"):
            entry = held.get(f"{year}/{function}")
            if entry is None:
                t.lack(day, f"the register holds no staffing record {year}/{function}")
            else:
                rows[function] = entry
        if len(rows) < 3:
            continue
        t.applies = True
        total, it, sec = (rows[f].record for f in ("total", "it", "security"))
        assert isinstance(total, Staffing) and isinstance(it, Staffing)
        assert isinstance(sec, Staffing)
        checks = [
            ("IT staff / all staff", it.headcount, total.headcount, "it_staff_ratio", "it",
             "total"),
            ("security staff / IT staff", sec.headcount, it.headcount, "security_staff_ratio",
             "security", "it"),
        ]  # fmt: skip
        if sec.currency == it.currency:
            checks.append(("security budget / IT budget", sec.budget_minor, it.budget_minor,
                           "security_budget_ratio", "security", "it"))  # fmt: skip
        else:
            t.lack(day, f"fiscal year {year}: IT and security budgets in different currencies")
        for check, part, whole, name, numerator, denominator in checks:
            value = Decimal(part) / Decimal(whole) if whole else None
            t.measure(f"{year}: {check}", "n/a" if value is None else f"{value:.4f}",
                      ratios[name])  # fmt: skip
            if value is None or value < ratios[name]:
                shown = "n/a (nothing to divide by)" if value is None else f"{value:.4f}"
                unit = f" {sec.currency} minor units" if "budget" in check else ""
                t.fail(day, check, shown, ratios[name],
                       f"fiscal year {year}: {part} of {whole}{unit} ({note})",
                       register_row(rows[numerator]) + register_row(rows[denominator]))  # fmt: skip
    return (
        "in the fiscal year of each day: IT staff >= it_staff_ratio of all staff, security "
        "staff >= security_staff_ratio of IT staff, security budget >= security_budget_ratio "
        f"of the IT budget; {note}"
    )


def gov_03(t: Tally, period: Period, evidence: Evidence) -> str:
    register = on_register(t, evidence)
    earliest, words = interval(t, "audit_interval")
    scope = terms(t, "audit_scope")
    stages = list(MaturityStage)
    least = MaturityStage(str(parameter(t.control, "min_maturity_stage")))
    for day in period.days() if register else ():
        engagements = [e for e in (register.of(day, Kind.ENGAGEMENT) if register else ())]
        dated = []
        for e in engagements:
            g = e.record
            assert isinstance(g, Engagement)
            overdue(t, day, e, g.findings)
            if g.reported_on is not None and mentions(f"{g.title} {g.scope}", scope):
                dated.append((g.reported_on, e))
        entry = latest_dated(t, day, dated, "internal-audit report on wallet management",
                        earliest, words)  # fmt: skip
        if entry is None:
            continue
        g = entry.record
        assert isinstance(g, Engagement)
        if stages.index(g.stage) < stages.index(least):
            t.fail(day, "FSA maturity stage", g.stage.value, f"{least.value} or later",
                   f"engagement {g.ref}", register_row(entry))  # fmt: skip
        if not g.risk_based_plan:
            t.fail(day, "risk-based audit plan", "false", "true", f"engagement {g.ref}",
                   register_row(entry))  # fmt: skip
    t.undecided.append(
        "that internal audit reports outside the CISO/CTO line and that its auditors hold "
        "IT-audit credentials is not held in the register"
    )
    return (
        f"an internal-audit engagement on wallet management (audit_scope) reported within "
        f"{words}, chosen by a risk-based plan, at FSA maturity stage {least.value} or later; "
        "engagement findings remediated by their due dates"
    )


def gov_04(t: Tally, period: Period, evidence: Evidence) -> str:
    register = on_register(t, evidence)
    for day in period.days() if register else ():
        vendors = register.of(day, Kind.VENDOR) if register else ()
        if not vendors:
            t.lack(day, "the register lists no vendor")
            continue
        t.applies = True
        for entry in vendors:
            v = entry.record
            assert isinstance(v, Vendor)
            if v.next_review_due < day:
                what = f"{v.service}, risk {v.risk.value}" + (", critical" if v.critical else "")
                t.fail(day, "vendor review not overdue", f"due {v.next_review_due}",
                       "reviewed by its due date", f"vendor {v.name} ({what})",
                       register_row(entry))  # fmt: skip
    return "every vendor in the register is reviewed by its next_review_due, on every day"


# ---------------------------------------------------------------- drills, tests, checks


def ir_01(t: Tally, period: Period, evidence: Evidence) -> str:
    register = on_register(t, evidence)
    earliest, words = interval(t, "drill_interval")
    for day in period.days() if register else ():
        drills = register.of(day, Kind.DRILL) if register else ()
        for kind in (DrillKind.KEY_COMPROMISE, DrillKind.INCIDENT):
            dated = []
            for e in drills:
                d = e.record
                assert isinstance(d, Drill)
                if d.kind is kind:
                    overdue(t, day, e, d.findings)
                    dated.append((d.held_on, e))
            what = kind.value.replace("_", "-") + " drill"
            latest = latest_dated(t, day, dated, what, earliest, words)
            lessons = latest.record if latest is not None else None
            if isinstance(lessons, Drill) and not (lessons.findings or lessons.attachments):
                t.lack(day, f"drill {lessons.ref}: no lessons recorded (findings or a report)")
        restores = []
        for e in register.of(day, Kind.CHECK) if register else ():
            c = e.record
            assert isinstance(c, Check)
            if c.kind is CheckKind.BACKUP_RESTORE:
                restores.append((c.checked_on, e))
        latest = latest_dated(t, day, restores, "restore test", earliest, words)
        if latest is not None and latest.record.result is CheckResult.FAIL:  # type: ignore[union-attr]
            t.fail(day, "restore test result", "fail", "pass", latest.key, register_row(latest))
    return f"a key-compromise drill, an incident drill and a restore test, each within {words}"


def vul_01(t: Tally, period: Period, evidence: Evidence) -> str:
    register = on_register(t, evidence)
    earliest, words = interval(t, "test_interval")
    fix = int(parameter(t.control, "critical_fix_within"))
    for day in period.days() if register else ():
        tests = []
        for e in register.of(day, Kind.ASSESSMENT) if register else ():
            a = e.record
            assert isinstance(a, Assessment)
            reported = a.reported_on
            by = None if reported is None else reported + timedelta(days=fix)
            overdue(t, day, e, a.findings, critical_by=by)
            if a.kind is AssessmentKind.PENETRATION_TEST and reported is not None:
                tests.append((reported, e))
        latest_dated(t, day, tests, "penetration test report", earliest, words)
    return (
        f"a penetration test reported within {words}; findings of tests and audits remediated "
        f"by their due dates, critical ones within {fix} days of the report"
    )


def cus_09(t: Tally, period: Period, evidence: Evidence) -> str:
    register = on_register(t, evidence)
    earliest, words = interval(t, "audit_interval")
    scope = terms(t, "audit_scope")
    for day in period.days() if register else ():
        audits = []
        for e in register.of(day, Kind.ASSESSMENT) if register else ():
            a = e.record
            assert isinstance(a, Assessment)
            if a.kind is not AssessmentKind.THIRD_PARTY_AUDIT or not mentions(a.scope, scope):
                continue
            if a.reported_on is not None:
                audits.append((a.reported_on, e))
        latest = latest_dated(t, day, audits, "segregation audit report", earliest, words)
        if latest is None:
            continue
        a = latest.record
        assert isinstance(a, Assessment)
        for f in a.findings:
            if f.due_on is None and (f.remediated_on is None or f.remediated_on > day):
                t.fail(day, "open exception has a dated remediation plan", f"{f.id} undated",
                       "a due date", f"audit {a.ref}: {f.title}", register_row(latest))  # fmt: skip
        overdue(t, day, latest, a.findings)
    return (
        f"a third-party segregation audit (audit_scope) reported within {words}; each open "
        "exception has a due date and none is past it"
    )


def key_05(t: Tally, period: Period, evidence: Evidence) -> str:
    register = on_register(t, evidence)
    earliest, words = interval(t, "seal_inspection_interval")
    for day in period.days() if register else ():
        seals: dict[str, list[tuple[date, Entry]]] = {}
        for e in register.of(day, Kind.CHECK) if register else ():
            c = e.record
            assert isinstance(c, Check)
            if c.kind is CheckKind.SEAL and c.checked_on <= day:
                seals.setdefault(c.subject, []).append((c.checked_on, e))
        if not seals:
            t.lack(day, "the register holds no seal check")
        for subject, checks in sorted(seals.items()):
            latest = latest_dated(t, day, checks, f"seal check of {subject}", earliest, words)
            seal = latest.record if latest is not None else None
            if latest is not None and isinstance(seal, Check):
                c = seal
                if c.result is CheckResult.FAIL:
                    t.fail(day, "seal intact", "fail", "pass", f"{subject}: check {c.ref}",
                           register_row(latest))  # fmt: skip
                if c.next_due is not None and c.next_due < day:
                    t.fail(day, "seal check by its due date", f"due {c.next_due}", "checked",
                           f"{subject}: check {c.ref}", register_row(latest))  # fmt: skip
    t.undecided.append(
        "that backups exist for at least m keys, at a site other than the primary, with "
        "their seal ids, is not held by Kinko (the key inventory records no backups)"
    )
    return f"every sealed backup's latest seal check passed, within {words} and by its due date"


def key_07(t: Tally, period: Period, evidence: Evidence) -> str:
    register = on_register(t, evidence)

    def check(day: date, snap: Snapshot) -> None:
        ceremonies = register.of(day, Kind.CEREMONY) if register else ()
        active: dict[str, set[str]] = {}
        for k in snap.keys:
            if k.status == "active":
                active.setdefault(k.wallet, set()).add(k.holder)
        for w in snap.wallets:
            holders = sorted(active.get(w.id, ()))
            if not w.active or not holders:
                continue
            t.applies = True
            mine = [e for e in ceremonies if getattr(e.record, "wallet", None) in (w.id, w.name)
                    and getattr(e.record, "purpose", None) == "generation"
                    and e.record.held_on <= day]  # type: ignore[union-attr]  # fmt: skip
            if not mine:
                t.lack(day, f"the register holds no generation ceremony of wallet {w.name}")
                continue
            present = {p for e in mine for p in e.record.participants}  # type: ignore[union-attr]
            absent = [h for h in holders if h not in present]
            if absent:
                t.fail(day, "each key generated by its holder", ", ".join(absent),
                       "every holder took part", f"wallet {w.name} ({w.id})",
                       tuple(Row(e.path, e.digest) for e in mine))  # fmt: skip

    if register is not None:
        daily(t, period, evidence, check)
    t.undecided.append(
        "level II's verified software signature and level III's DRBG or tested TRNG are not "
        "held in the register"
    )
    return (
        "every active wallet's key shares were generated at a recorded generation ceremony in "
        "which each holder took part, before the day"
    )


REGISTER_DECIDERS: dict[str, Decider] = {
    "CUS-09": cus_09,
    "KEY-05": key_05,
    "KEY-07": key_07,
    "GOV-01": gov_01,
    "GOV-02": gov_02,
    "GOV-03": gov_03,
    "GOV-04": gov_04,
    "IR-01": ir_01,
    "VUL-01": vul_01,
}
