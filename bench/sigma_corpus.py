"""Differential testing against the SigmaHQ rule corpus (issue #15, point 2): outside `make test`.

``python -m bench sigma_corpus`` with ``KINKO_SIGMA_GIT`` naming a git directory of
SigmaHQ/sigma (a bare clone or ``.git``; no work tree needed; default
``/work/.mirror/SigmaHQ+sigma/repo``) and optionally ``KINKO_SIGMA_REV`` (default HEAD).
For each rule under rules/, rules-emerging-threats/, rules-threat-hunting/: does pySigma
parse it, does its SQLite backend convert it, does Kinko accept it (the reason if not); for
accepted single-event rules, matching, upper-cased and near-miss events generated from the
detection are decided by Kinko's engine and by the backend's SQL over an in-memory SQLite
table (`tests/unit/monitor/sigma_diff.py`). Prints the table; ``KINKO_SIGMA_LIST=FILE``
writes every disagreement (rule path, cause, event, decisions) as JSON Lines.
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import time
from collections import Counter
from pathlib import Path

from rich.console import Console
from rich.table import Table
from tests.unit.monitor.sigma_diff import compare

FOLDERS = ("rules/", "rules-emerging-threats/", "rules-threat-hunting/")


def _git(git_dir: str, *args: str) -> str:
    return subprocess.run(
        ["git", "--git-dir", git_dir, *args], check=True, capture_output=True, text=True
    ).stdout


def main() -> None:
    git_dir = os.environ.get("KINKO_SIGMA_GIT", "/work/.mirror/SigmaHQ+sigma/repo")
    rev = _git(git_dir, "rev-parse", os.environ.get("KINKO_SIGMA_REV", "HEAD")).strip()
    names = [
        n
        for n in _git(git_dir, "ls-tree", "-r", rev, "--name-only", *FOLDERS).splitlines()
        if n.endswith((".yml", ".yaml"))
    ]
    listing = os.environ.get("KINKO_SIGMA_LIST")
    stats: Counter[str] = Counter()
    refusals: Counter[str] = Counter()
    refused_converted: Counter[str] = Counter()
    causes: Counter[str] = Counter()
    rules_disagreeing: Counter[str] = Counter()
    lines: list[str] = []
    started = time.perf_counter()
    for name in names:
        text = _git(git_dir, "show", f"{rev}:{name}")
        out = compare(text, name)
        stats["rules"] += 1
        stats["parsed"] += out.parsed
        stats["converted"] += out.converted
        stats["accepted"] += out.accepted
        stats["accepted_and_converted"] += out.accepted and out.converted
        if not out.accepted and out.parsed:
            refusals[out.refusal] += 1
            if out.converted:
                refused_converted[out.refusal] += 1
        stats["correlations"] += out.correlation
        stats["compared_rules"] += out.compared > 0
        stats["decisions"] += out.compared
        stats["both_matched_rules"] += out.matched > 0
        for cause, event, kinko, sql in out.disagreements:
            causes[cause] += 1
            lines.append(
                json.dumps(
                    {"rule": name, "cause": cause, "event": event, "kinko": kinko, "sqlite": sql},
                    default=str,
                )
            )
        for cause in {c for c, *_ in out.disagreements}:
            rules_disagreeing[cause] += 1
    seconds = time.perf_counter() - started
    if listing:
        Path(listing).write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    console = Console()
    total = stats["rules"]
    table = Table(title=f"SigmaHQ/sigma {rev[:7]}: Kinko against pySigma's SQLite backend")
    table.add_column("figure")
    table.add_column("value", justify="right")

    def pct(n: int) -> str:
        return f"{n:,} ({100 * n / total:.1f}%)" if total else "0"

    table.add_row("rules", f"{total:,}")
    table.add_row("pySigma parsed", pct(stats["parsed"]))
    table.add_row("SQLite backend converted", pct(stats["converted"]))
    table.add_row("Kinko accepted", pct(stats["accepted"]))
    table.add_row("  of them converted by SQLite", pct(stats["accepted_and_converted"]))
    for reason, count in refusals.most_common():
        extra = f" (SQLite converts {refused_converted[reason]})"
        table.add_row(f"  refused: {reason}", f"{count:,}{extra}")
    table.add_row("rules compared (events generated)", f"{stats['compared_rules']:,}")
    table.add_row("  of them with a generated match", f"{stats['both_matched_rules']:,}")
    table.add_row("decisions compared", f"{stats['decisions']:,}")
    table.add_row("disagreements", f"{sum(causes.values()):,}")
    for cause, count in causes.most_common():
        table.add_row(f"  {cause}", f"{count:,} events, {rules_disagreeing[cause]:,} rules")
    table.add_row("seconds", f"{seconds:.1f}")
    console.print(table)
    console.print(f"machine: {platform.platform()}, Python {platform.python_version()}")


if __name__ == "__main__":
    main()
