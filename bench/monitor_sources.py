"""Monitor with real sources (issue #15, point 6): events/s for the whole default pack plus
SigmaHQ's rules for the mapped sources, over a stream of Kinko's own events mixed with
vendor records, against the Kinko-only pack on Kinko-only events in the same process; the
mapping's own cost (records/s); memory at 10^6 events with correlation state.

``python -m bench monitor_sources``. ``KINKO_SIGMA_GIT`` (a git directory of SigmaHQ/sigma)
loads every SigmaHQ rule of the mapped logsources that Kinko accepts; without it, the ones
checked into tests/fixtures/sigma. ``KINKO_BENCH_EVENTS`` (default 100,000),
``KINKO_BENCH_MEMORY_EVENTS`` (default 1,000,000), ``KINKO_BENCH_ROUNDS`` (default 5).
"""

from __future__ import annotations

import os
import random
import statistics
import subprocess
import time
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from bench.monitor import T0, generate, memory, rss_mib
from kinko.monitor.baselines import default_baselines
from kinko.monitor.engine import Engine
from kinko.monitor.rules import RuleSet, build_ruleset, default_pack, parse_texts
from kinko.monitor.sigma_compile import RuleError
from kinko.monitor.sources import SOURCES, parse_source

ROOT = Path(__file__).parents[1]
SAMPLES = ROOT / "tests" / "fixtures" / "sources"
FIXTURE_RULES = ROOT / "tests" / "fixtures" / "sigma"
LOGSOURCES = {s.logsource[:2] for s in SOURCES.values()}
VENDOR_SHARE = 0.3
"""Share of the mixed stream that is vendor records."""


SAMPLE_GLOBS = {
    "cloudtrail": ["cloudtrail/*"],
    "okta": ["okta/*"],
    "entra-signin": ["entra/signin-*", "entra/pack-*"],
    "entra-audit": ["entra/audit-*"],
    "github": ["github/*"],
    "workspace-login": ["workspace/*"],
    "auditd": ["auditd/*"],
    "sshd": ["sshd/*"],
    "kubernetes": ["kubernetes/*"],
}


def vendor_templates() -> list[dict[str, Any]]:
    """Every sample record of every source, mapped and flattened once."""
    out = []
    for name, globs in SAMPLE_GLOBS.items():
        for path in sorted(p for g in globs for p in SAMPLES.glob(g)):
            events = parse_source(SOURCES[name], path.read_text(encoding="utf-8"))
            out += [e.flat() | {"origin": "ingest"} for e in events]
    return out


def mixed(n: int, templates: list[dict[str, Any]], *, seed: int = 11) -> list[dict[str, Any]]:
    """`n` flat events, 50 ms apart: Kinko's bench stream with a share of vendor records
    (a template with its time, actor and address varied)."""
    rng = random.Random(seed)
    own = generate(n, seed=seed)
    out = []
    for i, event in enumerate(own):
        if rng.random() < VENDOR_SHARE:
            vendor = dict(rng.choice(templates))
            vendor["time"] = T0 + timedelta(milliseconds=i * 50)
            vendor["actor"] = f"person{rng.randrange(2000)}@exchange.example"
            vendor["source_ip"] = f"203.0.{rng.randrange(256)}.{rng.randrange(256)}"
            out.append(vendor)
        else:
            out.append(event)
    return out


