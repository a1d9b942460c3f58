"""HTTP routes for audit.

Checkpoints and proofs reveal only hashes, so they are public (witnesses and auditors
fetch them without an account); entries need ``audit:read``.
"""

from __future__ import annotations

import base64
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import PlainTextResponse

from kinko.api.auth import Principal, public, require
from kinko.api.deps import get_ctx
from kinko.context import Context
from kinko.core.errors import InputError, NotFound

router = APIRouter(prefix="/v1/audit", tags=["audit"])
CtxDep = Annotated[Context, Depends(get_ctx)]


def _b64(value: bytes) -> str:
    return base64.b64encode(value).decode()


def _latest_size(ctx: Context) -> tuple[int, str]:
    with ctx.db.transaction() as session:
        note = ctx.audit.latest_checkpoint(session)
        latest = ctx.audit.latest_checkpoint_value(session)
    if note is None or latest is None:
        raise NotFound("the log has no checkpoint yet; try again after the next interval")
    return latest.size, note


@router.get(
    "/checkpoint",
    dependencies=[public()],
    response_class=PlainTextResponse,
    summary="Latest signed checkpoint (C2SP tlog-checkpoint)",
)
async def get_checkpoint(ctx: CtxDep) -> PlainTextResponse:
    _, note = await run_in_threadpool(_latest_size, ctx)
    return PlainTextResponse(note, media_type="text/plain; charset=utf-8")


def _inclusion(ctx: Context, index: int, size: int | None) -> dict[str, Any]:
    note = None
    if size is None:
        size, note = _latest_size(ctx)
    if index >= size:
        raise InputError("index", f"{index} is not below the tree size {size}")
    with ctx.db.transaction() as session:
        proof = ctx.audit.inclusion_proof(session, index, size)
        leaf = ctx.audit.lookup(session, {(0, index)})[(0, index)]
    return {
        "index": index,
        "size": size,
        "leaf_hash": _b64(leaf),
        "proof": [_b64(p) for p in proof],
        "checkpoint": note,
    }


@router.get("/proof/{index}", dependencies=[public()], summary="Inclusion proof")
async def get_inclusion_proof(
    ctx: CtxDep,
    index: int,
    size: Annotated[int | None, Query(ge=1, description="Tree size; default latest")] = None,
) -> dict[str, Any]:
    if index < 0:
        raise InputError("index", "must be a non-negative entry sequence number")
    return await run_in_threadpool(_inclusion, ctx, index, size)


def _consistency(ctx: Context, first: int, second: int) -> dict[str, Any]:
    with ctx.db.transaction() as session:
        proof = ctx.audit.consistency_proof(session, first, second)
    return {"first": first, "second": second, "proof": [_b64(p) for p in proof]}


@router.get("/consistency", dependencies=[public()], summary="Consistency proof")
async def get_consistency_proof(
    ctx: CtxDep,
    first: Annotated[int, Query(ge=0)],
    second: Annotated[int, Query(ge=0)],
) -> dict[str, Any]:
    return await run_in_threadpool(_consistency, ctx, first, second)


def _entry(ctx: Context, seq: int) -> dict[str, Any]:
    with ctx.db.transaction() as session:
        record = ctx.audit.entry(session, seq)
    return {
        "sequence": record.seq,
        "entry": record.entry.decode(),
        "leaf_hash": _b64(record.leaf_hash),
    }


@router.get("/entries/{seq}", summary="One audit entry")
async def get_entry(
    ctx: CtxDep, seq: int, principal: Annotated[Principal, Depends(require("audit:read"))]
) -> dict[str, Any]:
    """An entry whole, as it was hashed (evidence is never cut to a caller's scope): it
    may name any asset or wallet, so it needs an unscoped ``audit:read``."""
    principal.require_unscoped("audit:read", "the audit log")
    return await run_in_threadpool(_entry, ctx, seq)
