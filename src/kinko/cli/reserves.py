"""``kinko reserves ...``: build a proof-of-reserves snapshot, prove an account, verify.

`build` and `prove` open the database (an operator's commands, like `kinko audit prove`);
`verify` needs no database, only the proof and the audit log's verifier key.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from kinko.cli.common import EXIT_CHECK_FAILED, console, echo_json, fail, local_actor, open_services
from kinko.cli.output import JsonOption, guarded_json, print_table
from kinko.core.errors import InputError

if TYPE_CHECKING:
    from kinko.reserves.controls import Reserve
    from kinko.reserves.coverage import Coverage
    from kinko.reserves.service import Built
    from kinko.reserves.source import Source
    from kinko.services import Services

reserves_app = typer.Typer(
    help="Proof of reserves: snapshots, customer proofs.", no_args_is_help=True
)


def _coverage_rows(coverage: tuple[Coverage, ...]) -> list[list[str]]:
    return [
        [c.asset, str(c.liabilities), str(c.reserves), str(c.margin), "ok" if c.passed else "SHORT"]
        for c in coverage
    ]


def _report(
    snapshot_id: str,
    coverage: tuple[Coverage, ...],
    unproven: tuple[Reserve, ...],
    as_json: bool,
    source: Source | None = None,
) -> None:
    short = [c.asset for c in coverage if not c.passed]
    if as_json:
        echo_json(
            {
                "ok": not short,
                "snapshot": snapshot_id,
                "assets": [c.to_json() for c in coverage],
                "unproven": [r.to_json() for r in unproven],
                **({} if source is None else {"source": source.to_json()}),
            }
        )
    else:
        print_table(
            ["asset", "liabilities", "proven reserves", "margin", "check"],
            _coverage_rows(coverage),
            whole={"asset"},
            title=f"snapshot {snapshot_id} (base units)",
        )
        if source is not None and source.statement is not None:
            digest = (source.digest or b"").hex()
            console.print(f"built from custody's statement {source.statement} (sha256 {digest})")
        for r in unproven:
            console.print(
                f"not counted: wallet {r.wallet_id} {r.address or ''} ({r.chain}): {r.why_unproven}"
            )
    if short:
        raise fail(f"reserves fall short of liabilities in {', '.join(short)}", EXIT_CHECK_FAILED)


@reserves_app.command("build")
def build(
    at: Annotated[
        str | None,
        typer.Option(help="Custody's liabilities at this time (ISO 8601 with zone; default now)."),
    ] = None,
    day: Annotated[
        str | None,
        typer.Option(help="The custody snapshot day, YYYY-MM-DD (default: the UTC day of --at)."),
    ] = None,
    ledger: Annotated[
        Path | None,
        typer.Option(help="Build from this ledger file instead (account,asset,base_units)."),
    ] = None,
    floor: Annotated[
        int, typer.Option(help="Pad every asset's tree to at least this many leaves.")
    ] = 1,
    as_json: JsonOption = False,
) -> None:
    """Build a snapshot from custody's liabilities (or a ledger), check it, log its roots."""
    with guarded_json(as_json):
        chosen = _day(day)
        if floor < 1:
            raise InputError("floor", "must be at least 1 (a number of leaves)")
        if ledger is not None and at is not None:
            raise InputError(
                "at", "--at picks custody's statement; --ledger builds from a file: give one"
            )
        with open_services() as services:
            actor, keys = local_actor(), _hot_keys(services)
            if ledger is None:
                from kinko.custody.statement_rows import parse_as_of

                moment = services.ctx.clock.now() if at is None else parse_as_of(at, field="at")
                built = services.reserves.build_from_custody(
                    at=moment, day=chosen, floor=floor, actor=actor, key_for=keys
                )
            else:
                built = _from_ledger(services, ledger, chosen, floor, actor, keys)
    _report(built.id, built.coverage, built.unproven, as_json, built.source)


def _day(text: str | None) -> date | None:
    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise InputError("day", f"{text!r} is not a date like 2026-12-07") from None


def _from_ledger(  # noqa: PLR0917 - the build command's choices, passed on
    services: Services,
    ledger: Path,
    day: date | None,
    floor: int,
    actor: str,
    keys: Callable[[str], bytes] | None,
) -> Built:
    """A snapshot from a ledger file, read a line at a time; its digest is recorded."""
    from kinko.custody.statement_files import file_digest, open_rows

    if day is None:
        raise InputError("day", "give --day (the custody snapshot day) with --ledger")
    digest = file_digest(ledger, field="ledger")
    with open_rows(ledger, name="ledger") as (_, rows):
        tuples = ((r.account, r.asset, r.base_units) for r in rows)
        return services.reserves.build(
            tuples, day=day, floor=floor, actor=actor, key_for=keys, source_digest=digest
        )


def _hot_keys(services: Services) -> Callable[[str], bytes] | None:
    """The keystore of Kinko's online signer (hot wallets' keys), if it can be opened."""
    from kinko.cli.common import err_console
    from kinko.core.errors import KinkoError

    try:
        return services.withdrawal_stack().signer.keystore.key_for
    except KinkoError as exc:  # on standard error: `--json` keeps standard output clean
        err_console.print(f"hot wallets not signed at build ({exc.message}); use `attest`")
        return None


