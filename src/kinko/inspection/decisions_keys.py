"""What the key-management controls decided from the daily snapshots (pure): quorums
(KEY-01), shares kept apart across holders, devices and sites (KEY-02) and ceremonies
(KEY-03). The walk and the findings work as in `kinko.inspection.decisions`."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Mapping
from datetime import date

from kinko.inspection.evaluate import (
    ACTIVE,
    CUSTOMER,
    Decider,
    Evidence,
    Period,
    Tally,
    daily,
    parameter,
    row,
)
from kinko.inspection.snapshot import KeyShare, Snapshot


def key_01(t: Tally, period: Period, evidence: Evidence) -> str:
    m_min = int(parameter(t.control, "min_signers"))
    spare = int(parameter(t.control, "min_redundant_keys"))

    def check(day: date, snap: Snapshot) -> None:
        for w in snap.wallets:
            if not w.active or w.owner_class != CUSTOMER:
                continue
            t.applies = True
            if w.quorum_m < m_min or w.quorum_n < w.quorum_m + spare:
                t.fail(
                    day,
                    "quorum",
                    f"{w.quorum_m}-of-{w.quorum_n}",
                    f"m >= {m_min}, n >= m + {spare}",
                    f"wallet {w.name} ({w.id})",
                    (row(f"wallets[{w.id}]", w),),
                )

    daily(t, period, evidence, check)
    return f"every active customer wallet: m >= {m_min} and n >= m + {spare}, every day"


def _shares(t: Tally, day: date, snap: Snapshot) -> dict[str, list[KeyShare]]:
    """Active key shares per wallet; a share whose status is unknown is missing evidence."""
    out: dict[str, list[KeyShare]] = defaultdict(list)
    for k in snap.keys:
        if k.status == "unknown":
            t.lack(day, f"keys[{k.id}].status: unknown on this day (back-filled)")
        elif k.status == ACTIVE:
            out[k.wallet].append(k)
    return out


def _label(name: str) -> str:
    """A holder or device as a person reads it: "HSM-7" and " hsm-7" are one device."""
    return " ".join(name.casefold().split())


def key_02(t: Tally, period: Period, evidence: Evidence) -> str:
    def check(day: date, snap: Snapshot) -> None:
        shares = _shares(t, day, snap)
        for w in snap.wallets:
            if not w.active:
                continue
            t.applies = True
            mine = shares.get(w.id, [])
            repeated = False
            for attr in ("holder", "device"):
                counts = Counter(_label(getattr(k, attr)) for k in mine)
                for name, count in sorted(counts.items()):
                    if count > 1:
                        repeated = True
                        same = [k for k in mine if _label(getattr(k, attr)) == name]
                        spelt = " / ".join(sorted({getattr(k, attr) for k in same}))
                        t.fail(
                            day,
                            f"one key share per {attr}",
                            f"{count} shares",
                            1,
                            f"wallet {w.name} ({w.id}): shares "
                            f"{', '.join(k.id for k in same)} share {attr} {spelt}",
                            tuple(row(f"keys[{k.id}]", k) for k in same),
                        )
            if not repeated and len(mine) != w.quorum_n:
                t.fail(
                    day,
                    "key shares in the inventory",
                    f"{len(mine)} active shares",
                    f"{w.quorum_n} (n of {w.quorum_m}-of-{w.quorum_n})",
                    f"wallet {w.name} ({w.id})",
                    (row(f"wallets[{w.id}]", w),),
                )

    daily(t, period, evidence, check)
    return (
        "each active wallet: n active key shares, on n distinct holders and n distinct devices "
        "(names compared ignoring case and spacing)"
    )


def key_03(t: Tally, period: Period, evidence: Evidence) -> str:
    sites = int(parameter(t.control, "min_sites"))
    entities = int(parameter(t.control, "min_entities"))

    def check(day: date, snap: Snapshot) -> None:
        shares = _shares(t, day, snap)
        for w in snap.wallets:
            mine = shares.get(w.id, [])
            if not w.active or not mine:
                continue
            t.applies = True
            for attr, least, level, what in (
                ("site", sites, "II", "sites"),
                ("legal_entity", entities, "III", "legal entities"),
            ):
                found = sorted({getattr(k, attr) for k in mine})
                if len(found) < least:
                    t.fail(
                        day,
                        f"level {level}: distinct {what}",
                        len(found),
                        least,
                        f"wallet {w.name} ({w.id}): {', '.join(found)}",
                        (row(f"wallets[{w.id}]", w),),
                    )

    daily(t, period, evidence, check)
    return (
        f"the active key shares of each wallet: >= {sites} sites (level II) and >= {entities} "
        "legal entities (level III), every day"
    )


KEY_DECIDERS: Mapping[str, Decider] = {"KEY-01": key_01, "KEY-02": key_02, "KEY-03": key_03}
