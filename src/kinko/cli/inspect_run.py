"""``kinko inspect run``: decide the catalogue's controls over a period, write the report.

The report (JSON, schema in docs/inspection.md) carries each finding's evidence: the
digests of the daily snapshots it used and their audit-log inclusion proofs against a
signed checkpoint; its own digest goes into the audit log (``inspection.run``). Opens the
database itself, like ``kinko inspect snapshot`` (the audit log names ``local:<user>``).

The files are also kept by Kinko (`kinko.inspection.run_jobs`: the console and
``kinko inspect download`` serve them); the same framework and period already running
(from the console, say) is refused, exit 2.

Exit status: 0 once the report is written (whatever it finds), 2 for a bad option
(naming it) or a run in progress, 1 when the stored evidence does not match its digests
or the log.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from kinko.cli.common import console, echo_json
from kinko.cli.output import JsonOption, guarded_json
from kinko.core.errors import InputError

FRAMEWORKS = ("jp", "kr", "ccss", "all")
FORMATS = ("json", "html", "pdf", "oscal")


def _formats(text: str) -> list[str]:
    asked = [f.strip().lower() for f in text.split(",") if f.strip()]
    for name in asked:
        if name not in FORMATS:
            raise InputError(
                "--format", f"{name!r} is not a report format; use {', '.join(FORMATS)}"
            )
    if not asked:
        raise InputError("--format", f"name one or more of: {', '.join(FORMATS)}")
    return asked


def run(  # noqa: PLR0917 - typer maps each parameter to an option
    framework: Annotated[
        str, typer.Option("--framework", help="jp, kr, ccss or all (every control).")
    ] = "all",
    start: Annotated[
        str | None,
        typer.Option("--from", help="First day, YYYY-MM-DD (UTC); default 364 days before --to."),
    ] = None,
    end: Annotated[
        str | None, typer.Option("--to", help="Last day, YYYY-MM-DD (UTC); default today.")
    ] = None,
    report_format: Annotated[
        str,
        typer.Option(
            "--format", help="json, html, pdf, oscal, comma-separated (json is always written)."
        ),
    ] = "json",
    out: Annotated[
        Path | None, typer.Option("--out", help="Directory the report is written to.")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Decide each control over the period from the daily snapshots; write the signed report."""
    from kinko.cli.common import local_actor
    from kinko.cli.inspect import _day

    with guarded_json(as_json):
        if framework not in FRAMEWORKS:
            raise InputError("--framework", f"{framework!r} is not one of: {', '.join(FRAMEWORKS)}")
        formats = _formats(report_format)
        first, last = _day(start, "--from"), _day(end, "--to")
        if out is None:
            raise InputError("--out", "name the directory the report is written to")
        from datetime import UTC

        from kinko.cli.common import open_services
        from kinko.inspection.run_jobs import Asked, InspectionJobs
        from kinko.inspection.runs import default_period

        with open_services() as built:
            today = built.ctx.clock.now().astimezone(UTC).date()
            period = default_period(today, first, last)
            asked = Asked(framework, period, ("json", *(f for f in FORMATS[1:] if f in formats)))
            jobs = InspectionJobs(built.ctx, conflict_matrix=built.identity.conflict_matrix)
            result, published, stored = jobs.run_here(asked, out, actor=local_actor())
    if as_json:
        echo_json(
            {
                "run": stored.id,
                "report": str(result.path),
                "digest": result.digest,
                "size": result.size,
                "from": result.period.start.isoformat(),
                "to": result.period.end.isoformat(),
                "summary": result.summary,
                "audit_seq": result.audit_seq,
                "files": [str(p) for p in published.files],
                "signature": str(published.signature),
                "proof": str(published.proof),
            }
        )
        return
    counts = ", ".join(f"{n} {status}" for status, n in result.summary.items() if n)
    console.print(f"report {result.path} ({result.period.start} .. {result.period.end})")
    for path in published.files[1:]:
        console.print(f"       {path}")
    console.print(f"signed {published.signature}, proof {published.proof}")
    console.print(f"digest {result.digest} (audit entry {result.audit_seq})")
    console.print(f"kept by Kinko as run {stored.id} (kinko inspect download)")
    console.print(counts)
