"""``kinko lists ...`` and ``kinko screen ...``: sanctions lists and screening.

`lists load` and `lists rescreen` are requests to the API as the signed-in person
(``screening:write``: a security admin, `kinko login`); `lists show` and `screen ...` read
the database.

Exit status: 0 clear, 1 a hit (or lists stale: fail closed), 2 bad input.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table

from kinko.cli.common import (
    EXIT_CHECK_FAILED,
    console,
    echo_json,
    err_console,
    local_actor,
    open_services,
)
from kinko.cli.output import JsonOption, guarded_json, human_time, print_table
from kinko.core.errors import InputError
from kinko.screening.chains import SUPPORTED_CHAINS
from kinko.screening.model import AddressVerdict, NameVerdict, VerdictStatus

if TYPE_CHECKING:
    from kinko.context import Context
    from kinko.screening.cases import Asker
    from kinko.screening.service import ScreeningService

lists_app = typer.Typer(help="Sanctions and stolen-funds lists.", no_args_is_help=True)
screen_app = typer.Typer(help="Screen addresses and names.", no_args_is_help=True)

_GUESS_ORDER = ("ethereum", "bitcoin", "tron", "litecoin", "bitcoin-cash")
UNSAFE_SHRINK_GONE = (
    "is gone: one person may no longer shrink a list. A file that drops more entries than "
    "allowed is a four-eyes proposal: a security_admin uploads it (POST /v1/screening/lists) "
    "and a second one approves it"
)
PEOPLE_HEADER = ("name", "dob", "nationality")


@contextmanager
def _service() -> Iterator[tuple[Context, ScreeningService]]:
    with open_services() as services:
        yield services.ctx, services.screening


def _local_asker() -> Asker:
    """Who asks when the CLI screens on the database itself: this machine's account, which
    names no Kinko person (any reviewer may decide the case)."""
    from kinko.screening.cases import Asker

    return Asker(local_actor())


def guess_chain(address: str) -> str:
    """The first chain `address` is valid on, in a fixed order; InputError if none.

    ``0x...`` is always EVM, so a bad EIP-55 checksum is reported as such.
    """
    from kinko.screening.addresses import normalise_address

    if address.strip().lower().startswith("0x"):
        return "ethereum"
    for chain in _GUESS_ORDER:
        try:
            normalise_address(chain, address)
        except InputError:
            continue
        return chain
    raise InputError(
        "address",
        f"{address!r} is not a valid address on {', '.join(_GUESS_ORDER)}; check it, or "
        "name the chain with --chain",
    )


@lists_app.command("load")
def load(
    file: Annotated[Path, typer.Argument(help="The list file as published.")],
    list_name: Annotated[
        str | None, typer.Option("--list", help="List name (default from the format).")
    ] = None,
    unsafe_allow_shrink: Annotated[bool, typer.Option(hidden=True)] = False,
    as_json: JsonOption = False,
) -> None:
    """Upload a list file as you (format detected from its content); the server re-screens.

    A file that changes a list's format or publisher, or shrinks it beyond the guard, is
    proposed instead: a second security admin approves it ('kinko role approve ID').
    """
    from kinko.cli import api

    with guarded_json(as_json):
        if unsafe_allow_shrink:
            raise InputError("unsafe_allow_shrink", UNSAFE_SHRINK_GONE)
        if not file.is_file():
            raise InputError("file", f"{file} does not exist")
        form = {"list": list_name} if list_name else {}
        try:
            with file.open("rb") as handle, api.connect() as kinko:
                answer = kinko.send(
                    "POST", "/v1/screening/lists", body=form, files={"file": (file.name, handle)}
                ).json()
        except OSError as exc:
            raise InputError("file", f"cannot read {file}: {exc.strerror or exc}") from None
    if as_json:
        echo_json(
            {
                "versions": answer["loaded"],
                "unchanged": answer["unchanged"],
                "proposed": answer["proposed"],
                "alerts": answer["alerts"],
            }
        )
        return
    for version in answer["loaded"]:
        console.print(
            f"loaded [bold]{version['list']}[/] {version['id']}: {version['entities']} "
            f"entities, {version['addresses']} addresses {version['counts_by_chain']}"
        )
        if version["unknown_tickers"]:
            console.print(f"  unknown tickers kept: {', '.join(version['unknown_tickers'])}")
        if version["invalid_addresses"]:
            console.print(
                f"  {len(version['invalid_addresses'])} addresses failed validation (kept verbatim)"
            )
    for name in answer["unchanged"]:
        console.print(f"{name}: this file is already the active version; nothing changed")
    for proposed in answer["proposed"]:
        console.print(
            f"[bold yellow]proposed[/] {proposed['list']} ({', '.join(proposed['changes'])}): "
            f"proposal {proposed['proposal']} waits for a second security admin "
            f"('kinko role approve {proposed['proposal']}')",
            highlight=False,
            soft_wrap=True,
        )
    _print_alerts(answer["alerts"])


def _print_alerts(alerts: list[dict[str, Any]]) -> None:
    for alert in alerts:
        console.print(
            f"[bold red]new hit[/] {alert['target_kind']} {alert['target_ref']}: "
            f"{alert['entity_name']} ({alert['list']})"
        )


@lists_app.command("rescreen")
def rescreen(as_json: JsonOption = False) -> None:
    """Screen registered targets (pending withdrawals, address book, people) again."""
    from kinko.cli import api

    with guarded_json(as_json), api.connect() as kinko:
        alerts = kinko.post("/v1/screening/rescreen")["alerts"]
    if as_json:
        echo_json({"alerts": alerts})
        return
    console.print(f"re-screened: {len(alerts)} new hits")
    _print_alerts(alerts)


@lists_app.command("show")
def show(
    all_versions: Annotated[bool, typer.Option("--all", help="Include replaced versions.")] = False,
    as_json: JsonOption = False,
) -> None:
    """Active list versions with provenance, and whether screening is fresh."""
    with (
        guarded_json(as_json),
        _service() as (_ctx, service),
        service.ctx.db.transaction() as session,
    ):
        versions = service.versions(session, include_inactive=all_versions)
        proposed = service.proposed(session)
        reasons = service.freshness(session)
    if as_json:
        echo_json(
            {
                "versions": [v.to_dict() for v in versions],
                "proposed": [v.to_dict() for v in proposed],
                "stale": list(reasons),
            }
        )
        return
    print_table(
        (
            "list",
            "version",
            "format",
            "publisher",
            "published",
            "loaded",
            "by",
            "entities",
            "addresses",
            "sha256",
        ),
        [
            (
                v.list_name + ("" if v.active else f" ({v.status.value})"),
                v.id,
                v.format.value,
                v.publisher,
                v.published.date().isoformat() if v.published else "dated by load",
                human_time(v.loaded_at),
                v.loaded_by + (f", approved by {v.approved_by}" if v.approved_by else ""),
                str(v.entity_count),
                str(v.address_count),
                v.sha256[:16],
            )
            for v in versions
        ],
        whole={"version"},
        title="Screening lists",
    )
    for v in proposed:
        err_console.print(
            f"[bold yellow]proposed:[/] {v.list_name} {v.id} ({v.format.value}, {v.publisher}) "
            f"waits for a second security admin: proposal {v.proposal_id}"
        )
    for reason in reasons:
        err_console.print(f"[bold yellow]stale:[/] {reason}")


def _print_address(verdict: AddressVerdict) -> None:
    colour = {"clear": "green", "hit": "red", "stale": "yellow"}[verdict.status.value]
    console.print(
        f"[bold {colour}]{verdict.status.value.upper()}[/] {verdict.chain} {verdict.address}"
    )
    for hit in verdict.hits:
        console.print(
            f"  {hit.list_name}: {hit.entity_name} [{', '.join(hit.programs)}] "
            f"ref {hit.entity_ref}, listed as {hit.listed_as} ({hit.ticker})"
        )
    for reason in verdict.reasons:
        console.print(f"  [yellow]{reason}[/]")


def _print_name(verdict: NameVerdict) -> None:
    colour = {"clear": "green", "hit": "red", "stale": "yellow"}[verdict.status.value]
    label = "REVIEW" if verdict.status is VerdictStatus.HIT else verdict.status.value.upper()
    console.print(f"[bold {colour}]{label}[/] {verdict.name} (threshold {verdict.threshold})")
    for hit in verdict.hits:
        console.print(f"  {hit.score:.2f} {hit.explanation}", highlight=False, markup=False)
    if verdict.case_id:
        console.print(
            f"  review case {verdict.case_id} (kinko screening case {verdict.case_id})",
            highlight=False,
        )
    for reason in verdict.reasons:
        console.print(f"  [yellow]{reason}[/]")


@screen_app.command("address")
def screen_address(
    address: Annotated[str, typer.Argument(help="The address to screen.")],
    chain: Annotated[
        str | None,
        typer.Option(help=f"Chain ({', '.join(sorted(SUPPORTED_CHAINS))}); guessed if omitted."),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Screen one address. Exit 1 on a hit or stale lists, 0 clear, 2 invalid address."""
    with guarded_json(as_json):
        chosen = chain or guess_chain(address)
        with _service() as (_ctx, service), service.ctx.db.transaction() as session:
            verdict = service.screen_address(session, chain=chosen, address=address)
    if as_json:
        echo_json(verdict.to_dict())
    else:
        _print_address(verdict)
    if verdict.status is not VerdictStatus.CLEAR:
        raise typer.Exit(EXIT_CHECK_FAILED)


