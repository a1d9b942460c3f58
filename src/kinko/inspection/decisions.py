"""What each control decided from the daily snapshots reads, and how (pure): the
custody and reserves controls here, the others by theme beside it (`decisions_keys`,
`decisions_people`, `decisions_register`, `decisions_records`, `decisions_incidents`),
all gathered in `DECIDERS`.

Each decider walks the period day by day (`evaluate.daily`: a day without a snapshot is
missing evidence) and records failures with the day, the value, the limit and the rows
that show it. Parameters come from the catalogue. docs/inspection.md lists the rules in
words; a part of a rule that the snapshots cannot decide is named in the finding's reason
and keeps it from passing.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from datetime import date
from decimal import Decimal, localcontext

from kinko.inspection.catalogue import Control
from kinko.inspection.decisions_incidents import INCIDENT_DECIDERS
from kinko.inspection.decisions_keys import KEY_DECIDERS
from kinko.inspection.decisions_people import PEOPLE_DECIDERS
from kinko.inspection.decisions_records import RECORD_DECIDERS
from kinko.inspection.decisions_register import REGISTER_DECIDERS
from kinko.inspection.evaluate import (
    CUSTOMER,
    Decider,
    Evidence,
    Period,
    Point,
    Row,
    Tally,
    daily,
    parameter,
    row,
)
from kinko.inspection.prices import EXACT, TrailingPrices, ratio, value_of
from kinko.inspection.snapshot import Balance, Balances, Liability, Snapshot

COLD = "cold"


# ---------------------------------------------------------------- custody


Sums = tuple[dict[str, int], dict[str, int], dict[str, int]]


def _customer_sums(t: Tally, day: date, snap: Snapshot, evidence: Evidence) -> Sums | None:
    """Per asset: customer units outside cold (hot, warm), in cold, and owed; None (and
    the lack recorded) when the snapshot does not hold balances or liabilities."""
    if snap.balances is None or snap.liabilities is None:
        which = "balances" if snap.balances is None else "liabilities"
        t.lack(day, f"{which}: the snapshot does not hold them (see its gaps)")
        return None
    key = ("customer_sums", day)
    if key not in evidence.memo:  # three controls read them: summed once a day
        evidence.memo[key] = _sums(snap, snap.balances, snap.liabilities)
    sums, stranger, applies = evidence.memo[key]
    if stranger is not None:
        t.lack(day, f"balances[{stranger}]: no such wallet in the snapshot")
        return None
    if applies:
        t.applies = True
    return sums  # type: ignore[no-any-return]


def _sums(
    snap: Snapshot, balances: Sequence[Balance], liabilities: tuple[Liability, ...]
) -> tuple[Sums, str | None, bool]:
    """`_customer_sums`'s sums, the first balance's wallet not in the snapshot (or None),
    and whether the rule applies."""
    tiers = {w.id: (w.tier, w.owner_class) for w in snap.wallets}
    outside: dict[str, int] = defaultdict(int)
    cold: dict[str, int] = defaultdict(int)
    columns = (
        zip(balances.wallets, balances.assets, balances.units, strict=True)
        if isinstance(balances, Balances)
        else ((b.wallet, b.asset, b.base_units) for b in balances)
    )
    for wallet, asset, units in columns:
        if wallet not in tiers:
            return ({}, {}, {}), wallet, False
        tier, owner = tiers[wallet]
        if owner == CUSTOMER:
            (cold if tier == COLD else outside)[asset] += units
    owed = {li.asset: li.base_units for li in liabilities}
    applies = bool(owed or outside or cold) or any(w.owner_class == CUSTOMER for w in snap.wallets)
    return (dict(outside), dict(cold), owed), None, applies


def _cold_share(t: Tally, period: Period, evidence: Evidence, *, korea: bool) -> str:
    c = t.control
    if korea:
        floor = Decimal(str(parameter(c, "min_cold_share")))
        window = int(parameter(c, "price_average_window"))
        trailing = TrailingPrices("KRW", window, evidence.began)
        t.watch(trailing.observe)
    else:
        cap = Decimal(str(parameter(c, "max_non_cold_share")))

    def check(day: date, snap: Snapshot) -> None:
        with localcontext(EXACT):
            decide(day, snap)

    def decide(day: date, snap: Snapshot) -> None:
        sums = _customer_sums(t, day, snap, evidence)
        if sums is None:
            return
        outside_units, cold_units, owed_units = sums
        if korea:
            prices, used, gaps = trailing.at(day)
            t.used.update(used)
            if gaps:
                t.lack(day, gaps)
                return
        else:
            prices = {p.asset: Decimal(p.price) for p in snap.prices if p.currency == "JPY"}
        currency = "KRW" if korea else "JPY"
        outside = value_of(t, day, outside_units, prices, evidence.decimals, currency)
        cold = value_of(t, day, cold_units, prices, evidence.decimals, currency)
        owed = value_of(t, day, owed_units, prices, evidence.decimals, currency)
        if outside is None or cold is None or owed is None:
            return
        cold_share = ratio(cold, owed)
        outside_share = ratio(outside, owed)
        shown = cold_share if korea else outside_share
        t.series.append(Point(day, "n/a" if shown is None else f"{shown:.6f}"))
        words = (
            f"customer crypto in cold {cold:.2f} {currency}, outside cold {outside:.2f} "
            f"{currency}, owed {owed:.2f} {currency}"
        )
        if korea and (cold_share is None or cold_share < floor) and owed:
            t.fail(day, "cold share", f"{cold_share:.6f}", floor, words, _owed_rows(snap))
        if not korea and outside > cap * owed:
            value = "n/a (nothing owed)" if outside_share is None else f"{outside_share:.6f}"
            t.fail(day, "share outside cold", value, cap, words, _owed_rows(snap))

    daily(t, period, evidence, check)
    if korea:
        return (
            f"cold value / value owed >= {floor} on every day, valued at the trailing "
            f"{window}-day average KRW price held in the snapshots"
        )
    return f"value outside cold <= {cap} x value owed (JPY) on every day"


def _owed_rows(snap: Snapshot) -> tuple[Row, ...]:
    """The liabilities' rows (digested only for a failure: most days pass)."""
    return tuple(row(f"liabilities[{li.asset}]", li) for li in snap.liabilities or ())


