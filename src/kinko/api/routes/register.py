"""HTTP routes of the governance register (self-inspection, issue #16 point 3).

Reading the register, a record's versions and an attachment needs ``inspection:read``
(auditor, ciso). Changing it is a four-eyes proposal (`kinko.inspection.register_proposals`):
``POST /v1/register/proposals`` (``register:write``: security_admin, ciso; an unscoped
grant, the register spans the organisation) answers 202 with the proposal and nothing
changes until a second person approves it (``POST /v1/roles/proposals/{id}/approve`` with
their bound step-up). Uploading an attachment stores the file by its SHA-256 and changes
no record (``register:write``; audited).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Query, UploadFile
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field

from kinko.api.auth import Principal, require
from kinko.api.deps import AppServices, get_ctx
from kinko.context import Context
from kinko.identity.model import ProposalKind, UserId
from kinko.identity.views import render_proposal
from kinko.inspection.governance import Attachment, StoredRecord, check_digest
from kinko.inspection.register import parse_kind

router = APIRouter(prefix="/v1/register", tags=["inspection"])
CtxDep = Annotated[Context, Depends(get_ctx)]
Reader = Annotated[Principal, Depends(require("inspection:read"))]
Writer = Annotated[Principal, Depends(require("register:write"))]
WHAT = "the governance register"


class ProposalBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    changes: list[dict[str, Any]] = Field(min_length=1, max_length=1000)
    reason: str = Field(min_length=1, max_length=500)


def render_record(record: StoredRecord) -> dict[str, Any]:
    return {
        "kind": record.kind,
        "key": record.key,
        "version": record.version,
        "removed": record.removed,
        "record": record.document,
        "digest": record.digest,
        "proposal": record.proposal_id,
        "proposed_by": record.proposed_by,
        "approved_by": record.approved_by,
        "recorded_at": record.recorded_at.isoformat(),
        "audit_seq": record.audit_seq,
    }


def render_attachment(found: Attachment) -> dict[str, Any]:
    return {
        "sha256": found.sha256,
        "size": found.size,
        "filename": found.filename,
        "stored_at": found.stored_at.isoformat(),
        "stored_by": found.stored_by,
        "audit_seq": found.audit_seq,
    }


@router.get("/records", summary="The governance register's current records")
def list_records(
    ctx: CtxDep,
    services: AppServices,
    principal: Reader,
    kind: Annotated[str | None, Query()] = None,
) -> dict[str, Any]:
    chosen = None if kind is None else parse_kind(kind)
    with ctx.db.reading() as session:
        records = services.register.records(session, chosen)
    return {"records": [render_record(r) for r in records]}


@router.get("/records/{kind}/{key:path}", summary="Every version of one record")
def record_history(
    kind: str, key: str, ctx: CtxDep, services: AppServices, principal: Reader
) -> dict[str, Any]:
    with ctx.db.reading() as session:
        versions = services.register.history(session, parse_kind(kind), key)
    return {"kind": kind, "key": key, "versions": [render_record(v) for v in versions]}


@router.post("/proposals", status_code=202, summary="Propose changes to the register")
def propose(
    body: ProposalBody, ctx: CtxDep, services: AppServices, principal: Writer
) -> JSONResponse:
    principal.require_unscoped("register:write", WHAT)
    with ctx.db.transaction() as session:
        proposal = services.identity.roles.propose(
            session,
            actor=UserId(principal.subject),
            kind=ProposalKind.REGISTER_CHANGE,
            payload={"changes": body.changes},
            reason=body.reason,
        )
    return JSONResponse(render_proposal(proposal), status_code=202)


@router.post("/attachments", status_code=201, summary="Store a file by its SHA-256")
async def attach(
    services: AppServices,
    principal: Writer,
    file: Annotated[UploadFile, File(description="The file (a report, minutes, a photo).")],
) -> JSONResponse:
    principal.require_unscoped("register:write", WHAT)
    data = await file.read()
    found, new = await run_in_threadpool(
        services.register.attach, data, filename=file.filename or "", actor=principal.actor
    )
    return JSONResponse({**render_attachment(found), "new": new}, status_code=201)


@router.get("/attachments/{digest}", summary="An attachment's bytes, checked")
def attachment(digest: str, ctx: CtxDep, services: AppServices, principal: Reader) -> Response:
    with ctx.db.reading() as session:
        found = services.register.attachment(session, check_digest(digest))
    data = services.register.attachment_bytes(found.sha256)
    return Response(
        data,
        media_type="application/octet-stream",
        headers={
            "Content-Disposition": f'attachment; filename="{found.sha256}"',
            "X-Kinko-Filename": found.filename.encode("ascii", "replace").decode(),
            "X-Kinko-Sha256": found.sha256,
        },
    )