@screen_app.command("name")
def screen_name(
    name: Annotated[str, typer.Argument(help="The person's or organisation's name.")],
    dob: Annotated[str | None, typer.Option(help="Date of birth, YYYY or YYYY-MM-DD.")] = None,
    nationality: Annotated[str | None, typer.Option(help="Nationality.")] = None,
    as_json: JsonOption = False,
) -> None:
    """Screen a name. Exit 1 when it must go to review (or lists are stale), 0 clear."""
    with (
        guarded_json(as_json),
        _service() as (_ctx, service),
        service.ctx.db.transaction() as session,
    ):
        verdict = service.screen_name(
            session, name, dob=dob, nationality=nationality, asker=_local_asker()
        )
    if as_json:
        echo_json(verdict.to_dict())
    else:
        _print_name(verdict)
    if verdict.status is not VerdictStatus.CLEAR:
        raise typer.Exit(EXIT_CHECK_FAILED)


def read_people(path: Path) -> list[tuple[str, str | None, str | None]]:
    """Rows of a people CSV with header ``name,dob,nationality`` (dob, nationality optional)."""
    from kinko.core.textfile import csv_rows, read_text

    if not path.is_file():
        raise InputError("file", f"{path} does not exist")
    text = read_text(path, field="file", encoding="utf-8-sig", name=path.name)
    rows = (row for row in csv_rows(text, field="file", name=path.name) if row)
    header = next(rows, None)
    if header is None or "name" not in header:
        raise InputError(
            "file", f"{path.name}: the header must include 'name' (name,dob,nationality)"
        )
    people = []
    for line, cells in enumerate(rows, 2):
        row = dict(zip(header, cells, strict=False))
        name = (row.get("name") or "").strip()
        if not name:
            raise InputError("name", f"{path.name} line {line}: the name is empty")
        people.append(
            (
                name,
                (row.get("dob") or "").strip() or None,
                (row.get("nationality") or "").strip() or None,
            )
        )
    return people


