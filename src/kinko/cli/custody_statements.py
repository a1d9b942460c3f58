"""``kinko liabilities ...``: customer liabilities per account, custody's own record.

`import` sends a dated statement from the exchange's ledger (CSV or JSON Lines) to the API
as the signed-in person (``liabilities:import``), streamed; `list` and `show` read the
database. Exit status: 0 ok, 1 refused by the API, 2 bad input (the field named) or not found.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from kinko.cli.common import console, echo_json, open_context
from kinko.cli.output import JsonOption, guarded_json, print_table

if TYPE_CHECKING:
    from kinko.custody.statements import Statement

liabilities_app = typer.Typer(
    help="Customer liabilities per account: dated statements from the exchange's ledger.",
    no_args_is_help=True,
)


def _print(body: dict[str, Any], title: str) -> None:
    console.print(
        f"{title} {body['id']}: as of {body['as_of']}, {body['rows']} rows, "
        f"{body['holdings']} holdings, sha256 {body['digest']} (audit #{body['audit_seq']})"
    )
    print_table(
        ["asset", "base units owed", "holders"],
        [[t["asset"], t["base_units"], str(t["holders"])] for t in body["totals"]],
        whole={"asset"},
    )


@liabilities_app.command("import")
def import_statement(
    file: Annotated[Path, typer.Argument(help="CSV account,asset,base_units, or JSON Lines.")],
    as_of: Annotated[
        str, typer.Option("--as-of", help="The ledger's cut-off, ISO 8601 with its zone.")
    ],
    as_json: JsonOption = False,
) -> None:
    """Import a statement of every account's balances at the ledger's cut-off (audited)."""
    from kinko.cli import api
    from kinko.core.errors import InputError

    with guarded_json(as_json):
        try:
            handle = file.open("rb")
        except OSError as exc:
            raise InputError("file", f"cannot read {file}: {exc.strerror or exc}") from None
        with handle, api.connect() as kinko:
            response = kinko.send(
                "POST",
                "/v1/custody/statements",
                body={"as_of": as_of},
                files={"file": (file.name, handle)},
            )
        body = response.json()
    if as_json:
        echo_json(body)
    else:
        _print(body, "imported statement")


def _json(
    found: Statement, account: str | None = None, held: dict[str, int] | None = None
) -> dict[str, Any]:
    body = found.to_json()
    if account is not None and held is not None:
        balances = [{"asset": a, "base_units": str(u)} for a, u in sorted(held.items())]
        body["account"] = {"id": account, "balances": balances}
    return body


@liabilities_app.command("list")
def list_statements(
    limit: Annotated[int, typer.Option(help="How many, newest cut-off first.")] = 20,
    as_json: JsonOption = False,
) -> None:
    """The statements imported, newest cut-off first."""
    from kinko.custody import statements

    with guarded_json(as_json), open_context() as ctx, ctx.db.reading() as session:
        found = [_json(s) for s in statements.list_statements(session, limit=max(1, limit))]
    if as_json:
        echo_json({"statements": found})
        return
    print_table(
        ["id", "as of", "rows", "holdings", "sha256", "imported by"],
        [
            [s["id"], s["as_of"], str(s["rows"]), str(s["holdings"]), s["digest"], s["imported_by"]]
            for s in found
        ],
        whole={"id", "sha256"},
    )


@liabilities_app.command("show")
def show(
    statement: Annotated[str | None, typer.Argument(help="A statement id.")] = None,
    at: Annotated[
        str | None, typer.Option(help="The statement in force at this time (default: now).")
    ] = None,
    account: Annotated[str | None, typer.Option(help="Also this account's balances.")] = None,
    as_json: JsonOption = False,
) -> None:
    """A statement (by id, or the one in force at --at): totals per asset, an account's."""
    from kinko.core.errors import InputError
    from kinko.custody import statement_rows, statements

    with guarded_json(as_json), open_context() as ctx, ctx.db.reading() as session:
        if statement is not None and at is not None:
            raise InputError("at", "give a statement id or --at, not both")
        if statement is not None:
            found = statements.statement(session, statement)
        else:
            moment = ctx.clock.now() if at is None else statement_rows.parse_as_of(at, field="at")
            found = statements.statement_at(session, moment)
        held = None if account is None else statements.account_balances(session, found.id, account)
        body = _json(found, account, held)
    if as_json:
        echo_json(body)
        return
    _print(body, "statement")
    if held is not None:
        for asset, units in sorted(held.items()):
            console.print(f"account {account}: {units} {asset} (base units)")
        if not held:
            console.print(f"account {account} holds nothing in this statement")


def register(app: typer.Typer) -> None:
    app.add_typer(liabilities_app, name="liabilities")
