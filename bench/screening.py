"""Screening benchmark: list loading, address lookups, bulk name screening.

``python -m bench screening``. Sizes (environment):

- ``KINKO_BENCH_SCREENING_MB`` (default 100): size of the synthetic sdn_advanced.xml,
- ``KINKO_BENCH_SCREENING_PEOPLE`` (default 100000) and ``..._LIST_NAMES`` (default 20000).

The XML is generated in a temporary directory in OFAC's advanced schema (parties with
aliases, addresses and the location padding real parties carry) and deleted afterwards.
"""

from __future__ import annotations

import os
import random
import resource
import statistics
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from rich.console import Console
from rich.table import Table

from bench._screening_data import people, random_name, write_advanced_xml
from kinko.config import Settings
from kinko.context import build_context
from kinko.core.clock import FixedClock
from kinko.screening.addresses import normalise_address
from kinko.screening.index import AddressIndex
from kinko.screening.loaders import parse_file
from kinko.screening.model import AddressHit, ListName, VersionId
from kinko.screening.name_index import IndexedEntity, NameIndex
from kinko.screening.names import name_tokens
from kinko.screening.service import ScreeningService
from kinko.store.base import Base


def _env(name: str, default: int) -> int:
    return int(os.environ.get(name, default))


def _rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def bench_load(table: Table, directory: Path, megabytes: int) -> list[str]:
    path = directory / "sdn_advanced.xml"
    started = time.perf_counter()
    parties, eth = write_advanced_xml(path, target_bytes=megabytes * 1024 * 1024)
    generated = time.perf_counter() - started
    size = path.stat().st_size / 1024 / 1024
    before = _rss_mib()
    started = time.perf_counter()
    cpu_started = time.process_time()
    [parsed] = parse_file(path)
    parse_s = time.perf_counter() - started
    parse_cpu = time.process_time() - cpu_started
    parse_rss = _rss_mib()
    settings = Settings(
        data_dir=directory, database_url=f"sqlite:///{directory / 'bench.db'}", log_json=False
    )
    ctx = build_context(settings, clock=FixedClock(datetime(2026, 11, 21, tzinfo=UTC)))
    Base.metadata.create_all(ctx.db.engine)
    started = time.perf_counter()
    cpu_started = time.process_time()
    result = ScreeningService(ctx).load_file(path, actor="bench")
    load_s = time.perf_counter() - started
    load_cpu = time.process_time() - cpu_started
    ctx.db.dispose()
    table.add_row(
        "generate synthetic sdn_advanced.xml",
        f"{size:.0f} MiB, {parties} parties",
        f"{generated:.1f} s",
        "",
    )
    table.add_row(
        "parse (streamed, defusedxml)",
        f"{len(parsed.entities)} entities, {len(parsed.addresses)} addresses",
        f"{parse_cpu:.1f} s CPU, {parse_s:.1f} s wall ({size / parse_cpu:.1f} MiB/CPU-s)",
        f"peak RSS {parse_rss:.0f} MiB (before {before:.0f})",
    )
    table.add_row(
        "load_file into SQLite (parse + store + audit)",
        f"version {result.versions[0].id}",
        f"{load_cpu:.1f} s CPU, {load_s:.1f} s wall",
        f"peak RSS {_rss_mib():.0f} MiB",
    )
    return eth


def bench_addresses(table: Table, listed_eth: list[str]) -> None:
    rng = random.Random(7)
    listed = listed_eth[:20000] or ["0x" + rng.randbytes(20).hex() for _ in range(20000)]
    hit = AddressHit(ListName("ofac-sdn"), VersionId("lv"), "1", "X", ("CYBER2",), "", "ETH")
    index = AddressIndex((f"evm:{a.lower()}", hit) for a in listed)
    queries = [
        f"evm:{rng.choice(listed).lower()}"
        if rng.random() < 0.01
        else "evm:0x" + rng.randbytes(20).hex()
        for _ in range(1_000_000)
    ]
    runs = []
    for _ in range(5):
        started = time.process_time()
        found = 0
        lookup = index.lookup
        for key in queries:
            if lookup(key):
                found += 1
        runs.append(time.process_time() - started)
    median = statistics.median(runs)
    table.add_row(
        "address lookups (normalised key)",
        f"{len(index)} listed, 1M queries, {found} hits",
        f"{len(queries) / median / 1e6:.2f} M/CPU-s (median of 5)",
        "target >= 1M/s",
    )
    raw = [q[4:] for q in queries[:200_000]]
    started = time.perf_counter()
    for address in raw:
        lookup(normalise_address("ethereum", address).key)
    elapsed = time.perf_counter() - started
    table.add_row(
        "normalise (lower-case EVM) + lookup",
        "200k queries",
        f"{len(raw) / elapsed / 1e6:.2f} M/s",
        "mixed-case input adds an EIP-55 keccak",
    )


def bench_names(table: Table, list_size: int, count: int) -> None:
    rng = random.Random(11)
    list_names = [random_name(rng) for _ in range(list_size)]
    entities = [
        IndexedEntity(ListName("ofac-sdn"), VersionId("lv"), str(i), n, (n,))
        for i, n in enumerate(list_names)
    ]
    started = time.perf_counter()
    index = NameIndex(entities)
    built = time.perf_counter() - started
    by_tokens: dict[frozenset[str], set[str]] = {}
    for i, n in enumerate(list_names):
        by_tokens.setdefault(frozenset(name_tokens(n)), set()).add(str(i))
    positives = max(1, count // 50)
    queries = list(people(list_names, count, positives, rng))
    tp = fp = fn = 0
    started = time.perf_counter()
    cpu_started = time.process_time()
    for query, target in queries:
        found = {h.entity_ref for h in index.match(query, threshold=0.88)}
        expected = set(by_tokens.get(frozenset(name_tokens(query)), set()))
        if target is not None:
            expected |= by_tokens[frozenset(name_tokens(list_names[target]))]
        tp += len(found & expected)
        fn += len(expected - found)
        fp += len(found - expected)
    elapsed = time.perf_counter() - started
    cpu = time.process_time() - cpu_started
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / (tp + fn) if tp + fn else 1.0
    table.add_row(
        "name index build",
        f"{list_size} list names, {index.form_count} forms",
        f"{built:.1f} s",
        "",
    )
    table.add_row(
        "screen people (one core)",
        f"{count} names vs {list_size} list names, {positives} labelled variants",
        f"{cpu:.1f} s CPU, {elapsed:.1f} s wall ({count / cpu:.0f} names/CPU-s)",
        f"target <= 60 s; precision {precision:.3f}, recall {recall:.3f} "
        f"(tp {tp}, fp {fp}, fn {fn})",
    )


def main() -> None:
    console = Console()
    table = Table(title="Screening benchmark")
    for column in ("what", "size", "result", "notes"):
        table.add_column(column)
    megabytes = _env("KINKO_BENCH_SCREENING_MB", 100)
    with tempfile.TemporaryDirectory(prefix="kinko-bench-screening-") as directory:
        eth = bench_load(table, Path(directory), megabytes)
    bench_addresses(table, eth)
    bench_names(
        table,
        _env("KINKO_BENCH_SCREENING_LIST_NAMES", 20000),
        _env("KINKO_BENCH_SCREENING_PEOPLE", 100000),
    )
    console.print(table)
    load = os.getloadavg()
    console.print(
        f"CPU times are process CPU seconds (one thread); load average during the run: "
        f"{load[0]:.1f} (the machine is shared, so wall times are inflated)"
    )
