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
