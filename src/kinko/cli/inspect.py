"""``kinko inspect ...``: self-inspection against the control catalogue (issue #16).

`inspect controls` lists the packaged catalogue (src/kinko/inspection/controls.yaml): each
control's id, title, how it is decided and its references in the chosen framework, with
whether each reference was verified. It reads no database. The JSON shape is in
docs/inspection.md.

`inspect snapshot` takes today's evidence snapshot, imports snapshots from a file
(`--import`) or back-fills past days from the store's history (`--backfill`);
`inspect snapshots` lists them. These open the database (the audit log names the
operating-system account, ``local:<user>``): recording evidence acts for no person.

Exit status: 0, or 2 for a bad option (or a catalogue that breaks its rules), or 1 when
an import conflicts with a snapshot already held (IntegrityError).
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from kinko.cli.common import console, echo_json, local_actor
from kinko.cli.inspect_download import download as download_command
from kinko.cli.inspect_download import runs as runs_command
from kinko.cli.inspect_incident import incident as incident_command
from kinko.cli.inspect_incident import incidents as incidents_command
from kinko.cli.inspect_reports import history as history_command
from kinko.cli.inspect_reports import verify as verify_command
from kinko.cli.inspect_run import run as run_command
from kinko.cli.output import JsonOption, guarded_json, human_time, json_time, print_table
from kinko.core.errors import InputError

if TYPE_CHECKING:
    from kinko.inspection.catalogue import Control, Reference
    from kinko.inspection.snapshots import Filled, SnapshotRecord, SnapshotService

inspect_app = typer.Typer(
    help="Self-inspection: the control catalogue and its framework mappings.",
    no_args_is_help=True,
)


class FrameworkChoice(StrEnum):
    JP = "jp"
    KR = "kr"
    CCSS = "ccss"
    NIST = "nist"
    ALL = "all"


def reference_json(reference: Reference) -> dict[str, Any]:
    return {
        "framework": reference.framework.value,
        "citation": reference.citation,
        "levels": [level.value for level in reference.levels],
        "verified": reference.verified,
        "source": reference.source.key if reference.source else None,
        "where": reference.where,
        "note": reference.note,
    }


def control_json(control: Control, references: tuple[Reference, ...]) -> dict[str, Any]:
    return {
        "id": control.id,
        "title": control.title,
        "decision": control.decision.value,
        "references": [reference_json(r) for r in references],
    }


def reference_cell(reference: Reference, with_framework: bool) -> str:
    levels = f" [{'/'.join(level.value for level in reference.levels)}]" if reference.levels else ""
    mark = "" if reference.verified else " (unverified)"
    prefix = f"{reference.framework.value}: " if with_framework else ""
    return f"{prefix}{reference.citation}{levels}{mark}"


@inspect_app.command("controls")
def controls(
    framework: Annotated[
        FrameworkChoice,
        typer.Option(
            "--framework", help="Only controls mapped to this framework (all: every one)."
        ),
    ] = FrameworkChoice.ALL,
    as_json: JsonOption = False,
) -> None:
    """List the control catalogue: id, title, how each is decided, the framework's references."""
    from kinko.inspection.catalogue import Framework, packaged

    with guarded_json(as_json):
        catalogue = packaged()
    chosen = None if framework is FrameworkChoice.ALL else Framework(framework.value)
    selected = catalogue.for_framework(chosen)

    def refs(control: Control) -> tuple[Reference, ...]:
        return control.references if chosen is None else control.references_for(chosen)

    if as_json:
        echo_json(
            {
                "catalogue": catalogue.version,
                "framework": framework.value,
                "controls": [control_json(c, refs(c)) for c in selected],
            }
        )
        return
    print_table(
        ("id", "title", "decision", "references"),
        [
            (
                c.id,
                c.title,
                c.decision.value,
                "\n".join(reference_cell(r, with_framework=chosen is None) for r in refs(c)),
            )
            for c in selected
        ],
        whole=("id",),
        title=f"catalogue {catalogue.version}, {framework.value}: {len(selected)} controls",
    )


FromOption = Annotated[str | None, typer.Option("--from", help="First day, YYYY-MM-DD (UTC).")]
ToOption = Annotated[str | None, typer.Option("--to", help="Last day, YYYY-MM-DD (UTC).")]


def _day(text: str | None, field: str) -> date | None:
    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise InputError(field, f"{text!r} is not a day like 2026-12-06 (YYYY-MM-DD)") from None