@reserves_app.command("attest")
def attest(  # noqa: PLR0917 - typer maps each parameter to an option
    snapshot: Annotated[str, typer.Argument(help="The snapshot id.")],
    address: Annotated[str, typer.Option(help="The reserve address that signed.")],
    signature: Annotated[
        Path | None,
        typer.Option(
            help="A file with the address's signature of the statement: EIP-191 (hex), "
            "BIP-322 (smp/ful + base64), or the cosigners' signed BIP-322 PSBTs (one a line)."
        ),
    ] = None,
    show: Annotated[
        bool, typer.Option("--show", help="Print the statement to sign, and stop.")
    ] = False,
    psbt: Annotated[
        Path | None,
        typer.Option(help="Write the BIP-322 PSBT a Bitcoin wallet's cosigners sign, and stop."),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Import an address's signed statement for SNAPSHOT: proof of control of a reserve."""
    from kinko.core.textfile import read_text
    from kinko.reserves.control import parse_signature

    with guarded_json(as_json), open_services() as services:
        if show:
            typer.echo(services.reserves.statement(snapshot, address), nl=False)
            return
        if psbt is not None:
            psbt.write_text(services.reserves.psbt(snapshot, address) + "\n")
            console.print(f"BIP-322 PSBT for the cosigners of {address} written to {psbt}")
            return
        if signature is None:
            raise InputError(
                "signature", "give --signature FILE (or --show to print the text to sign)"
            )
        raw = parse_signature(read_text(signature, field="signature"))
        built = services.reserves.attest(snapshot, address, raw, actor=local_actor())
    if not as_json:
        console.print(f"control of {address} proven for snapshot {built.id}")
    _report(built.id, built.coverage, built.unproven, as_json)


@reserves_app.command("prove")
def prove(
    account: Annotated[str, typer.Argument(help="The customer's account id.")],
    snapshot: Annotated[
        str | None, typer.Option(help="The snapshot id (default: the latest).")
    ] = None,
    out: Annotated[
        Path | None, typer.Option(help="Write the proof here (default: standard output).")
    ] = None,
    binary: Annotated[
        bool, typer.Option("--binary", help="The compact binary proof (needs --out).")
    ] = False,
) -> None:
    """Write ACCOUNT's proof: its leaves, paths, the roots and their audit-log proof."""
    from kinko.cli.common import guarded

    with guarded():
        if binary and out is None:
            raise InputError("out", "a binary proof is written to a file: give --out FILE")
        with open_services() as services:
            document = services.reserves.prove(account, snapshot, binary=binary)
    if out is None:
        typer.echo(document.decode())
    else:
        out.write_bytes(document)
        console.print(f"proof written to {out}")


@reserves_app.command("verify")
def verify(
    proof: Annotated[Path, typer.Argument(help="A proof file from `kinko reserves prove`.")],
    vkey: Annotated[Path, typer.Option(help="The audit log's verifier key file.")],
    as_json: JsonOption = False,
) -> None:
    """Check a proof offline: sums, hashes, roots, audit log. Needs no database."""
    import json

    from kinko.core.textfile import read_text
    from kinko.reserves.verify import load, verify_document

    with guarded_json(as_json):
        try:
            data = proof.read_bytes()
        except OSError as exc:
            raise InputError("PROOF", f"cannot read {proof}: {exc.strerror}") from None
        if data[:3] == b"KRP":
            document = load(data)
        else:
            try:
                document = json.loads(data.decode("utf-8"))
            except ValueError as exc:
                raise InputError(
                    "PROOF", f"is not JSON ({exc}); give the file the exchange sent"
                ) from None
        result = verify_document(document, read_text(vkey, field="vkey").strip())
    if as_json:
        echo_json(
            {
                "ok": True,
                "snapshot": result.snapshot,
                "account": result.account,
                "checkpoint_size": result.checkpoint_size,
                "controls": [{"chain": c, "address": a} for c, a in result.controls],
                "assets": [
                    {"asset": a, "value": str(v), "total": str(t)} for a, v, t in result.values
                ],
            }
        )
        return
    console.print(f"OK: account {result.account} is included in snapshot {result.snapshot}")
    print_table(
        ["asset", "your base units", "all customers"],
        [[a, str(v), str(t)] for a, v, t in result.values],
        whole={"asset"},
    )
    for chain, address in result.controls:
        console.print(f"reserve address {address} ({chain}): control proven for this snapshot")


@reserves_app.command("page")
def page(
    out: Annotated[Path, typer.Option(help="Where to write the page (an .html file).")],
) -> None:
    """Write the static page customers open in a browser to check a proof locally."""
    from importlib.resources import files

    from kinko.cli.common import guarded

    with guarded():
        data = files("kinko.reserves").joinpath("verify.html").read_bytes()
        try:
            out.write_bytes(data)
        except OSError as exc:
            raise InputError("out", f"cannot write {out}: {exc.strerror}") from None
    console.print(f"page written to {out}: publish it beside the audit log's verifier key")


@reserves_app.command("status")
def status(
    snapshot: Annotated[
        str | None, typer.Option(help="The snapshot id (default: the latest).")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Reserves against liabilities per asset for a snapshot; exit 1 if one falls short."""
    with guarded_json(as_json), open_services() as services:
        snapshot_id, coverage, unproven = services.reserves.coverage(snapshot)
    _report(snapshot_id, coverage, unproven, as_json)


@reserves_app.command("seal")
def seal() -> None:
    """Seal the secrets of snapshots built before secrets were sealed (once, audited)."""
    from kinko.cli.common import guarded

    with guarded(), open_services() as services:
        sealed = services.reserves.seal_clear(actor=local_actor())
    console.print(f"sealed {len(sealed)} snapshot secret(s)" + (": " if sealed else ""))
    for snapshot_id in sealed:
        console.print(f"  {snapshot_id}")


def register(app: typer.Typer) -> None:
    app.add_typer(reserves_app, name="reserves")
