"""Daily snapshots of a small exchange that keeps every rule the snapshots decide, with
knobs to break one: built as values, so the evaluator's tests and the run's (imported
into a store) share them. Days are always derived from the real time by the caller."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta

from kinko.inspection.snapshot import (
    Balance,
    Grant,
    KeyShare,
    Liability,
    Origin,
    Person,
    Price,
    ScreeningList,
    Snapshot,
    Wallet,
    iso,
)

BTC = "bitcoin:BTC"
DECIMALS = {BTC: 8}
OWED = 100_000_000  # 1 BTC owed to customers
COLD_OK = 97_000_000  # 97% cold, 3% hot: inside Japan's 5% and Korea's 80%


def as_of(day: date) -> datetime:
    return datetime.combine(day, time(0, 5), tzinfo=UTC)


def _wallet(wid: str, tier: str, purpose: str, m: int = 2, n: int = 3) -> Wallet:
    return Wallet(
        wid,
        wid,
        "bitcoin",
        "regtest",
        tier,
        "customer",
        purpose,
        m,
        n,
        (BTC,),
        True,
        "2020-01-01T00:00:00.000000Z",
    )


def _keys(wallet: str, n: int = 3) -> list[KeyShare]:
    return [
        KeyShare(
            f"ks_{wallet}_{i}",
            wallet,
            f"holder-{i}",
            f"{wallet}-hsm-{i}",
            f"site-{i}",
            f"entity-{i}",
            f"02{i:02x}",
            "active",
            "2020-01-01T00:00:00.000000Z",
        )
        for i in range(n)
    ]


def _grant(role: str) -> Grant:
    return Grant(role, (), (), "2020-01-01T00:00:00.000000Z", "u_admin")


def snapshot(
    day: date,
    *,
    cold: int = COLD_OK,
    hot_quorum: tuple[int, int] = (2, 3),
    shared_device: bool = False,
    grants: tuple[str, ...] = ("approver",),
) -> Snapshot:
    """The exchange on `day`: customer wallets ``w-cold`` and ``w-hot`` (1 BTC owed, `cold`
    base units of it cold), three key shares each, three people, one fresh list."""
    when = as_of(day)
    keys = _keys("w-cold") + _keys("w-hot", hot_quorum[1])
    if shared_device:  # two shares of w-cold on one device
        keys[1] = replace(keys[1], device=keys[0].device)
    people = (
        Person("u_admin", "alice", "active", (_grant("security_admin"),), 1, 0, 10),
        Person("u_bob", "bob", "active", tuple(_grant(g) for g in sorted(grants)), 1, 0, 10),
        Person("u_carol", "carol", "active", (_grant("requester"),), 0, 1, 10),
    )
    return Snapshot(
        day=day,
        as_of=iso(when),
        origin=Origin.TAKEN,
        wallets=(
            _wallet("w-cold", "cold", "long_term_cold"),
            _wallet("w-hot", "hot", "operational", *hot_quorum),
        ),
        balances=(
            Balance("w-cold", BTC, cold, "test", iso(when)),
            Balance("w-hot", BTC, OWED - cold, "test", iso(when)),
        ),
        liabilities=(Liability(BTC, OWED, "ledger", iso(when)),),
        prices=(
            Price("JPY", BTC, day.isoformat(), "15000000"),
            Price("KRW", BTC, day.isoformat(), "140000000"),
        ),
        keys=tuple(sorted(keys, key=lambda k: k.id)),
        people=people,
        screening_lists=(
            ScreeningList(
                "ofac-sdn",
                "v1",
                "OFAC",
                iso(when - timedelta(hours=2)),
                "ab" * 32,
                "ofac-sdn-xml",
                iso(when - timedelta(hours=1)),
                10,
                5,
            ),
        ),
        gaps=(),
    )


def days(end: date, count: int) -> list[date]:
    """`count` days ending with `end`, oldest first."""
    return [end - timedelta(days=count - 1 - i) for i in range(count)]