def record_json(record: SnapshotRecord) -> dict[str, Any]:
    return {
        "day": record.day.isoformat(),
        "digest": record.digest,
        "origin": record.origin,
        "as_of": json_time(record.as_of),
        "size": record.size,
        "recorded_at": json_time(record.recorded_at),
        "recorded_by": record.recorded_by,
        "imported_from": record.imported_from,
        "audit_seq": record.audit_seq,
    }


def _filled_json(filled: Filled) -> dict[str, Any]:
    return {
        "recorded": [record_json(r) for r in filled.recorded],
        "skipped": [{"day": d.isoformat(), "reason": why} for d, why in filled.skipped],
    }


def _import(service: SnapshotService, path: Path) -> Filled:
    import json

    from kinko.core.textfile import read_text

    try:
        doc = json.loads(read_text(path, field="--import"))
    except json.JSONDecodeError as exc:
        raise InputError("--import", f"{path} is not JSON: {exc}") from None
    return service.import_documents(doc, actor=local_actor(), source=path.name)


@inspect_app.command("snapshot")
def snapshot(
    import_file: Annotated[
        Path | None,
        typer.Option(
            "--import", help="Import the snapshots of this JSON file (docs/inspection.md)."
        ),
    ] = None,
    backfill: Annotated[
        bool, typer.Option("--backfill", help="Fill --from..--to from the store's history.")
    ] = False,
    start: FromOption = None,
    end: ToOption = None,
    as_json: JsonOption = False,
) -> None:
    """Take today's evidence snapshot (once a day), import snapshots, or back-fill days."""
    with guarded_json(as_json):
        first, last = _day(start, "--from"), _day(end, "--to")
        if import_file is not None and backfill:
            raise InputError("--import", "give --import or --backfill, not both")
        if not backfill and (first or last):
            raise InputError("--from", "--from and --to go with --backfill")
        if backfill and (first is None or last is None):
            raise InputError(
                "--from" if first is None else "--to", "--backfill needs --from and --to"
            )
        from kinko.cli.common import open_services

        with open_services() as services:
            service = services.snapshots
            if import_file is not None:
                filled = _import(service, import_file)
            elif backfill:
                assert first is not None and last is not None
                filled = service.backfill(first, last, actor=local_actor())
            else:
                taken = service.take(actor=local_actor())
    if import_file is None and not backfill:
        if as_json:
            echo_json({**record_json(taken.record), "new": taken.new})
        else:
            how = "taken" if taken.new else f"already taken {human_time(taken.record.recorded_at)}"
            console.print(f"snapshot of {taken.record.day}: {taken.record.digest} ({how})")
        return
    if as_json:
        echo_json(_filled_json(filled))
        return
    verb = "imported" if import_file is not None else "back-filled"
    for record in filled.recorded:
        console.print(f"{verb} {record.day}: {record.digest}")
    for day, why in filled.skipped:
        console.print(f"skipped {day}: {why}")
    console.print(f"{len(filled.recorded)} {verb}, {len(filled.skipped)} skipped")


@inspect_app.command("snapshots")
def snapshots(
    start: FromOption = None,
    end: ToOption = None,
    documents: Annotated[
        bool,
        typer.Option("--documents", help="With --json, each snapshot's document (importable)."),
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """List the evidence snapshots held: day, origin, digest, who recorded them."""
    with guarded_json(as_json):
        first, last = _day(start, "--from"), _day(end, "--to")
        if documents and not as_json:
            raise InputError("--documents", "goes with --json")
        from kinko.cli.common import open_services

        with open_services() as services:
            service = services.snapshots
            records = service.list(first, last)
            items = [record_json(r) for r in records]
            if documents:
                for item, record in zip(items, records, strict=True):
                    item["document"] = service.document(record.day).to_json()
    if as_json:
        echo_json({"snapshots": items})
        return
    print_table(
        ("day", "origin", "digest", "as of", "recorded by", "audit"),
        [
            (
                r.day.isoformat(),
                r.origin + (f" (imported from {r.imported_from})" if r.imported_from else ""),
                r.digest,
                human_time(r.as_of),
                r.recorded_by,
                str(r.audit_seq),
            )
            for r in records
        ],
        whole=("day", "digest"),
        title=f"{len(records)} snapshots",
    )


inspect_app.command("run")(run_command)
inspect_app.command("verify")(verify_command)
inspect_app.command("history")(history_command)
inspect_app.command("runs")(runs_command)
inspect_app.command("download")(download_command)
inspect_app.command("incident")(incident_command)
inspect_app.command("incidents")(incidents_command)


def register(app: typer.Typer) -> None:
    """Add this domain's commands to `app`."""
    app.add_typer(inspect_app, name="inspect")
