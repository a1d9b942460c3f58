"""``kinko inspect runs`` and ``kinko inspect download``: the inspection runs the server
keeps, through the API as the signed-in person (``inspection:read``; downloads need it for
every asset and wallet).

`download RUN --format F --out DIR` writes the run's report in format F under the name it
was signed with, and beside it the signed note (``.sig``) and the log proof (``.proof``),
so that ``kinko inspect verify DIR/FILE --vkey KEY`` checks it offline. Each file's bytes
are checked against the SHA-256 the server states for them.

Exit status: 0; 2 for a bad option (naming it) or an unknown run; 1 for a refusal, a
file that does not match its digest, or an unreachable server.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path
from typing import Annotated, Any

import typer

from kinko.cli.common import console, echo_json
from kinko.cli.output import JsonOption, guarded_json, print_table
from kinko.core.errors import InputError, IntegrityError

FORMATS = ("json", "html", "pdf", "oscal")


def runs(
    limit: Annotated[int, typer.Option("--limit", help="The last N runs.")] = 50,
    as_json: JsonOption = False,
) -> None:
    """The runs the server keeps (newest first): state, period and files."""
    from kinko.cli import api

    with guarded_json(as_json):
        if limit < 1:
            raise InputError("--limit", "must be at least 1")
        with api.connect() as kinko:
            kept: list[dict[str, Any]] = kinko.get("/v1/inspection/runs", params={"limit": limit})[
                "runs"
            ]
    if as_json:
        echo_json({"runs": kept})
        return
    print_table(
        ("run", "state", "framework", "period", "by", "files"),
        [
            (
                r["id"],
                r["state"] if r["state"] != "failed" else f"failed: {r['error']}",
                r["framework"],
                f"{r['from']} .. {r['to']}",
                r["requested_by"],
                ", ".join(f["kind"] for f in r["files"]),
            )
            for r in kept
        ],
        whole=("run",),
        title=f"{len(kept)} kept inspection runs",
    )


def _write(directory: Path, name: str, data: bytes) -> Path:
    handle, temp = tempfile.mkstemp(prefix=f".{name}.", suffix=".tmp", dir=directory)
    with os.fdopen(handle, "wb") as f:
        f.write(data)
    final = directory / name
    os.replace(temp, final)
    return final


def download(
    run: Annotated[str, typer.Argument(help="The run's id (kinko inspect runs, the console).")],
    report_format: Annotated[
        str, typer.Option("--format", help="json, html, pdf or oscal.")
    ] = "json",
    out: Annotated[
        Path | None, typer.Option("--out", help="Directory the files are written to.")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Download a kept run's report, with its signature and log proof beside it."""
    from kinko.cli import api

    with guarded_json(as_json):
        if report_format not in FORMATS:
            raise InputError("--format", f"{report_format!r} is not one of: {', '.join(FORMATS)}")
        if out is None:
            raise InputError("--out", "name the directory the files are written to")
        if out.exists() and not out.is_dir():
            raise InputError("--out", f"{out} is not a directory")
        fetched: list[tuple[str, bytes, str]] = []
        with api.connect() as kinko:
            for kind in (report_format, "sig", "proof"):
                response = kinko.send("GET", f"/v1/inspection/runs/{run}/files/{kind}")
                name = _filename(response.headers.get("content-disposition", ""), kind)
                data, stated = response.content, response.headers.get("x-kinko-sha256", "")
                if hashlib.sha256(data).hexdigest() != stated:
                    raise IntegrityError(f"{name} does not match the SHA-256 the server stated")
                fetched.append((name, data, stated))
        out.mkdir(parents=True, exist_ok=True)
        written = [(_write(out, name, data), sha) for name, data, sha in fetched]
    if as_json:
        echo_json(
            {
                "run": run,
                "files": [
                    {"path": str(p), "sha256": sha, "size": p.stat().st_size} for p, sha in written
                ],
            }
        )
        return
    for path, sha in written:
        console.print(f"{path}  sha256 {sha}", highlight=False)
    console.print(f"check it: kinko inspect verify {written[0][0]} --vkey audit-log.vkey")


def _filename(disposition: str, kind: str) -> str:
    """The signed name from ``attachment; filename="..."``: a plain file name only."""
    _, _, rest = disposition.partition('filename="')
    name = rest.split('"', 1)[0]
    if not name or "/" in name or "\\" in name or name.startswith("."):
        raise IntegrityError(f"the server named the {kind} file {name!r}: not a plain file name")
    return name
