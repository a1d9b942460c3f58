"""What the people and screening controls decided from the daily snapshots (pure):
dormant and privileged access (IAM-01), separation of duties (IAM-03) and the freshness of
the screening lists (AML-02). The walk and the findings work as in
`kinko.inspection.decisions`."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime
from decimal import Decimal

from kinko.identity.model import RoleGrant
from kinko.identity.permissions import PRIVILEGED_ROLES, Role
from kinko.identity.sod import conflicts
from kinko.inspection.catalogue import Framework
from kinko.inspection.evaluate import (
    ACTIVE,
    Decider,
    Evidence,
    Period,
    Tally,
    daily,
    parameter,
    row,
)
from kinko.inspection.snapshot import Grant, Snapshot


def _grants(t: Tally, day: date, person_id: str, grants: tuple[Grant, ...]) -> list[RoleGrant]:
    out = []
    for g in grants:
        try:
            role = Role(g.role)
        except ValueError:
            t.lack(day, f"people[{person_id}].grants: unknown role {g.role!r}")
            continue
        out.append(RoleGrant(role, g.assets, g.wallets))
    return out


def iam_01(t: Tally, period: Period, evidence: Evidence) -> str:
    def check(day: date, snap: Snapshot) -> None:
        holders = {k.holder for k in snap.keys if k.status == ACTIVE}
        for p in snap.people:
            if p.state is None:
                t.lack(day, f"people[{p.id}].state: unknown on this day (back-filled)")
                continue
            if p.state != ACTIVE:
                continue
            t.applies = True
            privileged = any(g.role in PRIVILEGED_ROLES for g in _grants(t, day, p.id, p.grants))
            keyholder = p.id in holders or p.username in holders
            if p.webauthn + p.totp == 0:
                rows = (row(f"people[{p.id}]", p),)
                t.fail(day, "MFA enrolled", "no factor", "a security key or TOTP", p.username, rows)
            elif (privileged or keyholder) and p.webauthn == 0:
                rows = (row(f"people[{p.id}]", p),)
                who = "privileged" if privileged else "a keyholder"
                t.fail(
                    day,
                    "phishing-resistant factor",
                    f"{p.webauthn} security keys",
                    "at least 1 (WebAuthn)",
                    f"{p.username} is {who}",
                    rows,
                )

    daily(t, period, evidence, check)
    if t.framework in (None, Framework.CCSS):
        t.undecided.append(
            "CCSS level III's three factor types for key access are not assessed (the snapshots "
            "hold no factor types beyond security keys and TOTP)"
        )
    return (
        "every active person has an MFA factor; privileged people and keyholders a security "
        "key (WebAuthn), every day"
    )


def iam_03(t: Tally, period: Period, evidence: Evidence) -> str:
    matrix = evidence.conflicts

    def check(day: date, snap: Snapshot) -> None:
        for p in snap.people:
            if p.state == "removed":
                continue
            t.applies = True
            grants = _grants(t, day, p.id, p.grants)
            for i, grant in enumerate(grants):
                for held, rule in conflicts(grants[:i], grant, matrix):
                    t.fail(
                        day,
                        "conflicting roles",
                        f"{held.role.value} + {grant.role.value}",
                        "no conflicting pair",
                        f"{p.username} ({p.id}): {rule}",
                        (row(f"people[{p.id}]", p),),
                    )

    daily(t, period, evidence, check)
    return (
        "nobody holds a conflicting pair of roles under the conflict matrix in force now "
        "(evidence.conflict_matrix), on any day"
    )


# ---------------------------------------------------------------- screening


def _time(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)


def aml_02(t: Tally, period: Period, evidence: Evidence) -> str:
    hours = Decimal(str(parameter(t.control, "max_list_age")))

    def check(day: date, snap: Snapshot) -> None:
        t.applies = True
        if not snap.screening_lists:
            t.fail(day, "a list in use", "none", "at least one", "no screening list in use")
        as_of = _time(snap.as_of)
        for s in snap.screening_lists:
            age = as_of - _time(s.published or s.loaded_at)
            age_hours = Decimal(int(age.total_seconds())) / 3600
            if age_hours > hours:
                since = "published" if s.published else "loaded"
                t.fail(
                    day,
                    "list age",
                    f"{age_hours:.1f} hours",
                    f"{hours} hours",
                    f"list {s.list} version {s.version} ({since} {s.published or s.loaded_at})",
                    (row(f"screening_lists[{s.list}]", s),),
                )

    daily(t, period, evidence, check)
    t.undecided.append(
        "that every deposit and withdrawal was screened before release (screening results) "
        "is not read yet"
    )
    return f"each list in use is at most {hours} hours old (from its publication, else its loading)"


PEOPLE_DECIDERS: Mapping[str, Decider] = {"IAM-01": iam_01, "IAM-03": iam_03, "AML-02": aml_02}
