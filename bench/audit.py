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

from rich.console import Console
from rich.table import Table

FULL = os.environ.get("KINKO_BENCH_FULL") == "1"
console = Console()


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


def median_rate(fn: Callable[[], int], runs: int = 3) -> float:
    rates = []
    for _ in range(runs):
        t0 = time.perf_counter()
        count = fn()
        rates.append(count / (time.perf_counter() - t0))
    return statistics.median(rates)


def percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered), ordered[int(len(ordered) * 0.99) - 1]


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


def memory_appends(data: list[bytes]) -> tuple[float, float]:
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


def _context(url: str, data_dir: Path) -> object:
    from kinko.config import Settings
    from kinko.context import build_context
    from kinko.core.clock import FixedClock

    settings = Settings(data_dir=data_dir, database_url=url, log_json=False)
    return build_context(settings, clock=FixedClock(datetime(2026, 11, 21, tzinfo=UTC)))


def durable_appends(url: str, data_dir: Path, total: int, batch: int) -> float:
    """Group commit: `batch` entries per transaction, each commit durable."""
    import kinko.store.tables  # noqa: F401
    from kinko.audit.service import AuditItem
    from kinko.context import Context
    from kinko.store.base import Base

    ctx = _context(url, data_dir)
    assert isinstance(ctx, Context)
    Base.metadata.create_all(ctx.db.engine)
    items = [AuditItem("user:u1", "withdrawal.approve", f"wd-{i}", {"i": i}) for i in range(batch)]
    t0 = time.perf_counter()
    done = 0
    while done < total:
        with ctx.db.transaction() as session:
            ctx.audit.append_many(session, items)
        done += batch
    rate = done / (time.perf_counter() - t0)
    ctx.db.dispose()
    return rate


