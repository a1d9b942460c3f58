"""Proof-of-reserves benchmark (#19 point 6), one core.

1M accounts x 300 assets, 3-6 holdings each (about 4M leaves), assets chosen with a Zipf
skew (a few assets are held by most accounts, as on a real exchange). Timed, each from
already parsed values: building every asset's tree (account keys, commitments, padding,
sorting, hashing), making customer proofs (the paths, then the JSON document), and the
verifier's check of one asset's path at 2^20 leaves (hex and decimal parsing included).
Targets: >= 150k leaves/s, >= 10k proofs/s, verification p99 <= 0.2 ms, <= 1 KB per asset.

Run: ``.venv/bin/python -m bench reserves``; ``KINKO_BENCH_ACCOUNTS=100000`` for a quick
run; ``KINKO_BENCH_ROUNDS=3`` for the median of three builds.
"""

from __future__ import annotations

import gc
import itertools
import json
import os
import random
import statistics
import time

from rich.console import Console
from rich.table import Table

from kinko.reserves import binary, proof, sumtree, tree
from kinko.reserves.roots import AssetRoot
from kinko.reserves.snapshot import Holdings, Trees, build
from kinko.reserves.verify import verify_path

ACCOUNTS = int(os.environ.get("KINKO_BENCH_ACCOUNTS", "1000000"))
ASSETS = 300
ROUNDS = int(os.environ.get("KINKO_BENCH_ROUNDS", "1"))
PROOFS, VERIFICATIONS = 20_000, 5_000
SECRET, NONCE = bytes(range(32)), bytes(range(16))
console = Console()


def rows(seed: int = 19) -> list[tuple[str, str, int]]:
    rng = random.Random(seed)
    assets = [f"chain{i % 7}:T{i:03d}" for i in range(ASSETS)]
    cumulative = list(itertools.accumulate(1 / (r + 1) ** 1.1 for r in range(ASSETS)))
    out: list[tuple[str, str, int]] = []
    for n in range(ACCOUNTS):
        account = f"acct-{n:07d}"
        chosen = set(rng.choices(range(ASSETS), cum_weights=cumulative, k=rng.randint(3, 6)))
        out.extend((account, assets[a], rng.randrange(1, 10**12)) for a in chosen)
    return out


def _verify_times(t: tree.AssetTree, rng: random.Random) -> tuple[list[float], list[float]]:
    """Per verification: CPU time of this thread, and wall-clock time (which also counts
    the moments another process had the core)."""
    root = AssetRoot(t.asset, t.height, t.root, t.total)
    held = [i for i, s in enumerate(t.sums[0]) if s]
    cpu, wall = [], []
    for index in rng.sample(held, min(VERIFICATIONS, len(held))):
        path = t.path_at(index)
        steps = json.loads(json.dumps(proof.steps_json(path)))  # as the verifier reads them
        start_wall, start_cpu = time.perf_counter(), time.thread_time()
        verify_path(root, path.leaf, path.value, path.index, steps)
        cpu.append(time.thread_time() - start_cpu)
        wall.append(time.perf_counter() - start_wall)
    return sorted(cpu), sorted(wall)


def _tree_at_2_20(trees: Trees) -> tree.AssetTree:
    largest = max(trees.trees.values(), key=lambda t: t.height)
    if largest.height >= 20:
        return largest
    leaves = [tree.leaf(sumtree.padding_leaf(b"\x01" * 32, i), i + 1) for i in range(1000)]
    return tree.build("bench:BIG", leaves, pad_key=bytes(32), floor=1 << 20)


