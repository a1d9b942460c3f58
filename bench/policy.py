"""Policy benchmarks: `policy.evaluate` decisions per second on one core.

Run: ``.venv/bin/python -m bench policy``. The pure engine runs with 50 rules, a
100,000-entry address book and velocity state for 10,000 customers (targets: ≥ 20,000
decisions/s, p99 ≤ 1 ms); each decision includes assembling its `PolicyContext` from those
in-memory maps. A second, smaller figure times `PolicyService.evaluate_and_reserve` (locks,
reads, reservation, audit entry, commit) on SQLite. ``KINKO_BENCH_FULL=1`` uses 5x more
decisions per run.
"""

from __future__ import annotations

import os
import random
import statistics
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import yaml
from rich.console import Console
from rich.table import Table

from kinko.chains.base import CallKind
from kinko.custody.model import Tier, WalletId
from kinko.policy.engine import evaluate
from kinko.policy.loader import load_policy
from kinko.policy.model import (
    AddressBookEntry,
    EntryId,
    FreezeId,
    FreezeRecord,
    FreezeScope,
    OwnerKind,
    PolicyContext,
    PolicyRequest,
    ScreeningVerdict,
    VelocityKey,
    VelocityScope,
)
from kinko.policy.rules import Policy

FULL = os.environ.get("KINKO_BENCH_FULL") == "1"
console = Console()
NOW = datetime(2026, 11, 18, 2, 0, tzinfo=UTC)  # Wednesday 11:00 in Tokyo
ASSETS = [
    ("ethereum", "ETH"),
    ("ethereum", "USDC"),
    ("ethereum", "USDT"),
    ("bitcoin", "BTC"),
    ("ethereum", "DAI"),
]
CUSTOMERS = 10_000
AMOUNTS = (50_000, 900_000, 3_000_000, 60_000_000, 150_000_000)
BOOK = 100_000
WALLETS = [(f"w_{tier.value}_{i}", tier) for tier in Tier for i in range(4)]


def policy_text() -> str:
    """50 rules: 10 per asset (two maxima, velocity per wallet / asset / customer, three
    approval tiers, auto-approval, a time window for warm and cold wallets)."""
    rules: list[dict[str, object]] = []
    for chain, asset in ASSETS:
        match = {"chain": chain, "asset": asset}
        hot = {**match, "tier": "hot"}
        key = f"{chain}-{asset.lower()}"

        def velocity(
            name: str, scope: str, window: str, limit: int, key: str = key, match: object = match
        ) -> dict[str, object]:
            return {
                "id": f"{key}-{name}",
                "kind": "velocity",
                "match": match,
                "scope": scope,
                "window": window,
                "limit": limit,
            }

        rules += [
            {"id": f"{key}-hot-max", "kind": "transfer_max", "match": hot, "max": 5_000_000},
            {"id": f"{key}-max", "kind": "transfer_max", "match": match, "max": 100_000_000},
            velocity("w10m", "wallet", "10min", 20_000_000),
            velocity("a1h", "asset", "1h", 500_000_000) | {"on_exceed": "hold"},
            velocity("c24h", "customer", "24h", 10_000_000),
            {"id": f"{key}-auto", "kind": "auto_approve", "match": hot, "max_amount": 1_000_000},
            {
                "id": f"{key}-appr",
                "kind": "approval_tier",
                "match": match,
                "min_amount": 1_000_001,
                "approvals": 2,
                "roles": {"approver": 2},
            },
            {
                "id": f"{key}-warm-cold",
                "kind": "approval_tier",
                "match": {**match, "tier": ["warm", "cold"]},
                "min_amount": 1,
                "approvals": 2,
            },
            {
                "id": f"{key}-large",
                "kind": "approval_tier",
                "match": match,
                "min_amount": 50_000_000,
                "approvals": 3,
                "roles": {"approver": 2, "senior_approver": 1},
            },
            {
                "id": f"{key}-hours",
                "kind": "time_window",
                "match": {**match, "tier": ["warm", "cold"]},
                "days": ["mon", "tue", "wed", "thu", "fri"],
                "start": "09:00",
                "end": "18:00",
                "timezone": "Asia/Tokyo",
            },
        ]
    return yaml.safe_dump({"version": "bench-1", "rules": rules}, sort_keys=False)


