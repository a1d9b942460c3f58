"""``kinko custody keys ...``: the key-share inventory (who holds which share of which
wallet, on which device, at which site, for which legal entity, from which ceremony).

Registering a share and changing its status are requests to the API as the signed-in
person (``custody:write``); the listing reads the database. Registering is a four-eyes
proposal: the command prints its id, and a second person approves it with ``kinko role
approve ID`` (docs/custody.md). Marking a share revoked or compromised is one person's.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from kinko.cli.common import console, echo_json, guarded, open_context
from kinko.cli.output import JsonOption, Names, guarded_json, print_table
from kinko.core.errors import InputError

if TYPE_CHECKING:
    from kinko.custody import keys

keys_app = typer.Typer(help="Key-share inventory.", no_args_is_help=True)
ReasonOption = Annotated[
    str | None, typer.Option(help="Why (recorded with the proposal in the audit log).")
]
APPROVE_HINT = (
    "a second person holding custody:write or security_admin, signed in as themselves, "
    "runs 'kinko role approve {id}' (or 'kinko role refuse {id} --reason ...')"
)


def propose(path: str, body: dict[str, Any], reason: str | None, what: str, as_json: bool) -> None:
    """Post a registration to the API as a proposal (with the proposer's reason), then
    say its id, until when it waits, and who approves it."""
    from kinko.cli import api

    if reason:
        body["reason"] = reason
    with guarded_json(as_json), api.connect() as kinko:
        proposal = kinko.post(path, body)
    if as_json:
        echo_json(proposal)
        return
    console.print(
        f"proposed {what}: proposal {proposal['id']} is {proposal['state']} until "
        f"{proposal.get('expires_at')}; nothing is registered until "
        + APPROVE_HINT.format(id=proposal["id"]),
        highlight=False,
        soft_wrap=True,
    )


@keys_app.command("add")
def keys_add(  # noqa: PLR0917 - typer maps each parameter to an option
    wallet_id: Annotated[str, typer.Option("--wallet")],
    holder: Annotated[str, typer.Option(help="Staff user id.")],
    device: Annotated[str, typer.Option()],
    site: Annotated[str, typer.Option()],
    entity: Annotated[str, typer.Option(help="Legal entity holding the share.")],
    public_key: Annotated[str, typer.Option(help="xpub or public key hex.")],
    ceremony: Annotated[Path, typer.Option(help="JSON ceremony record.")],
    reason: ReasonOption = None,
    as_json: JsonOption = False,
) -> None:
    """Propose a key share for the inventory; a second person approves it (four eyes)."""
    from kinko.core.textfile import read_text

    with guarded_json(as_json):
        try:
            record = json.loads(read_text(ceremony, field="ceremony"))
        except ValueError as exc:
            raise InputError("ceremony", f"not JSON: {exc}") from None
        if not isinstance(record, dict):
            raise InputError("ceremony", "must be a JSON object")
        body = {
            "wallet_id": wallet_id,
            "holder": holder,
            "device": device,
            "site": site,
            "legal_entity": entity,
            "public_key": public_key,
            "ceremony": record,
        }
    propose(
        "/v1/custody/keys", body, reason, f"a key share of {wallet_id} held by {holder}", as_json
    )


@keys_app.command("list")
def keys_list(
    wallet_id: Annotated[str | None, typer.Option("--wallet")] = None,
    as_json: JsonOption = False,
) -> None:
    """List key shares."""
    from kinko.custody import keys

    with guarded_json(as_json), open_context() as ctx, ctx.db.transaction() as session:
        rows = keys.shares(session, wallet_id)
        names = Names.load(session)
    if as_json:
        echo_json(
            [
                {
                    "id": s.id,
                    "wallet_id": s.wallet_id,
                    "holder": s.holder,
                    "holder_username": names.username(s.holder),
                    "device": s.device,
                    "site": s.site,
                    "legal_entity": s.legal_entity,
                    "status": s.status,
                }
                for s in rows
            ]
        )
        return
    print_table(
        ("id", "wallet", "holder", "device", "site", "entity", "status"),
        [
            (
                s.id,
                names.wallet(s.wallet_id),
                names.user(s.holder),
                s.device,
                s.site,
                s.legal_entity,
                s.status,
            )
            for s in rows
        ],
        whole={"id"},
    )


def _set_status(share_id: str, status: keys.KeyStatus, reason: str) -> None:
    from kinko.cli import api

    body = {"status": status.value, "reason": reason}
    with guarded(), api.connect() as kinko:
        kinko.post(f"/v1/custody/keys/{share_id}/status", body)
    console.print(f"key share {share_id} is {status.value}")


@keys_app.command("revoke")
def keys_revoke(share_id: str, reason: Annotated[str, typer.Option()]) -> None:
    """Mark a share revoked (retired)."""
    from kinko.custody import keys

    _set_status(share_id, keys.KeyStatus.REVOKED, reason)


@keys_app.command("compromised")
def keys_compromised(share_id: str, reason: Annotated[str, typer.Option()]) -> None:
    """Mark a share compromised (raises a critical security event)."""
    from kinko.custody import keys

    _set_status(share_id, keys.KeyStatus.COMPROMISED, reason)
