"""Console pages for the audit log: browse the entries (``/console/audit``, newest first,
by action, a page at a time) and one entry (``/console/audit/SEQ``): the entry as it was
hashed, its leaf hash, and its inclusion proof in the last signed checkpoint — checked here
(RFC 9162) before it is shown as proven. The log's verifier key is at
``/console/audit/verifier-key`` (public, like the checkpoint). Entries need ``audit:read``
for every asset and wallet, as ``GET /v1/audit/entries/{seq}`` (an entry may name any).
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, PlainTextResponse
from sqlalchemy import select

from kinko.api.auth import public, require
from kinko.api.deps import AppServices
from kinko.audit import merkle
from kinko.core.errors import IntegrityError, KinkoError
from kinko.identity.model import Principal
from kinko.store.tables.audit import AuditCheckpointRow, AuditEntryRow
from kinko.web.console import SECURITY_HEADERS, render

router = APIRouter(include_in_schema=False)
Reader = Annotated[Principal, Depends(require("audit:read"))]
PAGE_SIZE = 50


def _unscoped(principal: Principal) -> None:
    principal.require_unscoped("audit:read", "the audit log")


@router.get("/console/audit", response_class=HTMLResponse)
def entries_page(
    request: Request,
    principal: Reader,
    services: AppServices,
    action: Annotated[str, Query(max_length=100)] = "",
    before: Annotated[int | None, Query(ge=1)] = None,
) -> HTMLResponse:
    """The newest `PAGE_SIZE` entries (of `action`, below sequence `before`)."""
    _unscoped(principal)
    query = select(AuditEntryRow).order_by(AuditEntryRow.seq.desc()).limit(PAGE_SIZE)
    if action:
        query = query.where(AuditEntryRow.action == action)
    if before is not None:
        query = query.where(AuditEntryRow.seq < before)
    ctx = services.ctx
    with ctx.db.reading() as session:
        rows = list(session.execute(query).scalars())
        size = ctx.audit.size(session)
        session.expunge_all()
    return render(
        request,
        "audit.html",
        principal=principal,
        rows=rows,
        size=size,
        action=action,
        older=rows[-1].seq if len(rows) == PAGE_SIZE else None,
    )


@dataclass(frozen=True, slots=True)
class Proven:
    """An entry's inclusion in a signed checkpoint, checked."""

    size: int
    root: str
    proof: list[str]
    error: str | None = None


def _b64(value: bytes) -> str:
    return base64.b64encode(value).decode()


def inclusion(services: Any, seq: int, leaf: bytes) -> Proven | None:
    """The entry's inclusion proof in the last checkpoint, verified (None: the entry is
    newer than every signed checkpoint; `error`: the proof does not hold)."""
    ctx = services.ctx
    with ctx.db.reading() as session:
        latest = session.execute(
            select(AuditCheckpointRow).order_by(AuditCheckpointRow.size.desc()).limit(1)
        ).scalar_one_or_none()
        if latest is None or seq >= latest.size:
            return None
        size, root = latest.size, latest.root_hash
        proof = ctx.audit.inclusion_proof(session, seq, size)
    shown = Proven(size, _b64(root), [_b64(p) for p in proof])
    try:
        merkle.verify_inclusion(leaf, seq, size, proof, root)
    except IntegrityError as exc:
        return Proven(shown.size, shown.root, shown.proof, exc.message)
    return shown


@router.get("/console/audit/verifier-key", dependencies=[public()])
def verifier_key(services: AppServices) -> PlainTextResponse:
    """The log's verifier key (a C2SP signed-note key), for `kinko audit verify --vkey`."""
    key = services.ctx.audit.signer().verifier().text()
    return PlainTextResponse(
        key + "\n",
        headers={
            **SECURITY_HEADERS,
            "Content-Disposition": 'attachment; filename="audit-log.vkey"',
        },
    )


@router.get("/console/audit/{seq}", response_class=HTMLResponse)
def entry_page(
    seq: int, request: Request, principal: Reader, services: AppServices
) -> HTMLResponse:
    _unscoped(principal)
    ctx = services.ctx
    with ctx.db.reading() as session:
        record = ctx.audit.entry(session, seq)
    hashed = merkle.leaf_hash(record.entry)
    try:
        entry = json.dumps(json.loads(record.entry), indent=2, ensure_ascii=False)
    except ValueError:
        entry = record.entry.decode("utf-8", "replace")
    proven: Proven | None = None
    problem: str | None = None
    if hashed != record.leaf_hash:
        problem = "this entry does not hash to its stored leaf hash: it was altered"
    else:
        try:
            proven = inclusion(services, seq, record.leaf_hash)
        except KinkoError as exc:
            problem = exc.message
    return render(
        request,
        "audit_entry.html",
        principal=principal,
        seq=seq,
        time=record.time,
        entry=entry,
        leaf=_b64(record.leaf_hash),
        proven=proven,
        problem=problem,
    )