def sigmahq_rules() -> tuple[list[tuple[str, str]], str, int]:
    """(source, YAML) of SigmaHQ's rules for the mapped logsources that Kinko accepts, where
    they came from, and how many were refused."""
    import yaml

    git = os.environ.get("KINKO_SIGMA_GIT")
    texts: list[tuple[str, str]] = []
    if git:
        listed = subprocess.run(
            ["git", f"--git-dir={git}", "ls-tree", "-r", "--name-only", "HEAD", "rules"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.split()
        commit = subprocess.run(
            ["git", f"--git-dir={git}", "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        origin = f"SigmaHQ/sigma {commit}"
        for name in listed:
            if name.endswith(".yml"):
                text = subprocess.run(
                    ["git", f"--git-dir={git}", "show", f"HEAD:{name}"],
                    capture_output=True,
                    text=True,
                    check=True,
                ).stdout
                texts.append((name, text))
    else:
        origin = "tests/fixtures/sigma"
        texts = [(str(p), p.read_text(encoding="utf-8")) for p in FIXTURE_RULES.rglob("*.yml")]
    kept, refused = [], 0
    for name, text in texts:
        try:
            ls = (yaml.safe_load(text) or {}).get("logsource") or {}
        except yaml.YAMLError:
            continue
        if (ls.get("product"), ls.get("service")) not in LOGSOURCES:
            continue
        try:
            parse_texts([(name, text)])
        except RuleError:
            refused += 1
            continue
        kept.append((name, text))
    return kept, origin, refused


def combined(sigma: list[tuple[str, str]]) -> RuleSet:
    pack = default_pack()
    extra = parse_texts(sigma)
    return build_ruleset(
        (*pack.detections, *extra.detections), (*pack.correlations, *extra.correlations)
    )


def kinko_only(pack: RuleSet) -> RuleSet:
    """The pack as it was before outside sources: its rules on Kinko's own logsource."""
    own = {r.id for r in pack.detections if r.logsource[0] in (None, "kinko")}
    dets = [r for r in pack.detections if r.id in own]
    cors = [c for c in pack.correlations if _only_own(c.id, pack, own)]
    return build_ruleset(dets, [replace(c) for c in cors])


def _only_own(rule_id: str, pack: RuleSet, own: set[str]) -> bool:
    rule = pack.by_id[rule_id]
    sources = getattr(rule, "sources", None)
    if sources is None:
        return rule_id in own
    return all(_only_own(s, pack, own) for s in sources)


def rate(rules: RuleSet, events: list[dict[str, Any]]) -> tuple[float, int]:
    """Events per CPU second (the process's CPU time: steadier than wall time on shared
    cores), and the alerts."""
    engine = Engine(rules, default_baselines())
    started = time.process_time()
    alerts = sum(len(engine.process_flat(ev)) for ev in events)
    return len(events) / (time.process_time() - started), alerts


def mapping_rate(rounds: int) -> float:
    """Vendor records/s through `parse_source` (parse, map, flatten, validate)."""
    texts = [
        (SOURCES["cloudtrail"], (SAMPLES / "cloudtrail" / "benign.jsonl").read_text()),
        (SOURCES["okta"], (SAMPLES / "okta" / "benign.jsonl").read_text()),
        (SOURCES["kubernetes"], (SAMPLES / "kubernetes" / "benign.jsonl").read_text()),
        (SOURCES["auditd"], (SAMPLES / "auditd" / "benign.log").read_text()),
        (SOURCES["entra-signin"], (SAMPLES / "entra" / "signin-benign.jsonl").read_text()),
    ]
    rates = []
    for _ in range(rounds):
        count, started = 0, time.process_time()
        for _ in range(200):
            for source, text in texts:
                count += len(parse_source(source, text))
        rates.append(count / (time.process_time() - started))
    return statistics.median(rates)


def main() -> None:
    console = Console()
    n = int(os.environ.get("KINKO_BENCH_EVENTS", "100000"))
    mem_n = int(os.environ.get("KINKO_BENCH_MEMORY_EVENTS", "1000000"))
    rounds = int(os.environ.get("KINKO_BENCH_ROUNDS", "5"))
    sigma, origin, refused = sigmahq_rules()
    full = combined(sigma)
    base = kinko_only(default_pack())
    templates = vendor_templates()
    own_events = generate(n)
    mixed_events = mixed(n, templates)
    unkeyed = build_ruleset([replace(r, keyed=None) for r in full.detections], full.correlations)
    pairs, index_ratios = [], []
    for _ in range(rounds):  # alternate, so that load on the shared cores hits all alike
        b, _ = rate(base, own_events)
        f, alerts = rate(full, mixed_events)
        u, unkeyed_alerts = rate(unkeyed, mixed_events)
        assert unkeyed_alerts == alerts, "the key index changed a decision"
        pairs.append((b, f, alerts))
        index_ratios.append(f / u)
    table = Table(title=f"monitor with real sources ({n:,} events, {rounds} rounds, medians)")
    for column in ("run", "rules", "events per CPU s", "ratio"):
        table.add_column(column)
    b_med = statistics.median(p[0] for p in pairs)
    f_med = statistics.median(p[1] for p in pairs)
    ratios = statistics.median(p[1] / p[0] for p in pairs)
    table.add_row("baseline: Kinko pack, Kinko events", str(len(base.ids())), f"{b_med:,.0f}", "1")
    table.add_row(
        f"pack + {len(sigma)} SigmaHQ rules ({origin}; {refused} refused), "
        f"{VENDOR_SHARE:.0%} vendor records",
        str(len(full.ids())),
        f"{f_med:,.0f}",
        f"{ratios:.2f}× (per-round median)",
    )
    console.print(table)
    console.print(
        f"key index (same rules and events, index on / off): "
        f"{statistics.median(index_ratios):.2f}× (per-round median)"
    )
    console.print(f"alerts on the mixed stream: {pairs[-1][2]:,}")
    console.print(f"mapping (parse_source): {mapping_rate(rounds):,.0f} records per CPU s")
    mem = Table(title=f"memory, pack + SigmaHQ rules, {mem_n:,} mixed events")
    for column in ("events", "state entries", "RSS MiB"):
        mem.add_column(column)
    del own_events, mixed_events
    if mem_n <= 0:
        return
    console.print(f"RSS before the memory run (rules loaded): {rss_mib():.1f} MiB")
    stream = lambda count, seed: mixed(count, templates, seed=seed)  # noqa: E731
    engine = Engine(full, default_baselines())
    for count, size, rss in memory(mem_n, engine=engine, stream=stream):
        mem.add_row(f"{count:,}", f"{size:,}", f"{rss:.1f}")
    console.print(mem)
