"""Deciding the catalogue's controls over a period from the daily snapshots (pure).

`evaluate(catalogue, framework, period, evidence)` returns one `Finding` per control mapped
to the framework, in catalogue order, each with a status:

- ``pass``: every part of the rule was decided from evidence, and holds;
- ``fail``: some part does not hold; `failures` say on which day(s), what value, against
  what limit, and which snapshot rows (by digest) show it;
- ``insufficient_evidence``: nothing failed, but some part could not be decided: a day of
  the period without a snapshot, a field a snapshot does not hold (a back-filled day's
  balances), a part of the rule Kinko does not read yet, or data only the governance
  register will hold (`missing` and `reason` say which). Missing evidence never passes;
- ``manual``: a person attests (no control of the catalogue is manual yet);
- ``not_applicable``: the rule has nothing to apply to on any day (e.g. no customer wallet).

A rule "at every daily snapshot" needs a snapshot of every day of the period; the rules
decided here are all read that way. What each control reads is in `decisions`; the report
format is docs/inspection.md. Nothing here reads the clock or the store: the caller hands
in the snapshots (as values, with their digests), the asset decimals and the conflict matrix.

Memory is bounded by one day, not by the period: the deciders register their daily check
(`daily`) and what they carry from day to day (`Tally.watch`: a trailing price window);
then one walk visits the days in order, hands each day's snapshot to every control's
check and drops it. The snapshots may come as a stream (`Evidence.snapshots`, read once),
so no more than one parsed day need exist at a time.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from enum import StrEnum
from typing import Any

from kinko.core.canonical import canonical_json
from kinko.core.errors import InputError
from kinko.identity.sod import ConflictMatrix
from kinko.inspection.catalogue import Catalogue, Control, Decision, Framework
from kinko.inspection.history import Activity, RegisterHistory, Signature
from kinko.inspection.snapshot import Snapshot
from kinko.inspection.snapshot import _plain as plain
from kinko.reserves.coverage import Outcome

CUSTOMER = "customer"  # a wallet or row owned for customers (owner class)
ACTIVE = "active"  # a key share's or a person's state in a snapshot

MAX_PERIOD_DAYS = 3660

DailyCheck = Callable[[date, Snapshot], None]
"""A control's check of one day's snapshot."""
Watcher = Callable[[date, "Held | None"], None]
"""What sees every day of the walk, held (a snapshot) or not (None)."""


class Status(StrEnum):
    PASS = "pass"  # noqa: S105 (a status, not a password)
    FAIL = "fail"
    INSUFFICIENT_EVIDENCE = "insufficient_evidence"
    MANUAL = "manual"
    NOT_APPLICABLE = "not_applicable"


@dataclass(frozen=True, slots=True)
class Period:
    """The days a run evaluates, both inclusive (UTC days)."""

    start: date
    end: date

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise InputError("--to", f"{self.end} is before --from {self.start}")
        if (self.end - self.start).days >= MAX_PERIOD_DAYS:
            raise InputError("--from", f"a period is at most {MAX_PERIOD_DAYS} days")

    def days(self) -> Iterator[date]:
        day = self.start
        while day <= self.end:
            yield day
            day += timedelta(days=1)


@dataclass(frozen=True, slots=True)
class Held:
    """A snapshot with its digest (computed once)."""

    snapshot: Snapshot
    digest: str

    @classmethod
    def of(cls, snapshot: Snapshot) -> Held:
        return cls(snapshot, snapshot.digest)


@dataclass(frozen=True, slots=True)
class Evidence:
    snapshots: Mapping[date, Held] | Iterable[Held]
    """Every snapshot held from the first day a rule needs (a trailing price window may
    start before the period, `first_needed`) to the period's end: a mapping by day, or a
    stream in ascending day order, read once (one parsed day at a time)."""
    decimals: Mapping[str, int]
    """The asset registry's decimals (``chain:SYMBOL`` -> digits), to value base units."""
    conflicts: ConflictMatrix
    """The separation-of-duties matrix in force now: grants are judged against it."""
    began: date | None = None
    """The first day Kinko holds a snapshot of (None: the first of `snapshots`): days
    before it are not missing from a trailing window, there was nothing to take."""
    register: RegisterHistory | None = None
    """The governance register's versions with when each applied (None: not read)."""
    activity: Mapping[str, Activity] | None = None
    """Per Kinko user id: account creation and sign-in days (None: not read)."""
    signatures: tuple[Signature, ...] | None = None
    """The signature log up to the period's end (None: not read)."""
    deadlines: Mapping[str, timedelta] | None = None
    """The organisation's incident reporting deadline per regime (MON-02; None: not set)."""
    memo: dict[tuple[str, date], Any] = field(default_factory=dict, compare=False, repr=False)
    """What several deciders derive from one day's snapshot, derived once (per evaluation)."""
    reserves: tuple[Outcome, ...] | None = None
    """The proof-of-reserves snapshots of the period's days, with their results (CUS-05;
    None: not read)."""


