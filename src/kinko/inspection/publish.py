"""After a run (service): render the JSON report's other formats, sign every file with the
audit log's key, and prove the run's ``inspection.run`` entry into a signed checkpoint.

The JSON report is written and logged by `kinko.inspection.runs`; its renderings (HTML,
PDF, OSCAL) are pure functions of its bytes, made here outside the run's transaction so
that laying out a PDF never holds the audit head. The signed note (``<stem>.sig``) names
every file with its digest; the proof (``<stem>.proof``) carries the ``inspection.run``
entry, which holds the JSON report's digest, with its inclusion proof into a checkpoint
signed after it (`kinko.inspection.signing`). Each file is written to a temporary name and
moved into place only once all are made.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from kinko.audit.checkpoint import parse_body
from kinko.audit.note import parse_note
from kinko.context import Context
from kinko.core.errors import IntegrityError
from kinko.inspection import signing
from kinko.inspection.runs import RunResult, _write_temp

FORMATS = ("json", "html", "pdf", "oscal")


@dataclass(frozen=True, slots=True)
class Published:
    files: tuple[Path, ...]
    signature: Path
    proof: Path
    checkpoint_size: int


def _render(encoded: bytes, name: str, formats: set[str]) -> dict[str, bytes]:
    from kinko.inspection import html_report, oscal_report, pdf_report

    stem = signing.stem_of(name)
    out: dict[str, bytes] = {}
    if formats & {"html", "pdf"}:
        html = html_report.render(encoded)
        if "html" in formats:
            out[stem + ".html"] = html.encode("utf-8")
        if "pdf" in formats:
            out[stem + ".pdf"] = pdf_report.render(html)
    if "oscal" in formats:
        data = oscal_report.encode(oscal_report.build(encoded, name))
        oscal_report.validate(data)
        out[stem + ".oscal.json"] = data
    return out


def publish(ctx: Context, result: RunResult, formats: Iterable[str]) -> Published:
    """Write the run's other `formats` beside its JSON report, then the signature and proof."""
    wanted = set(formats)
    encoded = result.path.read_bytes()
    if hashlib.sha256(encoded).hexdigest() != result.digest:
        raise IntegrityError(f"{result.path} changed after the run wrote it")
    directory, name = result.path.parent, result.path.name
    stem = signing.stem_of(name)
    made = {name: encoded, **_render(encoded, name, wanted)}
    signed = [signing.Signed(n, hashlib.sha256(d).hexdigest(), len(d)) for n, d in made.items()]
    with ctx.db.transaction() as session:
        note = ctx.audit.checkpoint(session)
        size = parse_body(parse_note(note).text).size
        record = ctx.audit.entry(session, result.audit_seq)
        path = ctx.audit.inclusion_proof(session, result.audit_seq, size)
    sig = signing.sign(signed, ctx.audit.signer()).encode("utf-8")
    proof = signing.proof_document(signed[0], result.audit_seq, record.entry, path, note)
    temps: dict[Path, Path] = {}
    try:
        for file, data in [
            *((n, d) for n, d in made.items() if n != name),
            (stem + ".sig", sig),
            (stem + ".proof", proof),
        ]:
            temps[directory / file] = _write_temp(directory, file, data)
        for final, temp in temps.items():
            os.replace(temp, final)
        temps.clear()
    finally:
        for temp in temps.values():
            temp.unlink(missing_ok=True)
    return Published(
        tuple(directory / n for n in made),
        directory / (stem + ".sig"),
        directory / (stem + ".proof"),
        size,
    )
