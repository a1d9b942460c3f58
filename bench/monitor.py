"""Monitor benchmarks: engine throughput (vs pySigma's SQLite backend), outflow-to-freeze
latency, and memory over 10^6 events with correlation state.

``python -m bench monitor``; ``KINKO_BENCH_EVENTS`` sets the throughput size (default
100,000) and ``KINKO_BENCH_MEMORY_EVENTS`` the memory run (default 1,000,000).
"""

from __future__ import annotations

import os
import random
import sqlite3
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from rich.console import Console
from rich.table import Table

from kinko.monitor.baselines import default_baselines
from kinko.monitor.engine import Engine
from kinko.monitor.events import MonitorEvent
from kinko.monitor.rules import default_pack

T0 = datetime(2026, 11, 21, 9, 0, tzinfo=UTC)


def generate(n: int, *, seed: int = 7, step_ms: int = 50) -> list[dict[str, Any]]:
    """A plausible exchange stream, already flat (what `MonitorEvent.flat()` returns)."""
    rng = random.Random(seed)
    assets = ["ETH", "USDT", "BTC", "LINK", "SOL", "XRP"]
    out: list[dict[str, Any]] = []
    for i in range(n):
        when = T0 + timedelta(milliseconds=i * step_ms)
        r = rng.random()
        ev: dict[str, Any] = {"time": when, "time.hour": when.hour, "severity": "info"}
        if r < 0.30:
            ev |= {
                "type": "auth.login",
                "actor": f"user:{rng.randrange(5000)}",
                "outcome": "success" if rng.random() < 0.9 else "failure",
                "source_ip": f"198.51.{rng.randrange(256)}.{rng.randrange(256)}",
                "geo.country": rng.choice(["JP", "JP", "JP", "KR", "SG"]),
            }
        elif r < 0.40:
            ev |= {
                "type": "auth.mfa",
                "actor": f"user:{rng.randrange(5000)}",
                "outcome": "success" if rng.random() < 0.8 else "failure",
            }
        elif r < 0.55:
            ev |= {
                "type": "withdrawal.request",
                "wallet": f"w{rng.randrange(500)}",
                "destination": f"0x{rng.randrange(20_000):040x}",
                "withdrawal_id": f"wd_{i}",
                "amount_usd": rng.randrange(50_000),
                "destination_first_seen": rng.random() < 0.05,
            }
        elif r < 0.75:
            wallet = rng.randrange(500)
            ev |= {
                "type": "chain.outflow",
                "wallet": f"w{wallet}",
                # most wallets hold one asset; a few hold several
                "asset": assets[wallet % 6] if wallet % 50 else rng.choice(assets),
                "amount": rng.randrange(10**18),
                "wallet_tier": "hot",
                "withdrawal_id": f"wd_{i}",
            }
        elif r < 0.90:
            ev |= {"type": "signer.request", "wallet": f"w{rng.randrange(500)}"}
        elif r < 0.95:
            ev |= {"type": "signer.sign", "wallet": f"w{rng.randrange(500)}"}
        else:
            kind = rng.choice(["token.use", "role.change", "policy.change", "addressbook.change"])
            ev |= {
                "type": kind,
                "actor": f"user:{rng.randrange(5000)}",
                "destination": f"0x{rng.randrange(20_000):040x}",
                "scopes": ["withdrawals:create"],
                "network_first_seen": rng.random() < 0.01,
                "privileged": rng.random() < 0.1,
                "change": rng.choice(["limit_lowered", "limit_raised"]),
            }
        out.append(ev)
    return out


def throughput(events: list[dict[str, Any]], runs: int = 3) -> tuple[float, int]:
    rates, alerts = [], 0
    for _ in range(runs):
        engine = Engine(default_pack(), default_baselines())
        started = time.perf_counter()
        alerts = sum(len(engine.process_flat(ev)) for ev in events)
        rates.append(len(events) / (time.perf_counter() - started))
    return statistics.median(rates), alerts


def single_event_rules() -> list[str]:
    """Every detection rule of the pack, each as its own document (not deferred into SQL
    correlation queries), for the pySigma SQLite backend."""
    folder = resources.files("kinko.monitor") / "rules"
    docs = []
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".yml"):
            for doc in yaml.safe_load_all(entry.read_text(encoding="utf-8")):
                if "detection" in doc:
                    docs.append(yaml.safe_dump(doc))
    return docs


