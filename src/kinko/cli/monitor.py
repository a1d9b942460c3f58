"""CLI commands for the monitor: ingest, watch, replay (backtest), rules, alerts, responses.

Triage (acknowledge, close) and releasing a response act for the signed-in person through
the API (`kinko login`); ingest, watch and replay are the monitor's own work on the data
directory, and listings read it.
"""

from __future__ import annotations

import time
from collections import Counter
from contextlib import ExitStack
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from kinko.chains.base import DEFAULT_INTERVAL_S
from kinko.cli.common import (
    EXIT_CHECK_FAILED,
    console,
    echo_json,
    err_console,
    guarded,
    local_actor,
    open_services,
)
from kinko.cli.monitor_input import SourceOpt
from kinko.cli.monitor_input import read_events as _read_events
from kinko.cli.monitor_output import (
    names_of,
    print_logsources,
    print_outflow,
    watch_pass_json,
)
from kinko.cli.monitor_triage import register_triage
from kinko.cli.output import Names, guarded_json, print_table
from kinko.core.errors import InputError, KinkoError, Unavailable

if TYPE_CHECKING:
    from kinko.monitor.engine import Engine
    from kinko.monitor.events import MonitorEvent
    from kinko.monitor.notify import Notifier

RulesOpt = Annotated[
    list[Path] | None,
    typer.Option("--rules", help="Rule file or folder (repeat); default: the built-in pack."),
]
GeoOpt = Annotated[
    Path | None, typer.Option("--geo", help="Offline geo database: .mmdb or CSV of ranges.")
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Machine-readable output.")]


def _notifiers(
    stack: ExitStack, cef: Path | None, webhook: str | None, secret_file: Path | None
) -> list[Notifier]:
    from kinko.monitor.notify import CefFileNotifier, WebhookNotifier

    out: list[Notifier] = []
    if cef is not None:
        try:
            out.append(CefFileNotifier(stack.enter_context(cef.open("a", encoding="utf-8"))))
        except OSError as exc:
            raise InputError("--cef", f"{cef} cannot be written: {exc.strerror}") from None
    if webhook is not None:
        if secret_file is None:
            raise InputError("--webhook-secret-file", "a webhook needs its HMAC key file")
        from kinko.core.secretfile import read_private

        try:
            secret = read_private(secret_file, field="--webhook-secret-file").strip()
            out.append(WebhookNotifier(webhook, secret))
        except OSError as exc:
            raise InputError("--webhook-secret-file", f"cannot be read: {exc.strerror}") from None
        except ValueError as exc:
            raise InputError("--webhook", str(exc)) from None
    return out


def _run(engine: Engine, events: list[MonitorEvent]) -> tuple[list[dict[str, object]], float]:
    started = time.perf_counter()
    alerts = engine.process_many(events)
    elapsed = time.perf_counter() - started
    return [a.to_json() for a in alerts], elapsed


def _alerts_table(alerts: list[dict[str, object]]) -> Table:
    table = Table(title="Alerts")
    for column in ("time", "rule", "level", "response", "group / reason"):
        table.add_column(column)
    for alert in alerts:
        response = alert["response"]
        action = response["action"] if isinstance(response, dict) else ""
        detail = str(alert["reason"] or alert["group"] or "")
        table.add_row(str(alert["time"]), str(alert["rule"]), str(alert["level"]), action, detail)
    return table


def register(app: typer.Typer) -> None:
    """Add this domain's commands to `app`."""
    monitor = typer.Typer(
        help="Detect suspicious access and outflows; respond.", no_args_is_help=True
    )
    rules_app = typer.Typer(help="Inspect and try the rules.", no_args_is_help=True)
    alerts_app = typer.Typer(help="Triage alerts.", no_args_is_help=True)
    responses_app = typer.Typer(
        help="Undo monitor responses (two security admins).", no_args_is_help=True
    )
    app.add_typer(monitor, name="monitor")
    monitor.add_typer(rules_app, name="rules")
    monitor.add_typer(alerts_app, name="alerts")
    monitor.add_typer(responses_app, name="responses")

    @monitor.command("ingest")
    def ingest(  # noqa: PLR0917 (Typer maps each parameter to an option)
        source: Annotated[str, typer.Argument(help="JSON Lines file, or - for stdin.")],
        rules: RulesOpt = None,
        geo: GeoOpt = None,
        as_json: JsonOpt = False,
        vendor: SourceOpt = None,
        cef: Annotated[
            Path | None, typer.Option("--cef", help="Append one CEF line per alert to FILE.")
        ] = None,
        webhook: Annotated[
            str | None, typer.Option("--webhook", help="POST each alert here, HMAC-signed.")
        ] = None,
        webhook_secret_file: Annotated[
            Path | None, typer.Option("--webhook-secret-file", help="HMAC key (>= 16 bytes).")
        ] = None,
    ) -> None:
        """Ingest events: alerts are stored and responses applied (all events or none)."""
        from kinko.monitor.factory import build_engine
        from kinko.monitor.service import audit_ingested, failed_responses

        with guarded_json(as_json), ExitStack() as stack:
            events = _read_events(source, vendor)
            engine = build_engine(rules or [], geo=geo)
            notifiers = _notifiers(stack, cef, webhook, webhook_secret_file)
            with open_services() as services:
                ctx = services.ctx
                audit_ingested(
                    ctx,
                    events,
                    by=local_actor(),
                    subject=(f"{vendor}:" if vendor else "")
                    + ("stdin" if source == "-" else str(Path(source).resolve())),
                )
                recorded = services.monitor(engine, notifiers=notifiers).ingest(events)
                names = names_of(ctx)
            rows = [
                {
                    "alert": r.alert_id,
                    "rule": r.rule_id,
                    "response": r.action,
                    "response_id": r.response_id,
                    "status": r.status,
                    "target": r.target,
                    "detail": r.detail,
                }
                for r in recorded
            ]
            failed = failed_responses(recorded)
            if as_json:
                echo_json({"events": len(events), "alerts": rows})
            else:
                print_table(
                    ("alert", "rule", "response", "response id", "status", "target", "detail"),
                    [
                        (
                            r.alert_id,
                            r.rule_id,
                            r.action,
                            r.response_id,
                            r.status,
                            names.ref(r.target),
                            r.detail,
                        )
                        for r in recorded
                    ],
                    whole={"alert", "response id"},
                    title=f"{len(events)} events ingested, {len(rows)} alerts",
                )
                for problem in failed:
                    err_console.print(f"monitor response failed: {problem}", markup=False)
        if failed:
            raise typer.Exit(EXIT_CHECK_FAILED)  # the alerts stand; a response did not apply

    @monitor.command("worker")
    def worker(  # noqa: PLR0917 (Typer maps each parameter to an option)
        redis_url: Annotated[str, typer.Option("--redis", help="redis://host:port/db")],
        index: Annotated[int, typer.Option("--worker", help="This worker's index, from 0.")],
        workers: Annotated[int, typer.Option("--of", help="How many workers share the load.")],
        partitions: Annotated[
            int, typer.Option(help="Stream partitions (all workers alike).")
        ] = 16,
        rules: RulesOpt = None,
        geo: GeoOpt = None,
        drain: Annotated[
            bool, typer.Option("--drain", help="Stop when the streams are empty.")
        ] = False,
    ) -> None:
        """Consume this worker's Redis Streams partitions: alerts stored, responses applied."""
        import redis

        from kinko.monitor.factory import build_engine
        from kinko.monitor.redis_input import RedisPartitionWorker, owned_partitions

        with guarded(), open_services() as services:
            if workers < 1 or partitions < workers:
                raise InputError("--of", "need 1 <= workers <= partitions")
            service = services.monitor(build_engine(rules or [], geo=geo))
            client = redis.Redis.from_url(redis_url)
            consumer = RedisPartitionWorker(
                client,
                service.ingest,
                partitions=owned_partitions(index, workers, partitions),
                consumer=f"worker-{index}",
            )
            try:
                consumer.ensure_groups()
                while True:
                    got = consumer.poll(block_ms=None if drain else 1000)
                    if drain and got == 0:
                        break
            except redis.RedisError as exc:
                raise Unavailable(f"redis at {redis_url}: {exc}") from None
            finally:
                client.close()
        console.print(
            f"worker {index}/{workers}: {consumer.processed} events, "
            f"{consumer.rejected} to dead letter"
        )

    @monitor.command("watch")
    def watch(
        once: Annotated[bool, typer.Option("--once", help="One pass, then exit.")] = False,
        interval: Annotated[
            float, typer.Option("--interval", min=0.1, help="Seconds between passes.")
        ] = DEFAULT_INTERVAL_S,
        rules: RulesOpt = None,
        geo: GeoOpt = None,
        as_json: JsonOpt = False,
    ) -> None:
        """Watch our wallets on chain: each outflow goes to the monitor as chain.outflow.

        With --json, one JSON document per line for each pass (docs/monitor.md)."""
        from kinko.monitor.factory import build_engine
        from kinko.monitor.service import failed_responses
        from kinko.monitor.watcher import watcher_from_settings

        with guarded_json(as_json), open_services() as services:
            ctx = services.ctx
            watcher = watcher_from_settings(ctx)
            if watcher is None:
                raise InputError(
                    "ethereum_node_url",
                    "no chain node is configured; set KINKO_ETHEREUM_NODE_URL "
                    "(and KINKO_ETHEREUM_NETWORK) to watch Ethereum wallets",
                )
            failed: list[str] = []  # monitor responses that failed during this pass
            services.monitor(build_engine(rules or [], geo=geo)).attach(
                lambda recorded: failed.extend(failed_responses(recorded))
            )
            while True:
                failed.clear()
                subscriber_failures = ctx.bus.failures
                pass_error: KinkoError | None = None
                try:
                    events = watcher.poll_once()
                except KinkoError as exc:
                    if once:
                        raise
                    err_console.print(f"watch pass failed: {exc.message}", markup=False)
                    events, pass_error = [], exc
                names = names_of(ctx) if events else Names()
                if ctx.bus.failures > subscriber_failures:
                    failed.append("the monitor could not process this pass's events (see logs)")
                if as_json:
                    watch_pass_json(ctx, events, names, failed, pass_error)
                else:
                    for event in events:
                        print_outflow(event, names)
                for problem in failed:
                    err_console.print(f"monitor response failed: {problem}", markup=False)
                if once:
                    unexplained = [e for e in events if not e.fields.get("withdrawal_id")]
                    if unexplained or failed:
                        # Exit 1: something to look at (docs/monitor.md, chain watcher).
                        raise typer.Exit(EXIT_CHECK_FAILED)
                    return
                time.sleep(interval)

    @monitor.command("replay")
    def replay(
        events_file: Annotated[str, typer.Argument(help="JSON Lines file, or - for stdin.")],
        rules: RulesOpt = None,
        geo: GeoOpt = None,
        as_json: JsonOpt = False,
        vendor: SourceOpt = None,
    ) -> None:
        """Backtest: run events through the rules without storing or responding."""
        from kinko.monitor.factory import build_engine

        with guarded():
            events = _read_events(events_file, vendor)
            engine = build_engine(rules or [], geo=geo)
            alerts, elapsed = _run(engine, events)
        counts = Counter(str(a["rule"]) for a in alerts)
        rate = len(events) / elapsed if elapsed > 0 else 0.0
        if as_json:
            echo_json(
                {
                    "events": len(events),
                    "alerts": alerts,
                    "per_rule": dict(sorted(counts.items())),
                    "seconds": round(elapsed, 6),
                }
            )
            return
        console.print(_alerts_table(alerts))
        per_rule = Table(title="Per rule")
        per_rule.add_column("rule")
        per_rule.add_column("alerts", justify="right")
        for rule_id, count in sorted(counts.items()):
            per_rule.add_row(rule_id, str(count))
        console.print(per_rule)
        console.print(
            f"{len(events)} events, {len(alerts)} alerts in {elapsed * 1000:.1f} ms "
            f"({rate:,.0f} events/s)"
        )

    @rules_app.command("list")
    def rules_list(rules: RulesOpt = None, geo: GeoOpt = None, as_json: JsonOpt = False) -> None:
        """List the rules, what they watch and how they respond."""
        from kinko.monitor.factory import build_engine

        with guarded_json(as_json):
            engine = build_engine(rules or [], geo=geo)
        infos = engine.describe()
        if as_json:
            echo_json([asdict(info) for info in infos])
            return
        print_table(
            ("id", "kind", "watches", "response", "level", "alerts", "title"),
            [
                (
                    info.id,
                    info.kind,
                    info.types,
                    info.response,
                    info.level,
                    "yes" if info.emits else "input",
                    info.title,
                )
                for info in infos
            ],
            whole={"id"},
            title=f"{len(infos)} rules",
        )

    @rules_app.command("test")
    def rules_test(
        rule: Annotated[str, typer.Argument(help="Rule id or name.")],
        events_file: Annotated[str, typer.Argument(help="JSON Lines file, or - for stdin.")],
        rules: RulesOpt = None,
        as_json: JsonOpt = False,
        vendor: SourceOpt = None,
    ) -> None:
        """Run one rule (and what it depends on) over events; exit 1 if it never fires."""
        from kinko.monitor.engine import Engine
        from kinko.monitor.factory import load_rules

        with guarded_json(as_json):
            events = _read_events(events_file, vendor)
            loaded = load_rules(rules or [])
            engine = Engine(loaded.only(rule))
            alerts, _ = _run(engine, events)
        if as_json:
            echo_json({"ok": bool(alerts), "rule": rule, "events": len(events), "alerts": alerts})
            if not alerts:
                raise typer.Exit(EXIT_CHECK_FAILED)
            return
        print_logsources(loaded, rule, events)
        console.print(_alerts_table(alerts))
        console.print(f"{rule}: {len(alerts)} alert(s) over {len(events)} events")
        if not alerts:
            raise typer.Exit(EXIT_CHECK_FAILED)

    register_triage(alerts_app, responses_app)