def db_proofs(url: str, data_dir: Path, size: int, samples: int) -> dict[str, tuple[float, float]]:
    import kinko.store.tables  # noqa: F401
    from kinko.audit.service import AuditItem
    from kinko.context import Context
    from kinko.store.base import Base

    ctx = _context(url, data_dir)
    assert isinstance(ctx, Context)
    Base.metadata.create_all(ctx.db.engine)
    batch = 5000
    items = [AuditItem("user:u1", "bench.fill", f"s{i}", {}) for i in range(batch)]
    for _ in range(size // batch):
        with ctx.db.transaction() as session:
            ctx.audit.append_many(session, items)
    rng = random.Random(1)
    inc, con = [], []
    with ctx.db.sessions() as session:
        for _ in range(samples):
            index = rng.randrange(size)
            t0 = time.perf_counter()
            ctx.audit.inclusion_proof(session, index, size)
            inc.append(time.perf_counter() - t0)
            first = rng.randrange(1, size)
            t0 = time.perf_counter()
            ctx.audit.consistency_proof(session, first, size)
            con.append(time.perf_counter() - t0)
    ctx.db.dispose()
    return {"inclusion": percentiles(inc), "consistency": percentiles(con)}


def memory_proofs(data: list[bytes], samples: int) -> dict[str, tuple[float, float]]:
    from kinko.audit.memtree import MemoryTree

    tree = MemoryTree()
    tree.extend(data)
    size = tree.size
    rng = random.Random(2)
    inc, con = [], []
    for _ in range(samples):
        index = rng.randrange(size)
        t0 = time.perf_counter()
        tree.inclusion_proof(index, size)
        inc.append(time.perf_counter() - t0)
        first = rng.randrange(1, size)
        t0 = time.perf_counter()
        tree.consistency_proof(first, size)
        con.append(time.perf_counter() - t0)
    return {"inclusion": percentiles(inc), "consistency": percentiles(con)}


def pymerkle_proofs(data: list[bytes], samples: int) -> dict[str, tuple[float, float]]:
    from pymerkle import InmemoryTree

    tree = InmemoryTree(algorithm="sha256")
    for entry in data:
        tree.append_entry(entry)
    size = len(data)
    rng = random.Random(2)
    inc, con = [], []
    for _ in range(samples):
        index = rng.randrange(size)
        t0 = time.perf_counter()
        tree.prove_inclusion(index + 1, size)
        inc.append(time.perf_counter() - t0)
        first = rng.randrange(1, size)
        t0 = time.perf_counter()
        tree.prove_consistency(first, size)
        con.append(time.perf_counter() - t0)
    return {"inclusion": percentiles(inc), "consistency": percentiles(con)}


def export_and_verify(data: list[bytes], root_dir: Path) -> tuple[float, float]:
    from kinko.audit.checkpoint import Checkpoint, sign_checkpoint
    from kinko.audit.note import Signer, generate_signer
    from kinko.audit.tiles import TileWriter
    from kinko.audit.verify import verify_directory

    skey, vkey = generate_signer("bench.example/log")
    out = root_dir / "export"
    writer = TileWriter(out)
    t0 = time.perf_counter()
    chunks = (data[i : i + 256] for i in range(0, len(data), 256))
    root = writer.write_tiles(len(data), chunks)
    writer.write_checkpoint(
        sign_checkpoint(Checkpoint("bench.example/log", len(data), root), Signer.parse(skey))
    )
    export_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    verify_directory(out, vkey)
    return export_s, time.perf_counter() - t0


def main() -> None:
    from tests.support.servers import PostgresServer

    million = 1_000_000
    console.print(f"[bold]audit benchmarks[/] (full={FULL}) — generating {million:,} entries")
    data = entries(million)
    hashes_per_s, fsync_us = floor_figures()
    table = Table(title="Audit log")
    for col in ("measure", "Kinko", "pymerkle", "ratio", "note"):
        table.add_column(col)
    table.add_row("SHA-256 65-byte node hashes/s", f"{hashes_per_s:,.0f}", "", "", "floor")
    table.add_row("fsync (median µs)", f"{fsync_us:,.0f}", "", "", "floor")

    mem = data[:400_000]
    ours, theirs = memory_appends(mem)
    table.add_row(
        "appends/s in memory",
        f"{ours:,.0f}",
        f"{theirs:,.0f}",
        f"{ours / theirs:.1f}x",
        f"{len(mem):,} entries; pymerkle on the first {len(mem) // 4:,}",
    )
    with tempfile.TemporaryDirectory() as tmp:
        sqlite_rate = durable_appends(
            f"sqlite:///{tmp}/bench.db", Path(tmp), 200_000 if FULL else 60_000, 1000
        )
    table.add_row(
        "appends/s SQLite durable, group commit 1000",
        f"{sqlite_rate:,.0f}",
        "",
        "",
        "WAL, synchronous=FULL",
    )
    with tempfile.TemporaryDirectory() as tmp:
        single = durable_appends(f"sqlite:///{tmp}/bench1.db", Path(tmp), 2000, 1)
    table.add_row("appends/s SQLite durable, 1 per commit", f"{single:,.0f}", "", "", "")
    server = PostgresServer(durable=True).start()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            pg_rate = durable_appends(server.url, Path(tmp), 100_000 if FULL else 30_000, 1000)
    finally:
        server.stop()
    table.add_row(
        "appends/s PostgreSQL durable, group commit 1000",
        f"{pg_rate:,.0f}",
        "",
        "",
        "fsync=on, synchronous_commit=on",
    )

    samples = 5000
    ours_p = memory_proofs(data, samples)
    pym_size = million if FULL else 100_000
    theirs_p = pymerkle_proofs(data[:pym_size], 1000)
    for kind in ("inclusion", "consistency"):
        p50, p99 = ours_p[kind]
        t50, t99 = theirs_p[kind]
        table.add_row(
            f"{kind} proof p50 / p99 (µs), in memory, 10^6",
            f"{p50 * 1e6:,.0f} / {p99 * 1e6:,.0f}",
            f"{t50 * 1e6:,.0f} / {t99 * 1e6:,.0f}",
            f"{t99 / p99:.1f}x (p99)",
            f"pymerkle at {pym_size:,} entries",
        )
    db_size = million if FULL else 200_000
    with tempfile.TemporaryDirectory() as tmp:
        db_p = db_proofs(f"sqlite:///{tmp}/proofs.db", Path(tmp), db_size, 2000)
    for kind in ("inclusion", "consistency"):
        p50, p99 = db_p[kind]
        table.add_row(
            f"{kind} proof p50 / p99 (µs), SQLite store",
            f"{p50 * 1e6:,.0f} / {p99 * 1e6:,.0f}",
            "",
            "",
            f"{db_size:,} entries",
        )
    with tempfile.TemporaryDirectory() as tmp:
        export_s, verify_s = export_and_verify(data, Path(tmp))
    table.add_row("export 10^6 entries to tlog-tiles (s)", f"{export_s:.1f}", "", "", "")
    table.add_row(
        "verify exported 10^6-entry log (s, 1 core)", f"{verify_s:.1f}", "", "", "target <= 15 s"
    )
    console.print(table)
