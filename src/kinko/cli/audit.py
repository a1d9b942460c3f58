"""``kinko audit ...``: checkpoints, proofs, export, offline verification and witnesses."""

from __future__ import annotations

import base64
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer

from kinko.cli.common import console, echo_json, guarded, open_context
from kinko.cli.output import JsonOption, guarded_json, json_time
from kinko.core.errors import InputError

audit_app = typer.Typer(help="The tamper-evident audit log.", no_args_is_help=True)
witness_app = typer.Typer(help="Witness (cosign) the log's checkpoints.", no_args_is_help=True)
audit_app.add_typer(witness_app, name="witness")


def _key_text(value: str, field: str) -> str:
    """A key given as a file path or as the key text itself."""
    path = Path(value)
    if path.is_file():
        return path.read_text(encoding="utf-8").strip()
    if "+" in value and not path.suffix:
        return value.strip()
    raise InputError(field, f"{value} is neither a key file nor a key; give the .vkey file")


def checkpoint_size(note: str) -> int:
    from kinko.audit.checkpoint import parse_body
    from kinko.audit.note import parse_note

    return parse_body(parse_note(note).text).size


def _b64(values: list[bytes]) -> list[str]:
    return [base64.b64encode(v).decode() for v in values]


@audit_app.command("checkpoint")
def checkpoint(as_json: JsonOption = False) -> None:
    """Sign a checkpoint of the current log (or print the latest if nothing was added)."""
    from kinko.audit.checkpoint import parse_body
    from kinko.audit.note import parse_note

    with guarded_json(as_json), open_context() as ctx, ctx.db.transaction() as session:
        note = ctx.audit.checkpoint(session)
    if as_json:
        body = parse_body(parse_note(note).text)
        echo_json(
            {
                "origin": body.origin,
                "size": body.size,
                "root_hash": base64.b64encode(body.root_hash).decode(),
                "note": note,
            }
        )
        return
    typer.echo(note, nl=False)


