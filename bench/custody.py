"""Custody benchmark: cold-share status for a year of daily snapshots (one core).

500 wallets (hot/warm/cold x customer, plus proprietary and guarantee wallets) x 50
assets x 365 daily snapshots: every day's full status (cold share, guarantee for Japan,
full reserve per asset, commingling) is computed from that day's balance matrix. Japan
uses that day's prices; Korea the trailing one-year average, computed for every day with
prefix sums. Target: the 365 days in <= 1 s. Seven distinct daily matrices are generated
and reused in rotation to keep memory small; the work per day is the same.
Also timed: building one day's matrix from 25,000 (wallet, asset, units) rows.

Run: ``.venv/bin/python -m bench custody``; ``KINKO_BENCH_FULL=1`` runs 5 rounds, not 3.
"""

from __future__ import annotations

import functools
import os
import random
import statistics
import time
from collections.abc import Callable
from decimal import Decimal

from rich.console import Console
from rich.table import Table

from kinko.custody.coldshare import (
    BalanceMatrix,
    Regime,
    WalletInfo,
    rolling_averages,
    status,
)
from kinko.custody.model import OwnerClass, Tier, WalletId

WALLETS, ASSETS, DAYS, VARIANTS = 500, 50, 365, 7
ROUNDS = 5 if os.environ.get("KINKO_BENCH_FULL") == "1" else 3
console = Console()


def _wallets(rng: random.Random) -> list[WalletInfo]:
    out = []
    for i in range(WALLETS):
        owner = (
            OwnerClass.CUSTOMER
            if i < 440
            else (OwnerClass.PROPRIETARY if i < 480 else OwnerClass.GUARANTEE)
        )
        tier = (Tier.COLD, Tier.COLD, Tier.COLD, Tier.WARM, Tier.HOT)[rng.randrange(5)]
        out.append(WalletInfo(WalletId(f"w{i:03d}"), tier, owner, f"addr-{i}"))
    return out


def data() -> tuple[
    list[BalanceMatrix], list[dict[str, int]], list[str], dict[str, int], dict[str, list[Decimal]]
]:
    rng = random.Random(7)
    wallets = _wallets(rng)
    assets = [f"chain{i % 5}:A{i:02d}" for i in range(ASSETS)]
    decimals = {a: (8, 18, 6, 0, 12)[i % 5] for i, a in enumerate(assets)}
    matrices, owed = [], []
    for _ in range(VARIANTS):
        rows = [(w.id, a, rng.randrange(10 ** (decimals[a] + 3))) for w in wallets for a in assets]
        matrix = BalanceMatrix.from_rows(wallets, rows)
        matrices.append(matrix)
        owed.append(
            {a: matrix.total(a, tuple(Tier), OwnerClass.CUSTOMER) * 9 // 10 for a in assets}
        )
    prices = {a: [Decimal(rng.randrange(1, 10**7)) / 100 for _ in range(DAYS)] for a in assets}
    return matrices, owed, assets, decimals, prices


def year(
    regime: Regime,
    matrices: list[BalanceMatrix],
    owed: list[dict[str, int]],
    decimals: dict[str, int],
    prices: dict[str, list[Decimal]],
) -> int:
    if regime is Regime.KR:
        series = {a: rolling_averages(p, 365) for a, p in prices.items()}
    else:
        series = prices
    passed = 0
    for day in range(DAYS):
        v = day % VARIANTS
        today = {a: s[day] for a, s in series.items()}
        passed += status(regime, matrices[v], owed[v], today, decimals).passed
    return passed


def _time(fn: Callable[[], object]) -> tuple[list[float], list[float]]:
    """Wall-clock and CPU seconds of ROUNDS runs (CPU time is robust to a shared machine)."""
    wall, cpu = [], []
    for _ in range(ROUNDS):
        start, start_cpu = time.perf_counter(), time.process_time()
        fn()
        wall.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
    return wall, cpu


def main() -> None:
    matrices, owed, assets, decimals, prices = data()
    table = Table(title=f"cold share: {WALLETS} wallets x {ASSETS} assets x {DAYS} days")
    for column in ("computation", "median wall s", "median CPU s", "best CPU s", "target"):
        table.add_column(column, justify="left" if column == "computation" else "right")
    for regime in Regime:
        wall, cpu = _time(functools.partial(year, regime, matrices, owed, decimals, prices))
        table.add_row(
            f"{regime.value}: full status for each of {DAYS} days",
            f"{statistics.median(wall):.3f}",
            f"{statistics.median(cpu):.3f}",
            f"{min(cpu):.3f}",
            "<= 1 s",
        )
    rng = random.Random(1)
    rows = [(w.id, a, rng.randrange(10**12)) for w in matrices[0].wallets for a in assets]
    wall, cpu = _time(lambda: BalanceMatrix.from_rows(matrices[0].wallets, rows))
    table.add_row(
        f"one day's matrix from {len(rows):,} rows",
        f"{statistics.median(wall):.3f}",
        f"{statistics.median(cpu):.3f}",
        f"{min(cpu):.3f}",
        "",
    )
    console.print(table)
