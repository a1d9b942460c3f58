"""Inspection benchmark (#16 point 8): ``kinko inspect run --framework all`` over a year.

365 daily snapshots of 500 wallets x 50 assets (25,000 balances a day), 1,500 key shares
and 200 staff with their grants and factors, stored as ``kinko serve`` stores them (zlib
canonical JSON with its digest, each logged as ``inspection.snapshot``), plus a governance
register of 40 records. Timed on one core, SQLite in a temporary directory:

- read: the run's reading alone (decompress, check digests, parse every snapshot, one
  at a time): the floor any run over these days pays (the baseline, same process, same
  data); the run is reported as a ratio of it;
- run: ``InspectionRuns.run(None, ...)``, what the command does (read and evaluate the
  days in one walk, prove each snapshot into a signed checkpoint, write the report, log
  its digest).

Peak memory: the run again in a fresh interpreter on the same stored data (``child``), so
its peak resident set (``resource.getrusage``) is the command's own, not the set-up's: over
the whole period, and for ``jp`` over it and over its last 30 days (``all`` reads the
365-day KRW price window before any period, so the short period is run for ``jp``):
bounded memory means the peaks are close. ``KINKO_BENCH_COMPARE_SRC=DIR`` runs it once
more with the code of another checkout's ``src`` (``git archive COMMIT src | tar -x -C
DIR``), a before/after on the same data, and says whether the reports are byte-identical.
Setup (generating and storing the year) is not timed. Seven distinct balance matrices are
generated and reused in rotation (each day's document is its own: its day and times
differ).

Run: ``.venv/bin/python -m bench inspection``; ``KINKO_BENCH_DAYS=30`` for a short year,
``KINKO_BENCH_FULL=1`` for 3 rounds (the default is 1: a round takes a minute).
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
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


def _context(directory: Path) -> tuple[Any, Any]:
    """The context and services of the exchange `setup` stored in `directory`."""
    from kinko.config import Settings
    from kinko.context import build_context
    from kinko.core.clock import FixedClock
    from kinko.services import build_services

    url = f"sqlite:///{directory / 'k.db'}"
    ctx = build_context(Settings(data_dir=directory, database_url=url),
                        clock=FixedClock(datetime.now(UTC)))  # fmt: skip
    return ctx, build_services(ctx)


def child() -> None:
    """One run in a fresh process (``python -c``): argv is DIRECTORY FROM TO OUT FRAMEWORK;
    prints its CPU seconds, peak RSS (MiB) and the report's digest as JSON."""
    from kinko.inspection.catalogue import Framework
    from kinko.inspection.runs import InspectionRuns

    directory, start, end, out, name = sys.argv[1:6]
    framework = None if name == "all" else Framework(name)
    ctx, services = _context(Path(directory))
    runs = InspectionRuns(ctx, conflict_matrix=services.identity.conflict_matrix)
    cpu, result = timed(lambda: runs.run(framework, Path(out), actor="bench",
                                         start=date.fromisoformat(start),
                                         end=date.fromisoformat(end)))  # fmt: skip
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"cpu_s": cpu, "peak_mib": peak, "digest": result.digest}))


def in_child(
    directory: Path, start: date, end: date, framework: str = "all", src: str | None = None
) -> dict[str, Any]:
    """`child` in a new interpreter (the code of `src` when given, e.g. an older checkout's
    ``src``, on the same stored data): the run's own peak memory, not the set-up's."""
    env = dict(os.environ)
    if src is not None:
        env["PYTHONPATH"] = os.pathsep.join([src, env.get("PYTHONPATH", "")])
    out = directory / f"child-{framework}-{start}-{end}-{'old' if src else 'new'}"
    code = "import bench.inspection as b; b.child()"
    done = subprocess.run(
        [sys.executable, "-c", code, str(directory), start.isoformat(), end.isoformat(), str(out),
         framework],
        check=True, capture_output=True, text=True, env=env, cwd=Path(__file__).parent.parent,
    )  # fmt: skip
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    from kinko.inspection.runs import InspectionRuns

    compare = os.environ.get("KINKO_BENCH_COMPARE_SRC")
    with tempfile.TemporaryDirectory(prefix="kinko-bench-inspection-") as tmp:
        directory = Path(tmp)
        t0 = time.perf_counter()
        ctx, services, start, end = setup(directory)
        setup_s = time.perf_counter() - t0
        runs = InspectionRuns(ctx, conflict_matrix=services.identity.conflict_matrix)
        from kinko.inspection.evaluate import Period

        period = Period(start, end)
        reads, full = [], []
        summary: dict[str, int] = {}
        digests = set()
        for r in range(ROUNDS):
            # the baseline: every snapshot read, checked and parsed (then dropped)
            read_s, count = timed(lambda: sum(1 for _ in _stream(runs, start, period)))
            reads.append(read_s)
            out = directory / f"out{r}"
            run_s, result = timed(
                functools.partial(runs.run, None, out, actor="bench", start=start, end=end)
            )
            full.append(run_s)
            summary = result.summary
            digests.add(result.digest)
        year = in_child(directory, start, end)
        jp_year = in_child(directory, start, end, "jp")
        jp_month = in_child(directory, end - timedelta(days=min(DAYS, 30) - 1), end, "jp")
        old = in_child(directory, start, end, "all", compare) if compare else None

    table = Table(
        title=f"inspect run --framework all: {DAYS} days x {WALLETS} wallets x "
        f"{ASSETS} assets, {STAFF} staff (CPU s, median of {ROUNDS})"
    )
    for col in ("step", "CPU s", "per day ms", "vs read", "note"):
        table.add_column(col)
    med = statistics.median
    table.add_row("read (baseline)", f"{med(reads):.2f}", f"{med(reads) / DAYS * 1000:.1f}",
                  "1.00", f"{count} snapshots: decompress, digest, parse")  # fmt: skip
    verdict = "ok" if med(full) <= TARGET_S else "OVER"
    ratio = f"{med(full) / med(reads):.2f}"
    table.add_row("run (the command)", f"{med(full):.2f}", f"{med(full) / DAYS * 1000:.1f}",
                  ratio, f"target <= {TARGET_S:.0f} s: {verdict}")  # fmt: skip
    console.print(table)
    console.print(f"setup {setup_s:.1f} s (not timed); summary {summary}; report digests of "
                  f"the rounds: {len(digests)} distinct")  # fmt: skip
    memory = Table(title="the run in a fresh process: peak RSS (the command's whole process)")
    for col in ("code", "framework", "days", "CPU s", "peak RSS MiB", "report sha256"):
        memory.add_column(col)
    rows = (("this", "all", DAYS, year), ("this", "jp", DAYS, jp_year),
            ("this", "jp", min(DAYS, 30), jp_month), ("compare", "all", DAYS, old))  # fmt: skip
    for name, framework, days, run in rows:
        if run is not None:
            memory.add_row(name, framework, str(days), f"{run['cpu_s']:.2f}",
                           f"{run['peak_mib']:.0f}", run["digest"][:16])  # fmt: skip
    console.print(memory)
    if old is not None:
        same = "identical" if old["digest"] == year["digest"] else "DIFFERENT"
        console.print(f"reports of the compared code and this code: {same}")


def _stream(runs: Any, start: date, period: Any) -> Any:
    _, logged = runs._evidence(start, period)
    return runs.stream(list(logged.values()))
