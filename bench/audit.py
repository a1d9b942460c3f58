"""Audit-log benchmarks: appends/s, proof latency at 10^6 entries, offline verify.

Run: ``.venv/bin/python -m bench audit``. ``KINKO_BENCH_FULL=1`` uses the big sizes
(durable PostgreSQL and database proofs at 10^6 entries; takes several minutes).
pymerkle (RFC 9162 mode) runs on the same entries in the same process for the ratios.
"""

from __future__ import annotations

import hashlib
import os
import random
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from rich.console import Console
from rich.table import Table

if TYPE_CHECKING:
    from kinko.context import Context

FULL = os.environ.get("KINKO_BENCH_FULL") == "1"
console = Console(width=170)


def entries(n: int, start: int = 0) -> list[bytes]:
    """Entries shaped like Kinko's canonical JSON (keys sorted, no spaces)."""
    return [
        (
            f'{{"action":"withdrawal.approve","actor":"user:u{i % 97}","details":'
            f'{{"amount":"{i * 1000}","wallet":"hot-1"}},"sequence":{i},"subject":"wd-{i}",'
            '"time":"2026-11-21T09:00:00.000000Z"}'
        ).encode()
        for i in range(start, start + n)
    ]


def median_rate(fn: Callable[[], int], runs: int = 3) -> tuple[float, float]:
    """Median (wall, CPU) rates of `fn`, which returns how many operations it did.

    The CPU rate (process time) is what the code costs when it has a core to itself; on
    a shared, loaded machine the wall rate also counts time spent waiting for one.
    """
    walls, cpus = [], []
    for _ in range(runs):
        w0, c0 = time.perf_counter(), time.process_time()
        count = fn()
        walls.append(count / (time.perf_counter() - w0))
        cpus.append(count / max(time.process_time() - c0, 1e-9))
    return statistics.median(walls), statistics.median(cpus)


def percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered), ordered[int(len(ordered) * 0.99) - 1]


class Timer:
    """Per-sample wall and thread-CPU time."""

    def __init__(self) -> None:
        self.wall: list[float] = []
        self.cpu: list[float] = []

    def run(self, fn: Callable[[int, int], object], a: int, b: int) -> None:
        w0, c0 = time.perf_counter(), time.thread_time()
        fn(a, b)
        self.cpu.append(time.thread_time() - c0)
        self.wall.append(time.perf_counter() - w0)

    def cell(self) -> str:
        (w50, w99), (c50, c99) = percentiles(self.wall), percentiles(self.cpu)
        return f"{w50 * 1e6:,.0f} / {w99 * 1e6:,.0f} wall; {c50 * 1e6:,.0f} / {c99 * 1e6:,.0f} CPU"

    def p99_cpu(self) -> float:
        return percentiles(self.cpu)[1]


def floor_figures() -> tuple[float, float]:
    block = b"\x01" + bytes(64)
    n = 500_000
    sha = hashlib.sha256
    t0 = time.perf_counter()
    for _ in range(n):
        sha(block).digest()
    hashes_per_s = n / (time.perf_counter() - t0)
    samples = []
    with tempfile.NamedTemporaryFile() as handle:
        for _ in range(200):
            handle.write(b"x" * 100)
            handle.flush()
            t0 = time.perf_counter()
            os.fsync(handle.fileno())
            samples.append(time.perf_counter() - t0)
    return hashes_per_s, statistics.median(samples) * 1e6


