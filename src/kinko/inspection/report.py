"""The JSON report of an inspection run (schema ``kinko.inspection.report/1``), pure.

The report is the RFC 8785 canonical JSON of `build(...)`: the same findings, evidence and
proofs give the same bytes (no run time is written: only the period and the evidence).
Its layout is documented in docs/inspection.md.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from kinko.core.canonical import canonical_json
from kinko.inspection import self_inspection
from kinko.inspection.catalogue import Catalogue, Control, Framework
from kinko.inspection.evaluate import Evidence, Finding, Period, Status

SCHEMA = "kinko.inspection.report/1"


@dataclass(frozen=True, slots=True)
class Proven:
    """A snapshot a finding used, with its audit entry and the entry's inclusion proof."""

    day: date
    digest: str
    origin: str
    audit_seq: int
    entry: bytes
    leaf_hash: bytes
    proof: tuple[bytes, ...]


@dataclass(frozen=True, slots=True)
class ProvenRow:
    """A register record version a finding cites, with its audit entry's inclusion proof."""

    path: str
    digest: str
    audit_seq: int
    entry: bytes
    leaf_hash: bytes
    proof: tuple[bytes, ...]


@dataclass(frozen=True, slots=True)
class Log:
    """The signed checkpoint every proof leads to."""

    origin: str
    size: int
    root_hash: bytes
    checkpoint: str


def _b64(value: bytes) -> str:
    return base64.b64encode(value).decode()


def _logged(item: Proven | ProvenRow) -> dict[str, Any]:
    """An item's audit entry and its inclusion proof (canonical JSON sorts the keys)."""
    return {
        "audit_seq": item.audit_seq,
        "entry": item.entry.decode("utf-8"),
        "leaf_hash": _b64(item.leaf_hash),
        "proof": [_b64(h) for h in item.proof],
    }


def _finding(finding: Finding, framework: Framework | None) -> dict[str, Any]:
    c: Control = finding.control
    refs = c.references if framework is None else c.references_for(framework)
    out: dict[str, Any] = {
        "control": c.id,
        "title": c.title,
        "decision": c.decision.value,
        "status": finding.status.value,
        "rule": c.rule,
        "parameters": [
            {
                "name": p.name,
                "value": str(p.value),
                "unit": p.unit,
                "organisation_defined": p.organisation_defined,
            }
            for p in c.parameters
        ],
        "references": [
            {"framework": r.framework.value, "citation": r.citation, "levels": list(r.levels)}
            for r in refs
        ],
        "reason": finding.reason,
        "failures": [
            {
                "from": f.start.isoformat(),
                "to": f.end.isoformat(),
                "check": f.check,
                "value": f.value,
                "limit": f.limit,
                "detail": f.detail,
                "rows": [{"path": r.path, "digest": r.digest} for r in f.rows],
            }
            for f in finding.failures
        ],
        "missing": [
            {"from": m.start.isoformat(), "to": m.end.isoformat(), "what": m.what}
            for m in finding.missing
        ],
        "evidence": [d.isoformat() for d in finding.evidence],
    }
    if finding.series:
        out["series"] = [{"day": p.day.isoformat(), "value": p.value} for p in finding.series]
    if finding.measures:
        out["measures"] = [
            {"name": m.name, "value": m.value, "minimum": m.minimum} for m in finding.measures
        ]
    return out


def build(  # noqa: PLR0917 (a report is all of these)
    catalogue: Catalogue,
    framework: Framework | None,
    period: Period,
    findings: Sequence[Finding],
    evidence: Evidence,
    proven: Sequence[Proven],
    log: Log | None,
    proven_rows: Sequence[ProvenRow] = (),
) -> dict[str, Any]:
    summary = {s.value: 0 for s in Status}
    for f in findings:
        summary[f.status.value] += 1
    used = sorted({d for f in findings for d in f.evidence})
    assets = sorted(evidence.decimals.items())
    written = [_finding(f, framework) for f in findings]
    out: dict[str, Any] = {
        "schema": SCHEMA,
        "catalogue": catalogue.version,
        "framework": "all" if framework is None else framework.value,
        "period": {"from": period.start.isoformat(), "to": period.end.isoformat()},
        "summary": summary,
        "findings": written,
        "evidence": {
            "days": len(used),
            "log": None
            if log is None
            else {
                "origin": log.origin,
                "size": log.size,
                "root_hash": _b64(log.root_hash),
                "checkpoint": log.checkpoint,
            },
            "snapshots": [
                {"day": p.day.isoformat(), "digest": p.digest, "origin": p.origin, **_logged(p)}
                for p in sorted(proven, key=lambda p: p.day)
            ],
            "register": [
                {"path": r.path, "digest": r.digest, **_logged(r)}
                for r in sorted(proven_rows, key=lambda r: r.path)
            ],
            "assets": [{"asset": a, "decimals": d} for a, d in assets],
            "conflict_matrix": evidence.conflicts.to_list(),
        },
    }
    if framework in (None, Framework.JP):  # the report covers Japan: the FSA's items
        out["self_inspection"] = {
            "request": self_inspection.REQUEST,
            "items": self_inspection.answer(self_inspection.packaged_items(catalogue), written),
        }
    return out


def encode(report: dict[str, Any]) -> bytes:
    return canonical_json(report)


def digest_of(encoded: bytes) -> str:
    return hashlib.sha256(encoded).hexdigest()
