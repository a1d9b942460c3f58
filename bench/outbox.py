"""The event outbox's cost: what writing a transaction's events with it adds.

Run: ``.venv/bin/python -m bench outbox``. Each transaction appends one audit entry (as
every write of Kinko's does) and announces three security events, on SQLite in a
temporary directory; rounds alternate with the outbox on (as served) and off (the events
only published after the commit, as before the outbox), so that both meet the same
machine. Reports median transactions per second and CPU per transaction, and the ratio.
"""

from __future__ import annotations

import os
import statistics
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from rich.console import Console
from rich.table import Table

from kinko.config import Settings
from kinko.context import build_context
from kinko.core.events import SecurityEvent
from kinko.store.base import Base
from kinko.store.publish import publish_after_commit

TRANSACTIONS = 600
ROUNDS = 5


def one_round(outbox: bool) -> tuple[float, float]:
    """(transactions per second, CPU ms per transaction)."""
    data = Path(tempfile.mkdtemp(prefix="kinko-bench-outbox-"))
    ctx = build_context(
        Settings(data_dir=data, database_url=f"sqlite:///{data / 'k.db'}", log_json=False)
    )
    Base.metadata.create_all(ctx.db.engine)
    ctx.bus.subscribe_batches(lambda events: None)
    if not outbox:
        ctx.db.outbox = None  # type: ignore[assignment]  # the baseline: no outbox
    start, cpu = time.perf_counter(), time.process_time()
    for i in range(TRANSACTIONS):
        with ctx.db.transaction() as session:
            ctx.audit.append(session, actor="user:u", action="bench.write", subject=str(i))
            for k in range(3):
                event = SecurityEvent(
                    type="withdrawal.requested",
                    time=datetime.now(UTC),
                    actor="user:u",
                    amount=i,
                    fields={"k": k},
                )
                publish_after_commit(session, ctx.bus, event)
    wall, cpu = time.perf_counter() - start, time.process_time() - cpu
    ctx.db.dispose()
    return TRANSACTIONS / wall, cpu / TRANSACTIONS * 1e3


def main() -> None:
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})  # one core
    runs: dict[bool, list[tuple[float, float]]] = {False: [], True: []}
    for _ in range(ROUNDS):
        for outbox in (False, True):
            runs[outbox].append(one_round(outbox))
    table = Table(title=f"event outbox: {TRANSACTIONS} transactions x {ROUNDS} rounds, SQLite")
    for column in ("outbox", "tx/s (median)", "CPU ms/tx (median)"):
        table.add_column(column)
    medians = {}
    for outbox in (False, True):
        rate = statistics.median(r[0] for r in runs[outbox])
        cpu = statistics.median(r[1] for r in runs[outbox])
        medians[outbox] = (rate, cpu)
        table.add_row("on" if outbox else "off (baseline)", f"{rate:,.0f}", f"{cpu:.3f}")
    console = Console()
    console.print(table)
    (off_rate, off_cpu), (on_rate, on_cpu) = medians[False], medians[True]
    console.print(
        f"with/without: {on_rate / off_rate:.2f}x throughput, "
        f"+{on_cpu - off_cpu:.3f} ms CPU per transaction"
    )
