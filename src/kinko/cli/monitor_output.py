"""What `kinko monitor` prints about chain outflows: a line per outflow for people, a JSON
document per watch pass for scripts (docs/monitor.md, "Command output")."""

from __future__ import annotations

import json
import sys
from typing import TYPE_CHECKING

from kinko.cli.common import console
from kinko.cli.output import Names, json_time
from kinko.core.errors import KinkoError

if TYPE_CHECKING:
    from kinko.context import Context
    from kinko.core.events import SecurityEvent
    from kinko.monitor.events import MonitorEvent
    from kinko.monitor.rules import RuleSet


def names_of(ctx: Context) -> Names:
    with ctx.db.reading() as session:
        return Names.load(session)


def print_outflow(event: SecurityEvent, names: Names) -> None:
    why = event.fields.get("withdrawal_id") or "UNEXPLAINED"
    console.print(
        f"{event.fields['chain']} {names.wallet_with_id(event.wallet or '-')} {event.amount} "
        f"{event.asset} -> {event.destination} ({event.fields['txid']}): {why}",
        markup=False,
        highlight=False,
        soft_wrap=True,
    )


def watch_pass_json(
    ctx: Context,
    events: list[SecurityEvent],
    names: Names,
    failed: list[str],
    error: KinkoError | None,
) -> None:
    """One line of `monitor watch --json`: this pass's outflows, failures and verdict."""
    outflows = [
        {
            "time": json_time(event.time),
            "chain": event.fields.get("chain"),
            "wallet_id": event.wallet,
            "wallet_name": names.wallets.get(event.wallet or ""),
            "asset": event.asset,
            "amount": None if event.amount is None else str(event.amount),
            "destination": event.destination,
            "txid": event.fields.get("txid"),
            "withdrawal_id": event.fields.get("withdrawal_id"),
            "explained": bool(event.fields.get("withdrawal_id")),
        }
        for event in events
    ]
    document: dict[str, object] = {
        "time": json_time(ctx.clock.now()),
        "ok": error is None and not failed and all(o["explained"] for o in outflows),
        "outflows": outflows,
        "failed_responses": list(failed),
    }
    if error is not None:
        document.update(error.to_dict())
    sys.stdout.write(json.dumps(document, sort_keys=True) + "\n")
    sys.stdout.flush()


def print_logsources(rules: RuleSet, rule_id: str, events: list[MonitorEvent]) -> None:
    """Which logsources the rule of `kinko monitor rules test` sees (a correlation: those of the
    rules it references), and how many of the events given belong to each."""
    from kinko.monitor.events import LOGSOURCE_KEYS

    sources = rules.logsources(rule_id)
    flats = [event.flat() for event in events]
    for logsource, readers in sources.items():
        wanted = [f"{key}={value}" for key, value in zip(_KEYS, logsource, strict=True) if value]
        seen = sum(
            1
            for flat in flats
            if all(
                want is None or want == flat.get(key)
                for want, key in zip(logsource, LOGSOURCE_KEYS, strict=True)
            )
        )
        console.print(
            f"{rule_id} sees logsource {' '.join(wanted) or 'any'} "
            f"(rules {', '.join(readers)}): {seen} of {len(events)} events",
            markup=False,
            highlight=False,
            soft_wrap=True,
        )


_KEYS = ("product", "service", "category")