@audit_app.command("prove")
def prove(
    index: Annotated[int, typer.Argument(help="Entry sequence number.")],
    size: Annotated[
        int | None, typer.Option(help="Tree size (default: a fresh checkpoint).")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Inclusion proof for entry INDEX, with the entry and the checkpoint it proves into.

    The entry is checked first: it must hash to its leaf hash, and the proof must lead
    from that leaf to the root and to the signed checkpoint's (a fresh one, or with
    --size the one signed at that size, if any); otherwise exit 1 and nothing but the
    error is printed. Always JSON (--json is accepted)."""
    from kinko.audit import merkle
    from kinko.audit.checkpoint import parse_body
    from kinko.audit.note import parse_note
    from kinko.core.errors import IntegrityError
    from kinko.store.tables.audit import AuditCheckpointRow

    with guarded_json(True), open_context() as ctx, ctx.db.transaction() as session:
        note = None
        if size is None:
            note = ctx.audit.checkpoint(session)
            size = checkpoint_size(note)
        else:  # the checkpoint signed at that size, if there is one
            signed = session.get(AuditCheckpointRow, size)
            note = None if signed is None else signed.note
        proof = ctx.audit.inclusion_proof(session, index, size)
        record = ctx.audit.entry(session, index)
        root = ctx.audit.root(session, size)
        if merkle.leaf_hash(record.entry) != record.leaf_hash:
            raise IntegrityError(
                f"audit entry {index} does not hash to its leaf hash: the entry was altered "
                "after it was logged; run 'kinko audit export DIR' and 'kinko audit verify "
                "DIR --vkey VKEY' to check the whole log",
                code="entry_altered",
            )
        merkle.verify_inclusion(record.leaf_hash, index, size, proof, root)
        if note is not None and parse_body(parse_note(note).text).root_hash != root:
            raise IntegrityError(
                f"the stored tree of size {size} does not match the checkpoint signed at that "
                "size: the log was altered after it was signed",
                code="checkpoint_mismatch",
            )
    echo_json(
        {
            "index": index,
            "size": size,
            "entry": record.entry.decode(),
            "leaf_hash": base64.b64encode(record.leaf_hash).decode(),
            "root_hash": base64.b64encode(root).decode(),
            "proof": _b64(proof),
            "checkpoint": note,
        }
    )


@audit_app.command("consistency")
def consistency(
    first: Annotated[int, typer.Argument(help="Older tree size.")],
    second: Annotated[int, typer.Argument(help="Newer tree size.")],
    as_json: JsonOption = False,
) -> None:
    """Consistency proof between tree sizes FIRST and SECOND (always JSON; --json accepted)."""
    with guarded_json(True), open_context() as ctx, ctx.db.transaction() as session:
        proof = ctx.audit.consistency_proof(session, first, second)
        roots = (ctx.audit.root(session, first), ctx.audit.root(session, second))
    echo_json(
        {
            "first": first,
            "second": second,
            "first_root": base64.b64encode(roots[0]).decode(),
            "second_root": base64.b64encode(roots[1]).decode(),
            "proof": _b64(proof),
        }
    )


@audit_app.command("export")
def export(directory: Annotated[Path, typer.Argument(help="Output directory.")]) -> None:
    """Write the log as a C2SP tlog-tiles directory (checkpoint, tiles, entry bundles).

    Witness cosignatures already there are kept (docs/audit.md)."""
    from kinko.audit.keep import ARCHIVE, cosigners

    with guarded(), open_context() as ctx:
        cp = ctx.audit.export(ctx.db, directory)
        witnesses = cosigners(directory, cp.origin)
    console.print(f"Exported {cp.size} entries to [bold]{directory}[/]")
    if witnesses:
        console.print(f"kept the cosignatures of {', '.join(witnesses)} on this checkpoint")
    if (directory / ARCHIVE).is_dir():
        console.print(f"earlier cosigned checkpoints are kept in {directory / ARCHIVE}")


@audit_app.command("verify")
def verify(  # noqa: PLR0917 - typer maps each parameter to an option
    directory: Annotated[Path, typer.Argument(help="An exported tlog-tiles directory.")],
    vkey: Annotated[str, typer.Option(help="The log's verifier key (file or text).")],
    witness: Annotated[
        list[str] | None, typer.Option(help="A witness verifier key; repeat for several.")
    ] = None,
    witness_threshold: Annotated[
        int, typer.Option(help="How many distinct witnesses must have cosigned.")
    ] = 0,
    any_entries: Annotated[
        bool, typer.Option(help="Entries are not Kinko JSON: skip the sequence check.")
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """Check DIR offline: signature, every entry, every tile, the root. Needs no database."""
    from kinko.audit.verify import verify_directory

    with guarded_json(as_json):
        witnesses = [_key_text(w, "witness") for w in witness or []]
        if witnesses and witness_threshold == 0:
            witness_threshold = len(witnesses)
        report = verify_directory(
            directory,
            _key_text(vkey, "vkey"),
            witnesses=witnesses,
            witness_threshold=witness_threshold,
            kinko_entries=not any_entries,
            now=int(time.time()) + 300,
        )
    cp = report.checkpoint
    root = base64.b64encode(cp.root_hash).decode()
    cosigned = [
        (c.witness, json_time(datetime.fromtimestamp(c.timestamp, UTC)))
        for c in report.cosignatures
    ]
    if as_json:
        echo_json(
            {
                "ok": True,
                "origin": cp.origin,
                "size": cp.size,
                "root_hash": root,
                "entries": report.entries,
                "tiles": report.tiles,
                "cosignatures": [{"witness": w, "time": at} for w, at in cosigned],
            }
        )
        return
    console.print(
        f"OK: {cp.origin} size {cp.size}, {report.entries} entries and {report.tiles} tiles "
        f"verified; root {root}",
        highlight=False,
    )
    for witness_name, at in cosigned:
        console.print(f"cosigned by {witness_name} at {at}", highlight=False)


@witness_app.command("init")
def witness_init(
    name: Annotated[str, typer.Option(help="Witness name, e.g. audit.example.com/w1.")],
    out: Annotated[Path, typer.Option(help="Where to write the private key (mode 0600).")],
) -> None:
    """Create a witness key pair: OUT (private) and OUT.vkey (give it to verifiers)."""
    from kinko.audit.note import ALG_COSIGNATURE_V1, generate_signer
    from kinko.core.errors import Conflict
    from kinko.core.secretfile import PUBLIC_FILE, create_file, write_secret_file

    with guarded():
        skey, vkey = generate_signer(name, ALG_COSIGNATURE_V1)
        if out.exists():
            raise Conflict(f"{out} already exists; refusing to overwrite a key")
        write_secret_file(out, skey.encode() + b"\n")
        public = out.with_name(out.name + ".vkey")  # for verifiers: 0644, whatever the umask
        public.unlink(missing_ok=True)
        create_file(public, (vkey + "\n").encode(), PUBLIC_FILE)
    console.print(f"Witness verifier key: {vkey}")


@witness_app.command("cosign")
def witness_cosign(
    directory: Annotated[Path, typer.Argument(help="Exported tlog-tiles directory.")],
    log_vkey: Annotated[str, typer.Option(help="The log's verifier key (file or text).")],
    key: Annotated[Path, typer.Option(help="This witness's private key file.")],
    state: Annotated[Path, typer.Option(help="File holding the last checkpoint witnessed.")],
    as_json: JsonOption = False,
) -> None:
    """Cosign DIR's checkpoint if it is consistent with the last one this witness saw."""
    from kinko.audit.witness import cosign_directory

    with guarded_json(as_json):
        from kinko.core.secretfile import read_private

        if not key.is_file():
            raise InputError("key", f"{key} does not exist; create it with 'witness init'")
        result = cosign_directory(
            directory,
            _key_text(log_vkey, "log-vkey"),
            read_private(key, field="--key").decode("utf-8", errors="replace"),
            state,
            int(time.time()),
        )
    if as_json:
        echo_json(
            {
                "ok": True,
                "origin": result.checkpoint.origin,
                "size": result.checkpoint.size,
                "previous_size": None if result.previous is None else result.previous.size,
            }
        )
        return
    before = "nothing (first use)" if result.previous is None else f"size {result.previous.size}"
    console.print(f"Cosigned size {result.checkpoint.size}; previously witnessed {before}")


def register(app: typer.Typer) -> None:
    """Add this domain's commands to `app`."""
    app.add_typer(audit_app, name="audit")
