"""The signature of a run's report files and the proof that the report is in the audit log.

Beside ``inspection-<framework>-<from>-<to>.json`` a run writes (docs/inspection.md):

- ``<stem>.sig``: a C2SP signed note (kinko.audit.note), signed with the audit log's own
  key, whose text names each file of the run with its SHA-256 and size::

      kinko.inspection.report/1
      sha256:<hex> <size> inspection-jp-2025-12-07-2026-12-06.json
      sha256:<hex> <size> inspection-jp-2025-12-07-2026-12-06.html

  (the first line cannot be a checkpoint's origin, so the note is never mistaken for one);
- ``<stem>.proof``: JSON (schema ``kinko.inspection.proof/1``): the run's
  ``inspection.run`` audit entry (its bytes, which hold the JSON report's digest), the
  entry's RFC 9162 inclusion proof and the signed checkpoint it leads to.

`verify` checks a file against both with the log's verifier key alone: standard library
and the audit package's offline verifiers, no store.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kinko.audit import merkle
from kinko.audit.checkpoint import verify_checkpoint
from kinko.audit.note import Signer, Verifier, open_note, sign_note
from kinko.core.canonical import canonical_json
from kinko.core.errors import InputError, IntegrityError

NOTE_SCHEMA = "kinko.inspection.report/1"
PROOF_SCHEMA = "kinko.inspection.proof/1"
RUN_ACTION = "inspection.run"
SUFFIXES = (".oscal.json", ".json", ".html", ".pdf")


@dataclass(frozen=True, slots=True)
class Signed:
    name: str
    digest: str
    size: int


def stem_of(name: str) -> str:
    for suffix in SUFFIXES:
        if name.endswith(suffix):
            return name[: -len(suffix)]
    raise InputError("REPORT", f"{name} is not a report file (.json, .html, .pdf, .oscal.json)")


def note_text(files: Sequence[Signed]) -> str:
    lines = [NOTE_SCHEMA] + [f"sha256:{f.digest} {f.size} {f.name}" for f in files]
    return "\n".join(lines) + "\n"


def sign(files: Sequence[Signed], signer: Signer) -> str:
    return sign_note(note_text(files), signer)


def proof_document(
    report: Signed, audit_seq: int, entry: bytes, proof: Sequence[bytes], checkpoint: str
) -> bytes:
    return canonical_json(
        {
            "schema": PROOF_SCHEMA,
            "report": report.name,
            "digest": report.digest,
            "audit_seq": audit_seq,
            "entry": entry.decode("utf-8"),
            "leaf_hash": base64.b64encode(merkle.leaf_hash(entry)).decode(),
            "proof": [base64.b64encode(h).decode() for h in proof],
            "checkpoint": checkpoint,
        }
    )


@dataclass(frozen=True, slots=True)
class Verified:
    file: str
    report: str
    digest: str
    audit_seq: int
    checkpoint_size: int
    signed: tuple[Signed, ...]
    evidence: int
    """Snapshots whose inclusion proofs were checked too (the JSON report's own)."""


def _signed_files(text: str) -> list[Signed]:
    lines = text.rstrip("\n").split("\n")
    if lines[0] != NOTE_SCHEMA:
        raise IntegrityError(f"the signed note is not a {NOTE_SCHEMA} signature")
    out = []
    for line in lines[1:]:
        parts = line.split(" ", 2)
        if len(parts) != 3 or not parts[0].startswith("sha256:") or not parts[1].isdigit():
            raise IntegrityError(f"malformed line in the signed note: {line!r}")
        out.append(Signed(parts[2], parts[0].removeprefix("sha256:"), int(parts[1])))
    return out


def _load_json(path: Path, field: str) -> Any:
    try:
        return json.loads(path.read_bytes())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError(field, f"{path} cannot be read as JSON: {exc}") from None


def _b64(value: Any) -> bytes:
    try:
        return base64.b64decode(str(value), validate=True)
    except binascii.Error:
        raise IntegrityError(f"{value!r} is not base64") from None


def _check_proof(proof: Any, report: Signed, vkey_text: str) -> tuple[int, int]:
    if not isinstance(proof, dict) or proof.get("schema") != PROOF_SCHEMA:
        raise IntegrityError(f"the proof is not a {PROOF_SCHEMA} document")
    checkpoint = verify_checkpoint(str(proof.get("checkpoint", "")), vkey_text)
    entry = str(proof.get("entry", "")).encode("utf-8")
    seq = proof.get("audit_seq")
    if not isinstance(seq, int) or not 0 <= seq < checkpoint.size:
        raise IntegrityError(
            f"audit entry {seq!r} is not in the checkpoint of size {checkpoint.size}"
        )
    path = [_b64(h) for h in proof.get("proof", [])]
    merkle.verify_inclusion(
        merkle.leaf_hash(entry), seq, checkpoint.size, path, checkpoint.root_hash
    )
    logged = json.loads(entry)
    details = logged.get("details", {}) if isinstance(logged, dict) else {}
    if logged.get("action") != RUN_ACTION or details.get("digest") != report.digest:
        raise IntegrityError(
            f"audit entry {seq} is not the {RUN_ACTION} entry of digest {report.digest}: "
            "the report's digest is not in the audit log"
        )
    if logged.get("subject") != report.name:
        raise IntegrityError(
            f"audit entry {seq} logged {logged.get('subject')!r}, not {report.name}"
        )
    return seq, checkpoint.size


def _check_evidence(document: Any, vkey_text: str) -> int:
    """The JSON report's own proofs: each snapshot's entry, and each cited register
    record's entry, into its evidence checkpoint."""
    evidence = document.get("evidence", {}) if isinstance(document, dict) else {}
    snapshots, rows = evidence.get("snapshots") or [], evidence.get("register") or []
    if not snapshots and not rows:
        return 0
    checkpoint = verify_checkpoint(str(evidence["log"]["checkpoint"]), vkey_text)
    for item, what in [*((s, f"the snapshot of {s['day']}") for s in snapshots),
                       *((r, f"the register record {r['path']}") for r in rows)]:  # fmt: skip
        entry = str(item["entry"]).encode("utf-8")
        logged = json.loads(entry)
        if logged.get("details", {}).get("digest") != item["digest"]:
            raise IntegrityError(f"{what} is not the one its entry logged")
        merkle.verify_inclusion(
            merkle.leaf_hash(entry), int(item["audit_seq"]), checkpoint.size,
            [_b64(h) for h in item["proof"]], checkpoint.root_hash,
        )  # fmt: skip
    return len(snapshots) + len(rows)


def verify(
    path: Path, vkey_text: str, *, sig: Path | None = None, proof: Path | None = None
) -> Verified:
    """Check `path` (a report file of a run) offline: raise `IntegrityError` when its bytes
    are not the ones the log's key signed, or the JSON report's digest is not proven in
    the audit log; `InputError` naming the option for a file or key that cannot be read."""
    try:
        verifier = Verifier.parse(vkey_text)
    except InputError as exc:
        raise InputError("--vkey", exc.message) from None
    if not path.is_file():
        raise InputError("REPORT", f"{path} is not a file")
    stem = stem_of(path.name)
    sig = sig or path.with_name(stem + ".sig")
    proof = proof or path.with_name(stem + ".proof")
    for option, file in (("--sig", sig), ("--proof", proof)):
        if not file.is_file():
            raise InputError(option, f"{file} is missing: it is written beside the report")
    note = open_note(sig.read_bytes(), verifier)
    signed = _signed_files(note.text)
    data = path.read_bytes()
    mine = [s for s in signed if s.name == path.name]
    if not mine:
        raise IntegrityError(f"{path.name} is not among the files the note signs")
    digest = hashlib.sha256(data).hexdigest()
    if mine[0].digest != digest or mine[0].size != len(data):
        raise IntegrityError(
            f"{path.name} does not match its signature (sha256 {digest}, signed "
            f"{mine[0].digest}): it was altered after it was signed"
        )
    reports = [s for s in signed if s.name == stem + ".json"]
    if not reports:
        raise IntegrityError("the note signs no JSON report")
    seq, size = _check_proof(_load_json(proof, "--proof"), reports[0], vkey_text)
    checked = _check_evidence(json.loads(data), vkey_text) if path.name == reports[0].name else 0
    return Verified(
        path.name, reports[0].name, reports[0].digest, seq, size, tuple(signed), checked
    )
