"""Inspection benchmark (#16 point 8): ``kinko inspect run --framework all`` over a year.

365 daily snapshots of 500 wallets x 50 assets (25,000 balances a day), 1,500 key shares
and 200 staff with their grants and factors, stored as ``kinko serve`` stores them (zlib
canonical JSON with its digest, each logged as ``inspection.snapshot``), plus a governance
register of 40 records. Timed on one core, SQLite in a temporary directory:

- read: the run's reading alone (decompress, check digests, parse every snapshot): the
  floor any run over these days pays (the baseline, same process, same data);
- evaluate: the pure evaluator over the parsed evidence (every control of the catalogue);
- run: ``InspectionRuns.run(None, ...)``, what the command does (read, evaluate, prove each
  snapshot into a signed checkpoint, write the report, log its digest).

Peak memory: the process's maximum resident set (``resource.getrusage``) before and after,
and tracemalloc's peak during one evaluation. Setup (generating and storing the year) is
not timed. Seven distinct balance matrices are generated and reused in rotation (each
day's document is its own: its day and times differ).

Run: ``.venv/bin/python -m bench inspection``; ``KINKO_BENCH_DAYS=30`` for a short year,
``KINKO_BENCH_FULL=1`` for 3 rounds (the default is 1: a round takes a minute).
"""

from __future__ import annotations

import hashlib
import os
import random
import resource
import statistics
import tempfile
import time
import tracemalloc
import zlib
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from datetime import time as dtime
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

WALLETS, ASSETS, STAFF, VARIANTS = 500, 50, 200, 7
DAYS = int(os.environ.get("KINKO_BENCH_DAYS", "365"))
ROUNDS = 3 if os.environ.get("KINKO_BENCH_FULL") == "1" else 1
TARGET_S = 60.0
BASE = date(2020, 1, 1)  # the variants' day, replaced by each stored day's
console = Console()


