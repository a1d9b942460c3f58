"""Liabilities statements benchmark (#19): import a statement, then build reserves from it.

100,000 accounts (``KINKO_BENCH_ACCOUNTS``) x 3-6 holdings each over 20 assets (Zipf skew),
about 450k rows: a CSV statement is imported through `kinko.custody.statements` (streamed,
batch inserts, one transaction), then `ReservesService.build_from_custody` reads it back
and builds every asset's tree; the build from the same file (`build`, `--ledger`) is timed
beside it. Each on SQLite and PostgreSQL (``KINKO_BENCH_BACKENDS``): wall clock, CPU time
of this process (PostgreSQL's own CPU is not in it) and peak resident memory.

Run: ``.venv/bin/python -m bench liabilities``.
"""

from __future__ import annotations

import itertools
import logging
import os
import random
import resource
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

ACCOUNTS = int(os.environ.get("KINKO_BENCH_ACCOUNTS", "100000"))
ASSETS = 20
ACTOR = "system:bench"
console = Console()


def write_statement(path: Path, seed: int = 19) -> int:
    """A CSV statement; the number of rows."""
    rng = random.Random(seed)
    weights = list(itertools.accumulate(1 / (r + 1) ** 1.1 for r in range(ASSETS)))
    count = 0
    with path.open("w") as out:
        out.write("account,asset,base_units\n")
        for n in range(ACCOUNTS):
            chosen = set(rng.choices(range(ASSETS), cum_weights=weights, k=rng.randint(3, 6)))
            for a in sorted(chosen):
                out.write(f"acct-{n:07d},bench:T{a:02d},{rng.randrange(1, 10**12)}\n")
                count += 1
    return count


@contextmanager
def database(backend: str, root: Path) -> Iterator[str]:
    if backend == "sqlite":
        yield f"sqlite:///{root / 'kinko.db'}"
        return
    from tests.support.servers import PostgresServer

    pg = PostgresServer(durable=True).start()
    try:
        yield pg.url
    finally:
        pg.stop()


def _context(root: Path, url: str) -> Any:
    import kinko.store.tables  # noqa: F401
    from kinko.audit.note import generate_signer
    from kinko.config import Settings
    from kinko.context import build_context
    from kinko.core.amount import Asset
    from kinko.core.secretfile import write_secret_file
    from kinko.custody import wallets
    from kinko.store.base import Base

    settings = Settings(data_dir=root, database_url=url, log_json=False, log_level="error")
    ctx = build_context(settings)
    Base.metadata.create_all(ctx.db.engine)
    write_secret_file(
        settings.resolved_audit_key_path, generate_signer(settings.audit_origin)[0].encode()
    )
    write_secret_file(settings.resolved_secret_key_path, os.urandom(32))
    with ctx.db.transaction() as s:
        for a in range(ASSETS):
            wallets.unsafe_register_asset(ctx, s, Asset(f"T{a:02d}", "bench", 8), actor=ACTOR)
    return ctx


def _timed(step: Callable[[], Any]) -> tuple[Any, float, float]:
    wall, cpu = time.perf_counter(), time.process_time()
    out = step()
    return out, time.perf_counter() - wall, time.process_time() - cpu


def _rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run(backend: str, table: Table) -> None:
    from kinko.custody import holdings, statements
    from kinko.reserves.ledger import parse_ledger_csv
    from kinko.services import build_services

    with (
        tempfile.TemporaryDirectory(prefix="kinko-bench-") as tmp,
        database(backend, Path(tmp)) as url,
    ):
        root = Path(tmp)
        ctx = _context(root, url)
        path = root / "statement.csv"
        rows = write_statement(path)
        load = os.getloadavg()[0]

        def do_import() -> Any:
            with ctx.db.transaction() as s:
                at = ctx.clock.now() - timedelta(minutes=1)
                done = statements.import_statement(
                    ctx, s, path, as_of=at, source=path.name, actor=ACTOR
                )
                holdings.take_snapshot(ctx, s, at.date(), actor=ACTOR)
            return done

        done, wall, cpu = _timed(do_import)
        table.add_row(
            backend, "import", f"{rows:,}", f"{wall:.1f}", f"{cpu:.1f}",
            f"{rows / wall:,.0f}", f"{_rss_mib():.0f}", f"{load:.1f}",
        )  # fmt: skip
        service = build_services(ctx).reserves
        built, wall, cpu = _timed(
            lambda: service.build_from_custody(at=ctx.clock.now(), actor=ACTOR)
        )
        assert built.source is not None and built.source.statement == done.id
        table.add_row(
            backend, "build from custody", f"{done.holdings:,}", f"{wall:.1f}", f"{cpu:.1f}",
            f"{done.holdings / wall:,.0f}", f"{_rss_mib():.0f}", f"{os.getloadavg()[0]:.1f}",
        )  # fmt: skip
        day = done.as_of.date()
        _, wall, cpu = _timed(
            lambda: service.build(parse_ledger_csv(path.read_text()), day=day, actor=ACTOR)
        )
        table.add_row(
            backend, "build from the file", f"{rows:,}", f"{wall:.1f}", f"{cpu:.1f}",
            f"{rows / wall:,.0f}", f"{_rss_mib():.0f}", f"{os.getloadavg()[0]:.1f}",
        )  # fmt: skip
        ctx.db.dispose()


def main() -> None:
    logging.getLogger("kinko").setLevel(logging.ERROR)
    table = Table(
        "backend", "step", "rows", "wall s", "CPU s", "rows/s (wall)", "peak RSS MiB", "load",
        title=f"liabilities statements: {ACCOUNTS:,} accounts x 3-6 holdings, {ASSETS} assets",
    )  # fmt: skip
    backends = os.environ.get("KINKO_BENCH_BACKENDS", "sqlite,postgresql").split(",")
    for backend in backends:
        run(backend.strip(), table)
    console.print(table)