def address(i: int) -> str:
    return "0x" + f"{i:040x}"


def world(
    rng: random.Random,
) -> tuple[dict[tuple[str, str], AddressBookEntry], dict[str, dict[VelocityKey, int]]]:
    book = {}
    for i in range(BOOK):
        chain = "bitcoin" if i % 5 == 3 else "ethereum"
        book[(chain, address(i))] = AddressBookEntry(
            id=EntryId(f"abe_{i}"),
            chain=chain,
            address=address(i),
            label=f"entry {i}",
            owner_kind=OwnerKind.CUSTOMER_VERIFIED,
            tiers_allowed=frozenset({Tier.HOT, Tier.WARM, Tier.COLD} if i % 10 else {Tier.HOT}),
            effective_at=NOW - timedelta(days=3 if i % 20 != 7 else -1),  # 5% cooling off
        )
    velocity = {
        f"cust-{c}": {(VelocityScope.CUSTOMER, 86400): rng.randrange(0, 8_000_000)}
        for c in range(CUSTOMERS)
    }
    return book, velocity


def requests(rng: random.Random, n: int) -> list[PolicyRequest]:
    out = []
    for _ in range(n):
        chain, asset = rng.choice(ASSETS)
        wallet, tier = rng.choice(WALLETS)
        dest = rng.randrange(BOOK + BOOK // 10)  # ~9% are not in the book
        out.append(
            PolicyRequest(
                wallet_id=WalletId(wallet),
                tier=tier,
                chain=chain,
                asset=asset,
                amount=rng.choices(AMOUNTS, weights=(40, 30, 20, 8, 2))[0],
                destination=address(dest),
                customer_ref=f"cust-{rng.randrange(CUSTOMERS)}",
                requester="u_bench",
                call_kind=CallKind.NATIVE_TRANSFER if rng.random() < 0.97 else CallKind.DANGEROUS,
                source="bench",
            )
        )
    return out


def run_engine(
    policy: Policy,
    reqs: list[PolicyRequest],
    book: dict[tuple[str, str], AddressBookEntry],
    customer_velocity: dict[str, dict[VelocityKey, int]],
    freezes: tuple[FreezeRecord, ...],
) -> tuple[float, float, list[int], Counter[str]]:
    """Decisions per wall-clock second and per CPU second (the latter is immune to other
    processes on a shared machine), per-decision latencies (ns, context assembly
    included), and the outcome mix."""
    shared = {(VelocityScope.WALLET, 600): 1_000_000, (VelocityScope.ASSET, 3600): 40_000_000}
    latencies = []
    outcomes: Counter[str] = Counter()
    clock = time.perf_counter_ns
    started = clock()
    cpu_started = time.process_time()
    for req in reqs:
        t0 = clock()
        context = PolicyContext(
            velocity={**shared, **customer_velocity[req.customer_ref or ""]},
            address_entry=book.get((req.chain, req.destination)),
            freezes=freezes,
            screening=ScreeningVerdict.CLEAR,
        )
        decision = evaluate(policy, req, context, NOW)
        latencies.append(clock() - t0)
        outcomes[decision.outcome.value] += 1
    elapsed = (clock() - started) / 1e9
    cpu = time.process_time() - cpu_started
    return len(reqs) / elapsed, len(reqs) / cpu, latencies, outcomes


def service_rate(n: int) -> tuple[float, float, float, float]:
    """evaluate_and_reserve on SQLite (durable commits): rate, p50 ms, p99 ms, and the p50
    of a transaction that only appends one audit entry (the floor every decision pays)."""
    from kinko.config import Settings
    from kinko.context import build_context
    from kinko.core.clock import FixedClock
    from kinko.services import build_services
    from kinko.store.base import Base

    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(data_dir=Path(tmp), log_json=False)
        ctx = build_context(settings, clock=FixedClock(NOW))
        Base.metadata.create_all(ctx.db.engine)
        service = build_services(ctx, policy=load_policy(policy_text(), source="bench")).policy
        with ctx.db.transaction() as s:
            service.record_version(s)
        rng = random.Random(7)
        reqs = requests(rng, n)
        latencies = []
        started = time.perf_counter()
        for i, req in enumerate(reqs):
            t0 = time.perf_counter()
            with ctx.db.transaction() as s:
                service.evaluate_and_reserve(
                    s, req, withdrawal_id=f"wd_{i}", screening=ScreeningVerdict.CLEAR
                )
            latencies.append((time.perf_counter() - t0) * 1000)
        rate = n / (time.perf_counter() - started)
        baseline = []
        for i in range(n):
            t0 = time.perf_counter()
            with ctx.db.transaction() as s:
                ctx.audit.append(s, actor="bench", action="bench.noop", subject=str(i))
            baseline.append((time.perf_counter() - t0) * 1000)
        ctx.db.dispose()
    ordered = sorted(latencies)
    return (
        rate,
        statistics.median(ordered),
        ordered[int(len(ordered) * 0.99) - 1],
        statistics.median(baseline),
    )


def main() -> None:
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})  # one core
    rng = random.Random(42)
    policy = load_policy(policy_text(), source="bench")
    assert len(policy.rules) == 50
    t0 = time.perf_counter()
    book, velocity = world(rng)
    setup_s = time.perf_counter() - t0
    n = 100_000 if FULL else 20_000
    reqs = requests(rng, n)
    freezes = (FreezeRecord(FreezeId("frz_1"), FreezeScope.WALLET, "w_cold_9", "bench", "u", NOW),)
    run_engine(policy, reqs[:2000], book, velocity, freezes)  # warm the per-asset rule cache
    rates, cpu_rates, all_latencies = [], [], []
    outcomes: Counter[str] = Counter()
    for _ in range(5):
        rate, cpu_rate, lat, outcomes = run_engine(policy, reqs, book, velocity, freezes)
        rates.append(rate)
        cpu_rates.append(cpu_rate)
        all_latencies.extend(lat)
    ordered = sorted(all_latencies)
    p50 = statistics.median(ordered) / 1e6
    p99 = ordered[int(len(ordered) * 0.99) - 1] / 1e6
    svc_n = 1000 if FULL else 300
    svc_rate, svc_p50, svc_p99, floor_p50 = service_rate(svc_n)

    table = Table(title="policy (one core)")
    for col in ("measure", "value", "target"):
        table.add_column(col)
    table.add_row(
        "rules / address book / customers",
        f"{len(policy.rules)} / {BOOK:,} / {CUSTOMERS:,}",
        "50 / 100k / 10k",
    )
    table.add_row("world setup", f"{setup_s:.2f} s", "")
    table.add_row(
        f"evaluate: decisions per wall-clock s (median of 5 x {n:,})",
        f"{statistics.median(rates):,.0f}",
        "≥ 20,000",
    )
    table.add_row(
        "evaluate: decisions per CPU s (median of 5)",
        f"{statistics.median(cpu_rates):,.0f}",
        "≥ 20,000",
    )
    table.add_row("evaluate: p50 latency", f"{p50 * 1000:.1f} µs", "")
    table.add_row("evaluate: p99 latency", f"{p99 * 1000:.1f} µs", "≤ 1,000 µs")
    table.add_row(
        "outcome mix (one run)", ", ".join(f"{k} {v}" for k, v in sorted(outcomes.items())), ""
    )
    table.add_row(f"evaluate_and_reserve on SQLite: /s ({svc_n} commits)", f"{svc_rate:,.0f}", "")
    table.add_row(
        "evaluate_and_reserve on SQLite: p50 / p99", f"{svc_p50:.2f} / {svc_p99:.2f} ms", ""
    )
    table.add_row(
        "baseline: one audit append + commit, p50 (ratio)",
        f"{floor_p50:.2f} ms ({svc_p50 / floor_p50:.2f}x)",
        "",
    )
    console.print(table)