def rule_fields(collection: Any) -> set[str]:
    """Every field a rule of `collection` (a pySigma SigmaCollection) tests or refers to."""
    from sigma.rule import SigmaDetection
    from sigma.types import SigmaFieldReference

    found: set[str] = set()

    def walk(detection: SigmaDetection) -> None:
        for item in detection.detection_items:
            if isinstance(item, SigmaDetection):
                walk(item)
                continue
            if item.field:
                found.add(item.field)
            found.update(v.field for v in item.value if isinstance(v, SigmaFieldReference))

    for rule in collection:
        for detection in rule.detection.detections.values():
            walk(detection)
    return found


def columns(events: list[dict[str, Any]], fields: set[str]) -> list[str]:
    """The table's columns: every field the rules name (a rule's field missing from the
    table is an SQL error, not a non-match) and every field the events carry but `time`
    (the queries never read it)."""
    return sorted((fields | {name for ev in events for name in ev}) - {"time"})


def _sqlite_table(events: list[dict[str, Any]]) -> tuple[sqlite3.Connection, list[str]]:
    from sigma.backends.sqlite.sqlite import sqliteBackend
    from sigma.collection import SigmaCollection

    backend = sqliteBackend()  # type: ignore[no-untyped-call]
    collections = [SigmaCollection.from_yaml(doc) for doc in single_event_rules()]
    queries = [q for collection in collections for q in backend.convert(collection)]
    names = columns(events, set().union(*(rule_fields(c) for c in collections)))
    conn = sqlite3.connect(":memory:")
    cols = ", ".join(f'"{c}" COLLATE NOCASE' for c in names)
    conn.execute(f"CREATE TABLE logs ({cols})")
    marks = ", ".join("?" for _ in names)

    def cell(value: Any) -> Any:
        if isinstance(value, bool):
            return int(value)
        if isinstance(value, list):
            return ",".join(value)
        return value

    conn.executemany(
        f"INSERT INTO logs VALUES ({marks})", [[cell(ev.get(c)) for c in names] for ev in events]
    )
    return conn, queries


def single_event_comparison(
    events: list[dict[str, Any]], runs: int = 5
) -> tuple[float, int, float, int, float]:
    """The pack's single-event rules through our engine and through pySigma's SQLite
    backend (query time over a pre-loaded table), runs interleaved so that load on a shared
    machine hits both alike. Returns medians and the median of the per-pair ratios."""
    from dataclasses import replace

    from kinko.monitor.rules import build_ruleset

    singles = build_ruleset([replace(r, emits=True) for r in default_pack().detections], [])
    conn, queries = _sqlite_table(events)
    ours, theirs, ratios = [], [], []
    ours_matched = theirs_matched = 0
    for _ in range(runs):
        engine = Engine(singles)
        started = time.perf_counter()
        ours_matched = sum(len(engine.process_flat(ev)) for ev in events)
        ours.append(len(events) / (time.perf_counter() - started))
        started = time.perf_counter()
        theirs_matched = sum(len(conn.execute(q).fetchall()) for q in queries)
        theirs.append(len(events) / (time.perf_counter() - started))
        ratios.append(ours[-1] / theirs[-1])
    conn.close()
    return (
        statistics.median(ours),
        ours_matched,
        statistics.median(theirs),
        theirs_matched,
        statistics.median(ratios),
    )