@screen_app.command("people")
def screen_people(
    file: Annotated[Path, typer.Argument(help="CSV with header name,dob,nationality.")],
    as_json: JsonOption = False,
) -> None:
    """Screen every person in a CSV. Exit 1 if any must go to review."""
    with guarded_json(as_json):
        people = read_people(file)
        with _service() as (_ctx, service), service.ctx.db.transaction() as session:
            asker = _local_asker()
            verdicts = [
                service.screen_name(session, name, dob=dob, nationality=nat, asker=asker)
                for name, dob, nat in people
            ]
    flagged = [v for v in verdicts if v.status is not VerdictStatus.CLEAR]
    if as_json:
        echo_json({"screened": len(verdicts), "flagged": [v.to_dict() for v in flagged]})
    else:
        table = Table(title=f"{len(verdicts)} screened, {len(flagged)} to review")
        for column in ("name", "status", "best match", "score"):
            table.add_column(column)
        for v in flagged:
            best = v.hits[0] if v.hits else None
            table.add_row(
                v.name,
                v.status.value,
                f"{best.matched_name} ({best.list_name} {best.entity_ref})" if best else "-",
                f"{best.score:.2f}" if best else "-",
            )
        console.print(table)
    if flagged:
        raise typer.Exit(EXIT_CHECK_FAILED)


def register(app: typer.Typer) -> None:
    """Add ``kinko lists`` and ``kinko screen``."""
    app.add_typer(lists_app, name="lists")
    app.add_typer(screen_app, name="screen")