def main() -> None:
    start = time.perf_counter()
    data = rows()
    generated = time.perf_counter() - start
    start = time.perf_counter()
    holdings = Holdings.parse(data)
    parsed = time.perf_counter() - start
    leaves = sum(len(accounts) for accounts, _ in holdings.by_asset.values())
    builds, walls = [], []
    trees: Trees | None = None
    for _ in range(ROUNDS):
        trees = None
        gc.collect()
        started, started_cpu = time.perf_counter(), time.process_time()
        trees = build(holdings, SECRET, NONCE)
        builds.append(time.process_time() - started_cpu)
        walls.append(time.perf_counter() - started)
    assert trees is not None
    # The trees live until the process ends: keep the collector from walking them.
    gc.collect()
    gc.freeze()
    padded = sum(1 << t.height for t in trees.trees.values())
    build_s, build_wall = statistics.median(builds), statistics.median(walls)
    rng = random.Random(5)
    sample = rng.sample(sorted(holdings.accounts()), PROOFS)
    held: dict[str, dict[str, int]] = {a: {} for a in sample}
    for account, asset, units in data:
        if account in held:
            held[account][asset] = units
    start = time.process_time()
    made = [proof.account_paths(trees, a, held[a]) for a in sample]
    paths_s = time.process_time() - start
    roots = trees.roots()
    audit = proof.AuditInclusion(b"{}", 0, (), "checkpoint")
    envelope = proof.Envelope.of("bench", roots, audit)
    start = time.process_time()
    for account, paths in zip(sample, made, strict=True):
        envelope.encode(account, trees.keys[account], paths)
    documents_s = time.process_time() - start
    binaries = []
    for _ in range(3):  # the whole binary proof: leaves, siblings, encoding; median of 3
        start = time.process_time()
        for account in sample:
            content = trees.leaves(account, held[account])
            envelope.encode_binary(account, trees.keys[account], content)
        binaries.append(PROOFS / (time.process_time() - start))
    big = _tree_at_2_20(trees)
    cpu, wall = _verify_times(big, rng)
    p50, p99 = cpu[len(cpu) // 2], cpu[int(len(cpu) * 0.99)]
    w50, w99 = wall[len(wall) // 2], wall[int(len(wall) * 0.99)]
    one = big.path_at(next(i for i, s in enumerate(big.sums[0]) if s))
    json_size = len(json.dumps(proof.path_json(one), separators=(",", ":")))
    one_index = one.index
    binary_size = len(binary.leaf(0, one.value, one_index, big.siblings_at(one_index)))
    table = Table(title=f"reserves: {ACCOUNTS:,} accounts x {ASSETS} assets, one core")
    for column in ("measure", "value", "target"):
        table.add_column(column)
    table.add_row("leaves (holdings)", f"{leaves:,}", "~4M")
    table.add_row("leaves with padding", f"{padded:,}", "")
    table.add_row("generate rows (not timed)", f"{generated:.1f} s", "")
    table.add_row("parse holdings", f"{parsed:.1f} s ({leaves / parsed:,.0f} rows/s)", "")
    table.add_row(
        f"build, CPU (median of {ROUNDS})",
        f"{build_s:.1f} s = {leaves / build_s:,.0f} leaves/s",
        ">= 150,000 leaves/s",
    )
    rounds = ", ".join(f"{leaves / b:,.0f}" for b in builds)
    table.add_row("build, each round (leaves/s, CPU)", rounds, "")
    table.add_row("build, wall clock", f"{build_wall:.1f} s", "")
    table.add_row("proofs: paths", f"{PROOFS / paths_s:,.0f} proofs/s", ">= 10,000/s")
    table.add_row("proofs: JSON documents", f"{PROOFS / documents_s:,.0f} proofs/s", "")
    rates = ", ".join(f"{r:,.0f}" for r in binaries)
    table.add_row(
        "proofs: whole binary proofs (median of 3)",
        f"{statistics.median(binaries):,.0f} proofs/s ({rates})",
        ">= 10,000/s",
    )
    table.add_row("load average (1 min) after", f"{os.getloadavg()[0]:.2f}", "")
    table.add_row(
        f"verify one asset at 2^{big.height}, CPU p50 / p99",
        f"{p50 * 1e3:.3f} / {p99 * 1e3:.3f} ms",
        "p99 <= 0.2 ms",
    )
    table.add_row("  the same, wall clock", f"{w50 * 1e3:.3f} / {w99 * 1e3:.3f} ms", "")
    table.add_row(
        f"proof per asset at 2^{big.height}",
        f"{binary_size} B binary, {json_size} B JSON",
        "<= 1 KB",
    )
    console.print(table)