def cus_01(t: Tally, period: Period, evidence: Evidence) -> str:
    return _cold_share(t, period, evidence, korea=False)


def cus_02(t: Tally, period: Period, evidence: Evidence) -> str:
    return _cold_share(t, period, evidence, korea=True)


def cus_05(t: Tally, period: Period, evidence: Evidence) -> str:
    def check(day: date, snap: Snapshot) -> None:
        sums = _customer_sums(t, day, snap, evidence)
        if sums is None:
            return
        outside, cold, _ = sums
        for li in snap.liabilities or ():
            held = outside.get(li.asset, 0) + cold.get(li.asset, 0)
            if held < li.base_units:
                t.fail(
                    day,
                    "full reserve",
                    held,
                    li.base_units,
                    f"{li.asset}: customer wallets hold {held} base units, customers are "
                    f"owed {li.base_units}",
                    (row(f"liabilities[{li.asset}]", li),),
                )

    daily(t, period, evidence, check)
    cited = _proofs_of_reserves(t, period, evidence)
    return (
        "per asset, customer wallets hold at least what customers are owed, every day; and "
        f"every proof-of-reserves snapshot of the period passed per asset{cited}"
    )


def _proofs_of_reserves(t: Tally, period: Period, evidence: Evidence) -> str:
    """CUS-05 from `kinko reserves` snapshots: each of the period must have passed per
    asset (reserves counted only where control is proven); none is insufficient evidence.
    A failure cites the snapshot's roots digest and its audit entries."""
    if evidence.reserves is None:
        t.undecided.append("proof-of-reserves snapshots were not read")
        return ""
    held = [o for o in evidence.reserves if period.start <= o.day <= period.end]
    if not held:
        t.undecided.append("no proof-of-reserves snapshot in the period (kinko reserves build)")
        return ""
    for o in held:
        t.applies = True
        entries = ", ".join(f"#{seq}" for seq in (o.audit_seq, *o.controls))
        for c in o.assets:
            if not c.passed:
                t.fail(
                    o.day,
                    "proof of reserves",
                    c.reserves,
                    c.liabilities,
                    f"{c.asset}: snapshot {o.id} (audit entries {entries}): proven reserves "
                    f"{c.reserves} base units, customers are owed {c.liabilities}",
                    (Row(f"reserves[{o.id}]", o.roots),),
                )
    named = [f"{o.id} (audit #{o.audit_seq})" for o in held[:10]]
    more = f" and {len(held) - 10} more" if len(held) > 10 else ""
    return f" (snapshots {', '.join(named)}{more})"


DECIDERS: Mapping[str, Decider] = {
    "CUS-01": cus_01,
    "CUS-02": cus_02,
    "CUS-05": cus_05,
    **KEY_DECIDERS,
    **PEOPLE_DECIDERS,
    **REGISTER_DECIDERS,
    **RECORD_DECIDERS,
    **INCIDENT_DECIDERS,
}


def lookback(control: Control) -> int:
    """Days before the period whose snapshots the control reads (a price window)."""
    if control.id == "CUS-02":
        return int(parameter(control, "price_average_window")) - 1
    return 0