@dataclass(frozen=True, slots=True)
class Row:
    """One item of a snapshot: `path` names it (``people[u_1]``), `digest` is the SHA-256
    of its canonical JSON, as it stands in the snapshot's document."""

    path: str
    digest: str


def row(path: str, item: Any) -> Row:
    return Row(path, hashlib.sha256(canonical_json(plain(item))).hexdigest())


@dataclass(frozen=True, slots=True)
class Failure:
    start: date
    end: date
    """The failure held on every day from `start` to `end` (with the same value)."""
    check: str
    value: str
    limit: str
    detail: str
    rows: tuple[Row, ...] = ()


@dataclass(frozen=True, slots=True)
class Missing:
    start: date
    end: date
    what: str


@dataclass(frozen=True, slots=True)
class Point:
    day: date
    value: str


@dataclass(frozen=True, slots=True)
class Measure:
    """A ratio a control measured against its minimum (GOV-02's 5-5-7), for a chart."""

    name: str
    value: str
    """A decimal string, or "n/a" (nothing to divide by)."""
    minimum: str


@dataclass(frozen=True, slots=True)
class Finding:
    control: Control
    status: Status
    reason: str
    failures: tuple[Failure, ...]
    missing: tuple[Missing, ...]
    evidence: tuple[date, ...]
    """The days whose snapshots the decision used."""
    series: tuple[Point, ...] = ()
    """A value per day (a cold share), for the reader's chart."""
    measures: tuple[Measure, ...] = ()
    """Ratios against their minimums (the last value of each in the period), for a chart."""


@dataclass
class Tally:
    """What one control's decision collects, day by day."""

    control: Control
    framework: Framework | None = None
    """The framework the run reports on (None: all)."""
    failures: list[Failure] = field(default_factory=list)
    missing: list[Missing] = field(default_factory=list)
    used: set[date] = field(default_factory=set)
    series: list[Point] = field(default_factory=list)
    undecided: list[str] = field(default_factory=list)
    """Parts of the rule not decided from evidence (each makes it insufficient)."""
    applies: bool = False
    """Something the rule applies to was seen (else: not applicable)."""
    check: DailyCheck | None = None
    """The rule's check of one day's snapshot (`daily`), run by the evaluation's walk."""
    watchers: list[Watcher] = field(default_factory=list)
    """What the control carries from day to day (`watch`), fed every day of the walk."""
    measures: dict[str, Measure] = field(default_factory=dict)
    """By name, the last value seen (`measure`)."""
    _failing: dict[tuple[object, ...], int] = field(default_factory=dict, repr=False)
    """The last failure of each (check, value, limit, detail, rows): extended day by day."""
    _lacking: dict[str, int] = field(default_factory=dict, repr=False)

    def fail(  # noqa: PLR0917 (a failure is these six things, in this order)
        self,
        day: date,
        check: str,
        value: object,
        limit: object,
        detail: str,
        rows: tuple[Row, ...] = (),
    ) -> None:
        failure = Failure(day, day, check, str(value), str(limit), detail, rows)
        same = (check, failure.value, failure.limit, detail, rows)
        at = self._failing.get(same)
        if at is not None and self.failures[at].end + timedelta(days=1) == day:
            self.failures[at] = Failure(self.failures[at].start, day, *same)  # one more day
            return
        self._failing[same] = len(self.failures)
        self.failures.append(failure)

    def watch(self, watcher: Watcher) -> None:
        """Feed `watcher` every day of the walk, from the first day needed (`first_needed`)
        to the period's end, held or not, before that day's check."""
        self.watchers.append(watcher)

    def measure(self, name: str, value: str, minimum: object) -> None:
        """Record a ratio (the last one of a name stands) for the reader's chart."""
        self.measures.pop(name, None)
        self.measures[name] = Measure(name, value, str(minimum))

    def lack(self, day: date, what: str) -> None:
        at = self._lacking.get(what)
        if at is not None and self.missing[at].end + timedelta(days=1) == day:
            self.missing[at] = Missing(self.missing[at].start, day, what)
            return
        self._lacking[what] = len(self.missing)
        self.missing.append(Missing(day, day, what))

    def finish(self, reason: str) -> Finding:
        if self.failures:
            status = Status.FAIL
        elif self.missing or self.undecided:
            status = Status.INSUFFICIENT_EVIDENCE
            reason = "; ".join([reason, *self.undecided]) if self.undecided else reason
        elif not self.applies:
            status = Status.NOT_APPLICABLE
        else:
            status = Status.PASS
        failures = sorted(self.failures, key=lambda f: (f.start, f.check, f.detail))
        missing = sorted(self.missing, key=lambda m: (m.start, m.what))
        return Finding(
            self.control,
            status,
            reason,
            tuple(failures),
            tuple(missing),
            tuple(sorted(self.used)),
            tuple(self.series),
            tuple(sorted(self.measures.values(), key=lambda m: m.name)),
        )


