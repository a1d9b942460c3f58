"""``kinko inspect verify`` and ``kinko inspect history``.

`verify REPORT --vkey KEY` checks a run's report file offline, with the audit log's
verifier key and the two files written beside it (``<stem>.sig``, ``<stem>.proof``): the
file's bytes are the ones the log's key signed, and the JSON report's digest is in the
audit log (its ``inspection.run`` entry's inclusion proof into a signed checkpoint). It
opens no database. Exit status 0 when both hold, 1 when one does not, 2 for a file or key
that cannot be read (naming the option).

`history` lists the runs from the audit log's ``inspection.run`` entries, with the change
of each count since the previous run of the same framework.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from kinko.cli.common import console, echo_json
from kinko.cli.output import JsonOption, guarded_json, human_time, print_table
from kinko.core.errors import InputError

FRAMEWORKS = ("jp", "kr", "ccss", "all")


def _vkey(value: str | None) -> str:
    if value is None:
        raise InputError("--vkey", "give the audit log's verifier key (audit-log.vkey or its text)")
    path = Path(value)
    if path.is_file():
        return path.read_text(encoding="utf-8").strip()
    if "+" in value and not path.suffix:
        return value.strip()
    raise InputError("--vkey", f"{value} is neither a key file nor a key; give audit-log.vkey")


def verify(
    report: Annotated[Path, typer.Argument(help="A report file: .json, .html, .pdf, .oscal.json.")],
    vkey: Annotated[
        str | None, typer.Option("--vkey", help="The audit log's verifier key (file or text).")
    ] = None,
    sig: Annotated[
        Path | None, typer.Option("--sig", help="The signed note (default: <stem>.sig beside).")
    ] = None,
    proof: Annotated[
        Path | None, typer.Option("--proof", help="The log proof (default: <stem>.proof beside).")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Check a report offline: signed by the audit log's key, its digest in the audit log."""
    from kinko.inspection.signing import verify as check

    with guarded_json(as_json):
        result = check(report, _vkey(vkey), sig=sig, proof=proof)
    if as_json:
        echo_json(
            {
                "ok": True,
                "file": result.file,
                "report": result.report,
                "digest": result.digest,
                "audit_seq": result.audit_seq,
                "checkpoint_size": result.checkpoint_size,
                "evidence_proofs": result.evidence,
                "signed": [
                    {"name": s.name, "sha256": s.digest, "size": s.size} for s in result.signed
                ],
            }
        )
        return
    console.print(
        f"OK: {result.file} is signed by the audit log's key; report {result.report} "
        f"(sha256 {result.digest}) is audit entry {result.audit_seq} of the checkpoint of "
        f"size {result.checkpoint_size}",
        highlight=False,
    )
    if result.evidence:
        console.print(f"and its {result.evidence} evidence snapshots are proven in the log")


def history(
    framework: Annotated[
        str | None, typer.Option("--framework", help="Only runs of jp, kr, ccss or all.")
    ] = None,
    limit: Annotated[int, typer.Option("--limit", help="The last N runs.")] = 50,
    html: Annotated[
        Path | None, typer.Option("--html", help="Also write the trend as an HTML page here.")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """The trend across inspection runs: counts per status, and their change since the last."""
    with guarded_json(as_json):
        if framework is not None and framework not in FRAMEWORKS:
            raise InputError("--framework", f"{framework!r} is not one of: {', '.join(FRAMEWORKS)}")
        if limit < 1:
            raise InputError("--limit", "must be at least 1")
        if html is not None and (html.is_dir() or not html.parent.is_dir()):
            raise InputError("--html", f"{html} is not a file in an existing directory")
        from kinko.cli.common import open_context
        from kinko.inspection.run_history import as_json as listed_as
        from kinko.inspection.run_history import history as read

        with open_context() as ctx:
            runs = read(ctx, framework, limit)
        listed = [listed_as(r) for r in runs]
        if html is not None:
            from kinko.inspection.history_report import render

            html.write_text(render(listed), encoding="utf-8")
    if as_json:
        echo_json({"runs": listed, "html": None if html is None else str(html)})
        return

    def cell(r: object, status: str) -> str:
        from kinko.inspection.run_history import RunEntry

        assert isinstance(r, RunEntry)
        n = r.summary[status]
        delta = None if r.change is None else r.change[status]
        return f"{n}" if not delta else f"{n} ({delta:+d})"

    print_table(
        ("when", "framework", "period", "pass", "fail", "insufficient", "manual", "n/a", "digest"),
        [
            (
                human_time(r.time),
                r.framework,
                f"{r.start} .. {r.end}",
                *(cell(r, s) for s in ("pass", "fail", "insufficient_evidence", "manual")),
                cell(r, "not_applicable"),
                r.digest,
            )
            for r in runs
        ],
        whole=("digest",),
        title=f"{len(runs)} inspection runs",
    )
    if html is not None:
        console.print(f"The trend as a page: {html}")
