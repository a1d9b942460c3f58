"""A governance register that keeps every rule, as values (records and when they applied),
with the days derived from the caller's (real-time) period."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from kinko.inspection.history import RegisterHistory, Version
from kinko.inspection.register import Kind, Record, kind_of
from kinko.inspection.register_changes import parse_record, record_digest


def good_records(start: date) -> dict[Kind, list[dict[str, Any]]]:
    """Records (as the API takes them) that pass on every day from `start` for a year."""
    recent = start - timedelta(days=30)
    year = start.year
    staffing = [
        {"fiscal_year": y, "function": f, "headcount": h, "budget_minor": b, "currency": "JPY"}
        for y in (year - 1, year, year + 1)
        for f, h, b in (("total", 200, 10**10), ("it", 20, 10**9), ("security", 2, 10**8))
    ]
    finding = {
        "id": "F-1",
        "severity": "critical",
        "title": "weak TLS",
        "due_on": recent + timedelta(days=10),
        "remediated_on": recent + timedelta(days=5),
    }
    return {
        Kind.CISO: [
            {
                "person": "carla",
                "since": start - timedelta(days=400),
                "independent": True,
                "reports_to": "the board",
                "other_duties": ["privacy officer"],
            }
        ],
        Kind.STAFFING: staffing,
        Kind.DRILL: [
            {
                "ref": f"DR-{k}",
                "kind": k,
                "held_on": recent,
                "scenario": "s",
                "participants": ["carla"],
                "findings": [{**finding, "id": f"D-{k}"}],
            }
            for k in ("key_compromise", "incident")
        ],
        Kind.CHECK: [
            {
                "ref": "CK-restore",
                "kind": "backup_restore",
                "subject": "db backup",
                "checked_on": recent,
                "checked_by": "erin",
                "result": "pass",
            },
            {
                "ref": "CK-seal",
                "kind": "seal",
                "subject": "bag 7",
                "checked_on": recent,
                "checked_by": "erin",
                "result": "pass",
                "next_due": recent + timedelta(days=60),
            },
        ],
        Kind.ASSESSMENT: [
            {
                "ref": "PT-1",
                "kind": "penetration_test",
                "provider": "Acme",
                "scope": "wallets",
                "started_on": recent - timedelta(days=10),
                "reported_on": recent,
                "findings": [finding],
            },
            {
                "ref": "AU-1",
                "kind": "third_party_audit",
                "provider": "Big4",
                "scope": "segregation of customer assets",
                "started_on": recent,
                "reported_on": recent,
            },
        ],
        Kind.VENDOR: [
            {
                "name": "WalletSoft",
                "service": "wallet software",
                "critical": True,
                "risk": "high",
                "next_review_due": start + timedelta(days=400),
                "last_review_on": recent,
            }
        ],
        Kind.ENGAGEMENT: [
            {
                "ref": "IA-1",
                "title": "Cold wallet management",
                "plan_year": year,
                "scope": "wallet operations",
                "risk_based_plan": True,
                "stage": "assurance",
                "started_on": recent,
                "reported_on": recent,
            }
        ],
    }


def records(raw: dict[Kind, list[dict[str, Any]]]) -> list[Record]:
    return [parse_record(kind, item) for kind, items in raw.items() for item in items]


def history(items: Iterable[tuple[Record | tuple[Kind, str], datetime]]) -> RegisterHistory:
    """Versions in the order given: a record put, or (kind, key) removed, at each time."""
    versions: list[Version] = []
    count: dict[tuple[Kind, str], int] = {}
    for item, when in items:
        kind, key = item if isinstance(item, tuple) else (kind_of(item), item.key)
        n = count[(kind, key)] = count.get((kind, key), 0) + 1
        if isinstance(item, tuple):
            versions.append(Version(kind, key, n, when, None, None))
        else:
            versions.append(Version(kind, key, n, when, item, record_digest(item)))
    return RegisterHistory(tuple(versions))


def at(day: date) -> datetime:
    return datetime.combine(day, time(12), tzinfo=UTC)