def _variant(rng: random.Random, assets: list[str], decimals: dict[str, int]) -> Any:
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

    when = iso(datetime.combine(BASE, dtime(0, 5), tzinfo=UTC))
    made = "2019-06-01T00:00:00.000000Z"
    tiers = ("cold", "cold", "cold", "cold", "warm", "hot")
    wallets = tuple(
        Wallet(
            f"w{i:03d}",
            f"wallet-{i}",
            "bitcoin",
            "mainnet",
            tiers[i % 6],
            "customer" if i < 440 else "proprietary",
            "operational",
            2,
            3,
            tuple(assets),
            True,
            made,
        )
        for i in range(WALLETS)
    )
    held: dict[str, int] = dict.fromkeys(assets, 0)
    balances = []
    for w in wallets:
        for a in assets:
            units = rng.randrange(10 ** (decimals[a] + 2))
            balances.append(Balance(w.id, a, units, "node", when))
            if w.owner_class == "customer":
                held[a] += units
    liabilities = tuple(Liability(a, held[a] * 9 // 10, "ledger", when) for a in assets)
    prices = tuple(
        Price(c, a, BASE.isoformat(), str(rng.randrange(1, 10**7)))
        for c in ("JPY", "KRW")
        for a in assets
    )
    roles = ("requester", "approver", "operator", "auditor", "viewer")
    people = tuple(
        Person(
            f"u{i:03d}",
            f"staff{i}",
            "active",
            (Grant(roles[i % 5], (), (), made, "u000"),),
            1,
            1,
            10,
        )
        for i in range(STAFF)
    )
    keys = tuple(
        KeyShare(
            f"ks{i:03d}{j}",
            w.id,
            f"u{(i * 3 + j) % STAFF:03d}",
            f"hsm-{i}-{j}",
            f"site-{j % 2}",
            f"entity-{j % 2}",
            f"02{i:03d}{j}",
            "active",
            made,
        )
        for i, w in enumerate(wallets)
        for j in range(3)
    )
    lists = (ScreeningList("ofac", "v1", "OFAC", when, "ab" * 32, "xml", when, 10, 5),)
    snap = Snapshot(BASE, when, Origin.TAKEN, wallets, tuple(balances), liabilities, prices,
                    keys, people, lists, ())  # fmt: skip
    return snap.encode()


def setup(directory: Path) -> tuple[Any, Any, date, date]:
    from kinko.audit.note import generate_signer
    from kinko.config import Settings
    from kinko.context import build_context
    from kinko.core.amount import Asset
    from kinko.core.clock import FixedClock
    from kinko.custody import wallets
    from kinko.inspection.snapshots import ACTION
    from kinko.services import build_services
    from kinko.store.base import Base
    from kinko.store.tables.inspection import InspectionSnapshotRow

    end = datetime.now(UTC).date() - timedelta(days=1)
    start = end - timedelta(days=DAYS - 1)
    settings = Settings(data_dir=directory, database_url=f"sqlite:///{directory / 'k.db'}")
    ctx = build_context(settings, clock=FixedClock(datetime.now(UTC)))
    Base.metadata.create_all(ctx.db.engine)
    skey, _ = generate_signer(settings.audit_origin)
    settings.resolved_audit_key_path.write_text(skey + "\n", encoding="utf-8")
    settings.resolved_audit_key_path.chmod(0o600)
    rng = random.Random(16)
    assets = sorted(f"chain{i % 5}:A{i:02d}" for i in range(ASSETS))
    decimals = {a: (8, 18, 6, 0, 12)[i % 5] for i, a in enumerate(assets)}
    with ctx.db.transaction() as s:
        for a in assets:
            chain, symbol = a.split(":")
            asset = Asset(symbol, chain, decimals[a])
            wallets.unsafe_register_asset(ctx, s, asset, actor="bench")
    variants = [_variant(rng, assets, decimals) for _ in range(VARIANTS)]
    base = BASE.isoformat().encode()
    for i in range(DAYS):
        day = start + timedelta(days=i)
        encoded = variants[i % VARIANTS].replace(base, day.isoformat().encode())
        digest = hashlib.sha256(encoded).hexdigest()
        as_of = datetime.combine(day, dtime(0, 5), tzinfo=UTC)
        with ctx.db.transaction() as s:  # as SnapshotService._store records one
            details = {"digest": digest, "origin": "taken", "size": len(encoded),
                       "as_of": as_of.strftime("%Y-%m-%dT%H:%M:%S.%fZ")}  # fmt: skip
            entry = ctx.audit.append(s, actor="system:inspection", action=ACTION,
                                     subject=day.isoformat(), details=details)  # fmt: skip
            s.add(InspectionSnapshotRow(
                day=day.isoformat(), digest=digest, origin="taken", as_of=as_of,
                document=zlib.compress(encoded), size=len(encoded), recorded_at=as_of,
                recorded_by="system:inspection", imported_from=None, audit_seq=entry.seq,
            ))  # fmt: skip
    services = build_services(ctx)
    _register(ctx, services, start)
    return ctx, services, start, end


def _register(ctx: Any, services: Any, start: date) -> None:
    """40 register records, written as an approved proposal writes them."""
    from tests.unit.inspection.register_seed import good_records

    from kinko.inspection.register_changes import Change, parse_record

    raw = good_records(start)
    changes = [Change.put(parse_record(k, item)) for k, items in raw.items() for item in items]
    vendors = [{**raw[next(iter(k for k in raw if k.value == "vendor"))][0], "name": f"V{i}"}
               for i in range(40 - len(changes))]  # fmt: skip
    kind = next(k for k in raw if k.value == "vendor")
    changes += [Change.put(parse_record(kind, v)) for v in vendors]
    with ctx.db.transaction() as s:
        services.register.apply(s, tuple(changes), None, proposal_id="prp_bench",
                                proposer="user:a", approver="user:b")  # fmt: skip


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    t0 = time.process_time()
    out = fn()
    return time.process_time() - t0, out


def main() -> None:
    from kinko.inspection import catalogue
    from kinko.inspection.evaluate import evaluate, first_needed
    from kinko.inspection.runs import InspectionRuns, default_period

    with tempfile.TemporaryDirectory(prefix="kinko-bench-inspection-") as tmp:
        directory = Path(tmp)
        t0 = time.perf_counter()
        ctx, services, start, end = setup(directory)
        setup_s = time.perf_counter() - t0
        runs = InspectionRuns(ctx, conflict_matrix=services.identity.conflict_matrix)
        cat = catalogue.packaged()
        period = default_period(end, start, end)
        rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        reads, evals, full = [], [], []
        summary: dict[str, int] = {}
        for r in range(ROUNDS):
            first = first_needed(cat, None, period)
            read_s, (evidence, _) = timed(lambda f=first: runs._evidence(f, period))
            reads.append(read_s)
            eval_s, findings = timed(lambda e=evidence: evaluate(cat, None, period, e))
            evals.append(eval_s)
            del evidence, findings
            out = directory / f"out{r}"
            run_s, result = timed(
                lambda out=out: runs.run(None, out, actor="bench", start=start, end=end)
            )
            full.append(run_s)
            summary = result.summary
        rss1 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        evidence, _ = runs._evidence(first_needed(cat, None, period), period)
        tracemalloc.start()
        evaluate(cat, None, period, evidence)
        traced = tracemalloc.get_traced_memory()[1] / 2**20
        tracemalloc.stop()

    table = Table(
        title=f"inspect run --framework all: {DAYS} days x {WALLETS} wallets x "
        f"{ASSETS} assets, {STAFF} staff (CPU s, median of {ROUNDS})"
    )
    for col in ("step", "CPU s", "per day ms", "note"):
        table.add_column(col)
    med = statistics.median
    table.add_row("read (baseline)", f"{med(reads):.2f}", f"{med(reads) / DAYS * 1000:.1f}",
                  "decompress, digest, parse")  # fmt: skip
    table.add_row("evaluate", f"{med(evals):.2f}", f"{med(evals) / DAYS * 1000:.1f}",
                  f"{len(cat.controls)} controls")  # fmt: skip
    verdict = "ok" if med(full) <= TARGET_S else "OVER"
    table.add_row("run (the command)", f"{med(full):.2f}", f"{med(full) / DAYS * 1000:.1f}",
                  f"target <= {TARGET_S:.0f} s: {verdict}")  # fmt: skip
    console.print(table)
    console.print(
        f"setup {setup_s:.1f} s (not timed); peak RSS {rss0:.0f} MiB after setup, {rss1:.0f} "
        f"MiB after the runs; tracemalloc peak of one evaluation {traced:.0f} MiB "
        f"(on top of the parsed evidence); summary {summary}"
    )