def latency(samples: int = 200) -> tuple[float, float, float, float, float]:
    """`chain.outflow` in → wallet freeze committed (SQLite file, synchronous=FULL).

    Returns wall p50, p99, max, the p99 of the decision alone (the engine on an equivalent
    event, to separate rule evaluation from the database commit) and the median CPU time
    of the process per ingest (wall minus CPU is waiting: fsync, locks, the scheduler)."""
    import kinko.store.tables  # noqa: F401
    from kinko.config import Settings
    from kinko.context import build_context
    from kinko.monitor.actions import privileged_by
    from kinko.monitor.service import MonitorService, RateLimits
    from kinko.policy.freeze import FreezeService
    from kinko.services import build_services
    from kinko.store.base import Base

    probe = Engine(default_pack())
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(data_dir=Path(tmp), log_json=False)
        ctx = build_context(settings)
        Base.metadata.create_all(ctx.db.engine)
        # the freeze acts through the composition root's services, as in `kinko serve`
        hands = build_services(ctx).monitor_hands
        service = MonitorService(
            ctx,
            Engine(default_pack()),
            actions=hands.actions,
            privileged=privileged_by(hands.roles_of),
            limits=RateLimits(per_rule=10**6),
        )
        times, decide, cpu = [], [], []
        for i in range(samples):
            event = MonitorEvent(
                time=ctx.clock.now(),
                type="chain.outflow",
                wallet=f"lat-w{i}",
                asset="ETH",
                amount=10**18,
                fields={"wallet_tier": "hot"},
            )
            started = time.perf_counter()
            probe.process(event)
            decide.append((time.perf_counter() - started) * 1000)
            started, cpu_started = time.perf_counter(), time.process_time()
            service.ingest([event])
            times.append((time.perf_counter() - started) * 1000)
            cpu.append((time.process_time() - cpu_started) * 1000)
        with ctx.db.transaction() as session:
            frozen = len(FreezeService(ctx).active_freezes(session))
        ctx.db.dispose()
    if frozen != samples:
        raise RuntimeError(f"expected {samples} freezes, found {frozen}")
    times.sort()
    decide.sort()
    p99 = int(0.99 * samples) - 1
    return statistics.median(times), times[p99], times[-1], decide[p99], statistics.median(cpu)


def rss_mib() -> float:
    with open("/proc/self/statm") as handle:
        pages = int(handle.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def memory(
    n: int,
    chunk: int = 100_000,
    *,
    engine: Engine | None = None,
    stream: Callable[[int, int], list[dict[str, Any]]] | None = None,
) -> list[tuple[int, int, float]]:
    """State entries and RSS every `chunk` events; events generated chunk by chunk
    (`stream(count, seed)`, 50 ms apart; default: `generate`)."""
    engine = engine or Engine(default_pack(), default_baselines())
    make = stream or (lambda count, seed: generate(count, seed=seed, step_ms=50))
    points = []
    chunk = min(chunk, n)
    for start in range(0, n, chunk):
        for ev in make(chunk, start):
            ev["time"] += timedelta(milliseconds=start * 50)
            engine.process_flat(ev)
        points.append((start + chunk, engine.state_size(), rss_mib()))
    return points


def main() -> None:
    console = Console()
    n = int(os.environ.get("KINKO_BENCH_EVENTS", "100000"))
    mem_n = int(os.environ.get("KINKO_BENCH_MEMORY_EVENTS", "1000000"))
    events = generate(n)
    table = Table(title=f"monitor throughput, {n:,} events, one core (medians)")
    for column in ("what", "events/s", "matches/alerts", "ratio"):
        table.add_column(column, justify="right")
    full, alerts = throughput(events)
    ours, ours_matched, theirs, matched, ratio = single_event_comparison(events)
    table.add_row("whole default pack + correlations + baselines", f"{full:,.0f}", str(alerts), "")
    table.add_row("single-event rules, Kinko engine", f"{ours:,.0f}", str(ours_matched), "")
    table.add_row(
        "single-event rules, pySigma SQLite backend (query time only)",
        f"{theirs:,.0f}",
        str(matched),
        f"Kinko/SQLite = {ratio:.2f}x (median of paired runs)",
    )
    console.print(table)
    p50, p99, worst, decision, cpu_p50 = latency()
    lat = Table(title="chain.outflow → wallet frozen (in process, SQLite, 200 samples)")
    for column in ("p50 ms", "p99 ms", "max ms", "decision only, p99 ms", "CPU p50 ms"):
        lat.add_column(column, justify="right")
    lat.add_row(f"{p50:.2f}", f"{p99:.2f}", f"{worst:.2f}", f"{decision:.3f}", f"{cpu_p50:.2f}")
    console.print(lat)
    mem = Table(title=f"memory over {mem_n:,} events (correlation + baseline state)")
    for column in ("events", "state entries", "RSS MiB"):
        mem.add_column(column, justify="right")
    for count, size, rss in memory(mem_n):
        mem.add_row(f"{count:,}", f"{size:,}", f"{rss:.1f}")
    console.print(mem)