NO_SNAPSHOT = "no snapshot of this day"

Decider = Callable[[Tally, Period, Evidence], str]
"""Decides one control into its tally; returns the reason in words. What it decides from
the daily snapshots it registers (`daily`, `Tally.watch`): the walk runs it afterwards."""


def daily(
    tally: Tally,
    period: Period,
    evidence: Evidence,
    check: DailyCheck,
) -> None:
    """Have the walk run `check` on the snapshot of every day of the period (after the
    decider returns); a day without one is missing."""
    del period, evidence  # the walk's: kept in the signature every decider calls it with
    if tally.check is not None:
        raise ValueError(f"{tally.control.id}: a control registers one daily check")
    tally.check = check


def _walk(
    first: date, end: date, snapshots: Mapping[date, Held] | Iterable[Held]
) -> Iterator[tuple[date, Held | None]]:
    """Each day from `first` to `end` with its snapshot (None: none held), in order."""
    if isinstance(snapshots, Mapping):
        day = first
        while day <= end:
            yield day, snapshots.get(day)
            day += timedelta(days=1)
        return
    day = first
    for held in snapshots:
        at = held.snapshot.day
        if at < day:
            if at >= first:
                raise ValueError(f"the snapshots are not in ascending day order at {at}")
            continue  # before the first day needed
        if at > end:
            break
        while day < at:
            yield day, None
            day += timedelta(days=1)
        yield day, held
        day += timedelta(days=1)
    while day <= end:
        yield day, None
        day += timedelta(days=1)


def _run_walk(first: date, period: Period, evidence: Evidence, tallies: list[Tally]) -> None:
    """The one pass over the days: every control's watchers and check see each day; what
    several controls derive from a day (`Evidence.memo`) is dropped with the day."""
    walking = [t for t in tallies if t.check is not None or t.watchers]
    for day, held in _walk(first, period.end, evidence.snapshots):
        in_period = day >= period.start
        for t in walking:
            for watcher in t.watchers:
                watcher(day, held)
            if t.check is None or not in_period:
                continue
            if held is None:
                t.lack(day, NO_SNAPSHOT)
                continue
            t.used.add(day)
            t.check(day, held.snapshot)
        evidence.memo.clear()


def parameter(control: Control, name: str) -> Any:
    for p in control.parameters:
        if p.name == name:
            return p.value
    raise InputError(f"{control.id}.parameters", f"the catalogue names no parameter {name!r}")


def evaluate(
    catalogue: Catalogue, framework: Framework | None, period: Period, evidence: Evidence
) -> tuple[Finding, ...]:
    """One finding per control mapped to `framework` (every control for None)."""
    from kinko.inspection.decisions import DECIDERS

    if evidence.began is None and isinstance(evidence.snapshots, Mapping) and evidence.snapshots:
        evidence = replace(evidence, began=min(evidence.snapshots))
    out: list[Finding | Tally] = []
    reasons: dict[str, str] = {}
    for control in catalogue.for_framework(framework):
        decider = DECIDERS.get(control.id)
        if control.decision is Decision.MANUAL:
            out.append(
                Finding(
                    control,
                    Status.MANUAL,
                    "a person attests this control; attestations are recorded in the "
                    "governance register",
                    (),
                    (),
                    (),
                )
            )
        elif decider is None:
            out.append(
                Finding(control, Status.INSUFFICIENT_EVIDENCE, undecided(control), (), (), ())
            )
        else:
            tally = Tally(control, framework)
            reasons[control.id] = decider(tally, period, evidence)
            out.append(tally)
    tallies = [t for t in out if isinstance(t, Tally)]
    _run_walk(first_needed(catalogue, framework, period), period, evidence, tallies)
    return tuple(o.finish(reasons[o.control.id]) if isinstance(o, Tally) else o for o in out)


def undecided(control: Control) -> str:
    """Why a control Kinko does not decide yet is `insufficient_evidence`."""
    needs = ", ".join(control.data)
    if control.decision is Decision.EVIDENCE_DATED:
        return (
            f"dated evidence ({needs}) is kept in the governance register, which does not "
            "hold it yet: nothing decides this control"
        )
    return f"Kinko does not decide this control from its data yet (it needs: {needs})"


def first_needed(catalogue: Catalogue, framework: Framework | None, period: Period) -> date:
    """The first day whose snapshot the evaluation reads (a trailing price window)."""
    from kinko.inspection.decisions import lookback

    days = max(
        (lookback(c) for c in catalogue.for_framework(framework)),
        default=0,
    )
    return period.start - timedelta(days=days)
