"""Start-up benchmark: what `kinko` costs before it does anything (issue #12).

- CPU (user + sys of the child) of `kinko --help`, `kinko version` and two group helps,
  median of N runs, with bytecode compiled (what `make setup` leaves) and without (every
  module compiled again in each process, as after a plain `uv pip install`). Each state is
  made with its own `PYTHONPYCACHEPREFIX`, so the figures do not depend on the venv's
  `__pycache__` directories. Target: `--help` and `version` <= 0.25 s with bytecode.
- `kinko audit verify` of a 70,000-entry export, as a command (median wall and CPU of N
  runs), against `verify_directory` on the same directory in this process (the
  verification work alone, median of N). Target: the command within 2x of the work alone.
  The export is written by Kinko's own tile writer from Kinko-shaped entries.

Run: ``.venv/bin/python -m bench startup``; ``KINKO_BENCH_FULL=1`` takes 31 runs, not 11.
"""

from __future__ import annotations

import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from rich.console import Console
from rich.table import Table

RUNS = 31 if os.environ.get("KINKO_BENCH_FULL") == "1" else 11
VERIFY_RUNS = 7
ENTRIES = 70_000
CPU_TARGET_S = 0.25
RATIO_TARGET = 2.0
console = Console(width=150)


def kinko_command() -> list[str]:
    """The installed `kinko` script next to this interpreter (what a user runs)."""
    script = Path(sys.executable).parent / "kinko"
    if script.exists():
        return [str(script)]
    found = shutil.which("kinko")
    if found is None:
        raise SystemExit("no kinko script: install the package first (make setup)")
    return [found]


def run_once(args: Sequence[str], env: dict[str, str]) -> tuple[float, float]:
    """(wall s, child CPU s) of one run; the command must succeed."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    subprocess.run(args, env=env, check=True, stdout=subprocess.DEVNULL)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def medians(args: Sequence[str], env: dict[str, str], runs: int) -> tuple[float, float]:
    """Median (wall, CPU) of `runs` runs after one warm-up run (not counted)."""
    run_once(args, env)
    samples = [run_once(args, env) for _ in range(runs)]
    return statistics.median(s[0] for s in samples), statistics.median(s[1] for s in samples)


def bytecode_env(cache: Path, *, compiled: bool) -> dict[str, str]:
    """The environment for one bytecode state: a private cache, written or not."""
    env = {**os.environ, "PYTHONPYCACHEPREFIX": str(cache), "COLUMNS": "100"}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    if not compiled:
        env["PYTHONDONTWRITEBYTECODE"] = "1"  # the cache stays empty: compile every time
    return env


def write_export(root: Path, size: int) -> tuple[Path, Path]:
    """A tlog-tiles export of `size` entries and its verifier key file."""
    from bench.audit import entries
    from kinko.audit.checkpoint import Checkpoint, sign_checkpoint
    from kinko.audit.note import Signer, generate_signer
    from kinko.audit.tiles import TileWriter

    skey, vkey = generate_signer("bench.example/log")
    data = entries(size)
    out = root / "export"
    writer = TileWriter(out)
    tree_root = writer.write_tiles(size, (data[i : i + 256] for i in range(0, size, 256)))
    writer.write_checkpoint(
        sign_checkpoint(Checkpoint("bench.example/log", size, tree_root), Signer.parse(skey))
    )
    key_file = root / "log.vkey"
    key_file.write_text(vkey + "\n", encoding="utf-8")
    return out, key_file


def verify_in_process(directory: Path, key_file: Path, runs: int) -> tuple[float, float]:
    """Median (wall, CPU) of `verify_directory` alone, after one warm-up call."""
    from kinko.audit.verify import verify_directory

    vkey = key_file.read_text(encoding="utf-8").strip()
    verify_directory(directory, vkey)
    walls, cpus = [], []
    for _ in range(runs):
        w0, c0 = time.perf_counter(), time.process_time()
        verify_directory(directory, vkey)
        walls.append(time.perf_counter() - w0)
        cpus.append(time.process_time() - c0)
    return statistics.median(walls), statistics.median(cpus)


def _verdict(ok: bool) -> str:
    return "[green]yes[/]" if ok else "[bold red]no[/]"


def main() -> None:
    kinko = kinko_command()
    load_before = os.getloadavg()[0]
    console.print(
        f"[bold]start-up benchmarks[/] — {RUNS} runs per figure (medians), "
        f"{os.cpu_count()} cores, Python {sys.version.split()[0]}"
    )
    table = Table(title="kinko start-up (CPU = user + sys of the process)")
    for column in ("measure", "bytecode compiled", "no bytecode", "target", "met?"):
        table.add_column(column)
    with tempfile.TemporaryDirectory() as tmp:
        compiled = bytecode_env(Path(tmp) / "pyc", compiled=True)
        fresh = bytecode_env(Path(tmp) / "empty", compiled=False)
        for args, target in (
            (["--help"], CPU_TARGET_S),
            (["version"], CPU_TARGET_S),
            (["audit", "--help"], None),
            (["withdraw", "--help"], None),
        ):
            warm = medians([*kinko, *args], compiled, RUNS)
            cold = medians([*kinko, *args], fresh, RUNS)
            table.add_row(
                f"kinko {' '.join(args)}",
                f"{warm[1]:.3f} s CPU ({warm[0]:.3f} s wall)",
                f"{cold[1]:.3f} s CPU ({cold[0]:.3f} s wall)",
                f"<= {target} s CPU" if target else "",
                _verdict(warm[1] <= target) if target else "",
            )

        export, key_file = write_export(Path(tmp), ENTRIES)
        alone = verify_in_process(export, key_file, VERIFY_RUNS)
        args = [*kinko, "audit", "verify", str(export), "--vkey", str(key_file)]
        command = medians(args, compiled, VERIFY_RUNS)
        command_fresh = medians(args, fresh, VERIFY_RUNS)
    console.print(table)

    ratio = Table(title=f"kinko audit verify of {ENTRIES:,} entries ({VERIFY_RUNS} runs, medians)")
    for column in ("measure", "wall", "CPU", "ratio to the work alone", "target", "met?"):
        ratio.add_column(column)
    ratio.add_row("verify_directory in this process (the work)", *_pair(alone), "1", "", "")
    for label, figures in (
        ("`kinko audit verify`, bytecode compiled", command),
        ("`kinko audit verify`, no bytecode", command_fresh),
    ):
        wall_ratio, cpu_ratio = figures[0] / alone[0], figures[1] / alone[1]
        ratio.add_row(
            label,
            *_pair(figures),
            f"{wall_ratio:.2f}x wall, {cpu_ratio:.2f}x CPU",
            f"<= {RATIO_TARGET}x" if figures is command else "",
            _verdict(wall_ratio <= RATIO_TARGET) if figures is command else "",
        )
    console.print(ratio)
    console.print(f"load average {load_before:.1f} before, {os.getloadavg()[0]:.1f} after")


def _pair(figures: tuple[float, float]) -> tuple[str, str]:
    return f"{figures[0]:.3f} s", f"{figures[1]:.3f} s"