def memory_appends(data: list[bytes]) -> tuple[tuple[float, float], tuple[float, float]]:
    from pymerkle import InmemoryTree

    from kinko.audit.memtree import MemoryTree

    def ours() -> int:
        tree = MemoryTree()
        for entry in data:
            tree.append_entry(entry)
        return len(data)

    subset = data[: len(data) // 4]

    def theirs() -> int:
        tree = InmemoryTree(algorithm="sha256")
        for entry in subset:
            tree.append_entry(entry)
        return len(subset)

    return median_rate(ours), median_rate(theirs)


def _context(url: str, data_dir: Path) -> Context:
    import kinko.store.tables  # noqa: F401
    from kinko.config import Settings
    from kinko.context import build_context
    from kinko.core.clock import FixedClock
    from kinko.store.base import Base

    settings = Settings(data_dir=data_dir, database_url=url, log_json=False)
    ctx = build_context(settings, clock=FixedClock(datetime(2026, 11, 21, tzinfo=UTC)))
    Base.metadata.create_all(ctx.db.engine)
    return ctx


def durable_appends(url: str, data_dir: Path, total: int, batch: int) -> tuple[float, float]:
    """Group commit: `batch` entries per transaction, each commit durable. (wall, CPU)/s."""
    from kinko.audit.service import AuditItem

    ctx = _context(url, data_dir)
    items = [AuditItem("user:u1", "withdrawal.approve", f"wd-{i}", {"i": i}) for i in range(batch)]

    def run() -> int:
        done = 0
        while done < total:
            with ctx.db.transaction() as session:
                ctx.audit.append_many(session, items)
            done += batch
        return done

    rates = median_rate(run, runs=1)
    ctx.db.dispose()
    return rates


def _proof_samples(
    inclusion: Callable[[int, int], object],
    consistency: Callable[[int, int], object],
    size: int,
    samples: int,
) -> dict[str, Timer]:
    rng = random.Random(2)
    timers = {"inclusion": Timer(), "consistency": Timer()}
    for _ in range(samples):
        index, first = rng.randrange(size), rng.randrange(1, size)
        timers["inclusion"].run(inclusion, index, size)
        timers["consistency"].run(consistency, first, size)
    return timers


def db_proofs(url: str, data_dir: Path, size: int, samples: int) -> dict[str, Timer]:
    from kinko.audit.service import AuditItem

    ctx = _context(url, data_dir)
    batch = 5000
    items = [AuditItem("user:u1", "bench.fill", f"s{i}", {}) for i in range(batch)]
    for _ in range(size // batch):
        with ctx.db.transaction() as session:
            ctx.audit.append_many(session, items)
    with ctx.db.sessions() as session:
        timers = _proof_samples(
            lambda i, n: ctx.audit.inclusion_proof(session, i, n),
            lambda m, n: ctx.audit.consistency_proof(session, m, n),
            size,
            samples,
        )
    ctx.db.dispose()
    return timers


def memory_proofs(data: list[bytes], samples: int) -> dict[str, Timer]:
    from kinko.audit.memtree import MemoryTree

    tree = MemoryTree()
    tree.extend(data)
    return _proof_samples(tree.inclusion_proof, tree.consistency_proof, tree.size, samples)


def pymerkle_proofs(data: list[bytes], samples: int) -> dict[str, Timer]:
    from pymerkle import InmemoryTree

    tree = InmemoryTree(algorithm="sha256")
    for entry in data:
        tree.append_entry(entry)
    # pymerkle numbers leaves from 1
    return _proof_samples(
        lambda i, n: tree.prove_inclusion(i + 1, n), tree.prove_consistency, len(data), samples
    )


def export_and_verify(data: list[bytes], root_dir: Path) -> dict[str, tuple[float, float]]:
    """(wall s, CPU s) for writing the tiles and for `verify_directory` on them."""
    from kinko.audit.checkpoint import Checkpoint, sign_checkpoint
    from kinko.audit.note import Signer, generate_signer
    from kinko.audit.tiles import TileWriter
    from kinko.audit.verify import verify_directory

    skey, vkey = generate_signer("bench.example/log")
    out = root_dir / "export"
    writer = TileWriter(out)
    w0, c0 = time.perf_counter(), time.process_time()
    chunks = (data[i : i + 256] for i in range(0, len(data), 256))
    root = writer.write_tiles(len(data), chunks)
    writer.write_checkpoint(
        sign_checkpoint(Checkpoint("bench.example/log", len(data), root), Signer.parse(skey))
    )
    export = (time.perf_counter() - w0, time.process_time() - c0)
    w0, c0 = time.perf_counter(), time.process_time()
    verify_directory(out, vkey)
    return {"export": export, "verify": (time.perf_counter() - w0, time.process_time() - c0)}


def _rate(pair: tuple[float, float]) -> str:
    return f"{pair[0]:,.0f} wall / {pair[1]:,.0f} CPU"


def main() -> None:
    from tests.support.servers import PostgresServer

    million = 1_000_000
    console.print(f"[bold]audit benchmarks[/] (full={FULL}) — generating {million:,} entries")
    data = entries(million)
    hashes_per_s, fsync_us = floor_figures()
    table = Table(title="Audit log (rates per second; latencies p50 / p99 in µs)")
    for col in ("measure", "Kinko", "pymerkle", "ratio", "note"):
        table.add_column(col)
    table.add_row("SHA-256 65-byte node hashes/s", f"{hashes_per_s:,.0f}", "", "", "floor")
    table.add_row("fsync (median µs)", f"{fsync_us:,.0f}", "", "", "floor")

    mem = data[:400_000]
    ours, theirs = memory_appends(mem)
    table.add_row(
        "appends/s in memory",
        _rate(ours),
        _rate(theirs),
        f"{ours[1] / theirs[1]:.1f}x (CPU)",
        f"{len(mem):,} entries; pymerkle on the first {len(mem) // 4:,}",
    )
    with tempfile.TemporaryDirectory() as tmp:
        rate = durable_appends(
            f"sqlite:///{tmp}/b.db", Path(tmp), 200_000 if FULL else 60_000, 1000
        )
    table.add_row(
        "appends/s SQLite durable, group commit 1000", _rate(rate), "", "", "WAL, synchronous=FULL"
    )
    with tempfile.TemporaryDirectory() as tmp:
        rate = durable_appends(f"sqlite:///{tmp}/b1.db", Path(tmp), 2000, 1)
    table.add_row("appends/s SQLite durable, 1 per commit", _rate(rate), "", "", "")
    server = PostgresServer(durable=True).start()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            rate = durable_appends(server.url, Path(tmp), 100_000 if FULL else 30_000, 1000)
            single = durable_appends(server.url, Path(tmp), 2000, 1)
    finally:
        server.stop()
    table.add_row(
        "appends/s PostgreSQL durable, group commit 1000",
        _rate(rate),
        "",
        "",
        "fsync=on, synchronous_commit=on; CPU = client only",
    )
    table.add_row("appends/s PostgreSQL durable, 1 per commit", _rate(single), "", "", "")

    ours_p = memory_proofs(data, 5000)
    pym_size = million if FULL else 100_000
    theirs_p = pymerkle_proofs(data[:pym_size], 1000)
    same_size = ours_p if pym_size == million else memory_proofs(data[:pym_size], 1000)
    for kind in ("inclusion", "consistency"):
        if pym_size != million:
            table.add_row(f"{kind} proof, in memory, 10^6 entries", ours_p[kind].cell(), "", "", "")
        table.add_row(
            f"{kind} proof, in memory, {pym_size:,} entries",
            same_size[kind].cell(),
            theirs_p[kind].cell(),
            f"{theirs_p[kind].p99_cpu() / same_size[kind].p99_cpu():.1f}x (p99 CPU)",
            "same entries, same process",
        )
    db_size = million if FULL else 200_000
    with tempfile.TemporaryDirectory() as tmp:
        db_p = db_proofs(f"sqlite:///{tmp}/proofs.db", Path(tmp), db_size, 2000)
    for kind in ("inclusion", "consistency"):
        table.add_row(
            f"{kind} proof, SQLite store", db_p[kind].cell(), "", "", f"{db_size:,} entries"
        )
    with tempfile.TemporaryDirectory() as tmp:
        timings = export_and_verify(data, Path(tmp))
    wall, cpu = timings["export"]
    table.add_row(
        "export 10^6 entries to tlog-tiles (s)", f"{wall:.1f} wall / {cpu:.1f} CPU", "", "", ""
    )
    wall, cpu = timings["verify"]
    table.add_row(
        "verify exported 10^6-entry log (s, 1 core)",
        f"{wall:.1f} wall / {cpu:.1f} CPU",
        "",
        "",
        "target <= 15 s",
    )
    console.print(table)
