"""``kinko custody delegations list|propose|revoke``: a legal entity's signing for a wallet
delegated to another, from a start until an end (issue 18, Ronin).

Proposing and revoking are requests to the API as the signed-in person
(``custody:write``); the listing reads the database and says which delegations are past
their end (``expired``: they count for nothing). Proposing is a four-eyes proposal a
second person approves with ``kinko role approve ID``; revoking is one person's, at once.
A delegation that would let one legal entity reach the wallet's quorum, or one already
past its end, is refused (exit 2, naming the field or the entity).
"""

from __future__ import annotations

from typing import Annotated, Any

import typer

from kinko.cli.common import console, echo_json, guarded, open_context
from kinko.cli.custody_keys import ReasonOption, propose
from kinko.cli.output import JsonOption, Names, guarded_json, print_table

delegations_app = typer.Typer(
    help="Delegations of a legal entity's signing for a wallet.", no_args_is_help=True
)


@delegations_app.command("list")
def delegations_list(
    wallet_id: Annotated[str | None, typer.Option("--wallet")] = None,
    as_json: JsonOption = False,
) -> None:
    """List delegations with their state (live, pending, expired, revoked)."""
    from kinko.custody import delegations

    with guarded_json(as_json), open_context() as ctx, ctx.db.transaction() as session:
        now = ctx.clock.now()
        rows = [delegations.to_json(d, now) for d in delegations.delegations(session, wallet_id)]
        names = Names.load(session)
    if as_json:
        echo_json(rows)
        return
    print_table(
        ("id", "wallet", "from", "to", "starts", "ends", "state"),
        [
            (
                d["id"],
                names.wallet(d["wallet_id"]),
                d["from_entity"],
                d["to_entity"],
                d["starts_at"],
                d["ends_at"],
                d["state"],
            )
            for d in rows
        ],
        whole={"id"},
    )
    for d in rows:
        if d["state"] == "expired":
            console.print(
                f"[yellow]expired[/] {d['id']}: {d['from_entity']} -> {d['to_entity']} ended "
                f"{d['ends_at']}; it counts for nothing (revoke it to close the record)",
                highlight=False,
                soft_wrap=True,
            )


@delegations_app.command("propose")
def delegations_propose(  # noqa: PLR0917 - typer maps each parameter to an option
    wallet_id: Annotated[str, typer.Option("--wallet")],
    from_entity: Annotated[str, typer.Option("--from", help="The delegating legal entity.")],
    to_entity: Annotated[str, typer.Option("--to", help="The entity allowed to sign for it.")],
    ends: Annotated[str, typer.Option(help="End, ISO 8601 with zone (2027-01-31T00:00Z).")],
    starts: Annotated[str | None, typer.Option(help="Start (default: now).")] = None,
    reason: ReasonOption = None,
    as_json: JsonOption = False,
) -> None:
    """Propose a delegation; a second person approves it (four eyes)."""
    body: dict[str, Any] = {
        "wallet_id": wallet_id,
        "from_entity": from_entity,
        "to_entity": to_entity,
        "ends_at": ends,
    }
    if starts is not None:
        body["starts_at"] = starts
    what = f"a delegation of {from_entity}'s signing for {wallet_id} to {to_entity}"
    propose("/v1/custody/delegations", body, reason, what, as_json)


@delegations_app.command("revoke")
def delegations_revoke(delegation_id: str, reason: Annotated[str, typer.Option()]) -> None:
    """Revoke a delegation at once (one person; audited)."""
    from kinko.cli import api

    with guarded(), api.connect() as kinko:
        kinko.post(f"/v1/custody/delegations/{delegation_id}/revoke", {"reason": reason})
    console.print(f"delegation {delegation_id} is revoked")
