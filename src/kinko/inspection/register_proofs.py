"""The register records a run's findings cite, with their audit entries (service).

A failure decided from the governance register names the record version it read
(``register[vendor/Acme]@v2``) and its digest. The run proves each such record like a
snapshot: its ``inspection.register_change`` audit entry (which holds the digest), the
entry's leaf hash and its inclusion proof into the report's evidence checkpoint
(`kinko.inspection.runs`), so an auditor checks the cited record without Kinko's store.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from kinko.core.errors import IntegrityError
from kinko.inspection.evaluate import Finding
from kinko.inspection.governance import CHANGE_ACTION
from kinko.store.tables.inspection import RegisterRecordRow

_PATH = re.compile(r"^register\[(?P<kind>[a-z_]+)/(?P<key>.+)\]@v(?P<version>\d+)$")


@dataclass(frozen=True, slots=True)
class Cited:
    """A register record version a finding cites, and the audit entry that logged it."""

    path: str
    digest: str
    audit_seq: int


def cited_paths(findings: Sequence[Finding]) -> list[tuple[str, str]]:
    """(path, digest) of every register record the failures cite, each once, sorted."""
    return sorted(
        {
            (r.path, r.digest)
            for f in findings
            for failure in f.failures
            for r in failure.rows
            if r.path.startswith("register[")
        }
    )


def cited(session: Session, paths: Sequence[tuple[str, str]]) -> list[Cited]:
    """The audit entry of each cited record version; the stored version must hold the
    digest the finding cites (else the register changed under the run: IntegrityError)."""
    out = []
    for path, digest in paths:
        match = _PATH.match(path)
        if match is None:
            raise IntegrityError(f"{path} names no register record version")
        row = session.execute(
            select(RegisterRecordRow.digest, RegisterRecordRow.audit_seq).where(
                RegisterRecordRow.kind == match["kind"],
                RegisterRecordRow.key == match["key"],
                RegisterRecordRow.version == int(match["version"]),
            )
        ).one_or_none()
        if row is None or row.digest != digest:
            raise IntegrityError(f"{path} with digest {digest} is not in the register")
        out.append(Cited(path, digest, row.audit_seq))
    return out


def check_entry(item: Cited, entry: bytes) -> None:
    """The entry is the ``inspection.register_change`` of that version with that digest."""
    value: Any = json.loads(entry)
    details = value.get("details", {}) if isinstance(value, dict) else {}
    match = _PATH.match(item.path)
    assert match is not None
    if (
        value.get("action") != CHANGE_ACTION
        or details.get("digest") != item.digest
        or details.get("kind") != match["kind"]
        or details.get("key") != match["key"]
        or details.get("version") != int(match["version"])
    ):
        raise IntegrityError(
            f"audit entry {item.audit_seq} is not the {CHANGE_ACTION} entry of {item.path} "
            f"with digest {item.digest}: the register does not match the log"
        )
