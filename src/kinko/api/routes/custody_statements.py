"""HTTP routes for customer liabilities statements (issue #19): custody's per-account record.

``POST /v1/custody/statements`` imports a statement (multipart: ``file``, CSV or JSON Lines,
and ``as_of``, the cut-off as ISO 8601 with its zone): ``liabilities:import``, unscoped (a
statement spans every asset); the upload is streamed to a temporary file, then read a
line at a time in one transaction (any bad row: 422 naming ``statement line N: field``,
nothing kept). ``GET /v1/custody/statements`` lists them, newest cut-off first;
``GET /v1/custody/statements/at?at=T[&account=A]`` is the statement in force at T (the
latest at or before it), with one account's balances when asked;
``GET /v1/custody/statements/{id}``. Reads need ``custody:read``; totals are limited to
the assets a scoped caller may read, and an account's balances need an unscoped grant.
Thin: parse, call `kinko.custody.statements`, render.
"""

from __future__ import annotations

import tempfile
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, Query, UploadFile
from fastapi.concurrency import run_in_threadpool

from kinko.api.auth import Principal, require
from kinko.api.deps import get_ctx
from kinko.context import Context
from kinko.core.errors import InputError
from kinko.custody import statement_rows, statements
from kinko.custody.statements import Statement
from kinko.custody.wallets import assets

router = APIRouter(prefix="/v1/custody/statements", tags=["custody"])
CtxDep = Annotated[Context, Depends(get_ctx)]
Reader = Annotated[Principal, Depends(require("custody:read"))]


def _shown(ctx: Context, principal: Principal) -> set[str]:
    with ctx.db.reading() as session:
        return {a for a in assets(session) if principal.allows("custody:read", asset=a)}


def _import(ctx: Context, path: Path, as_of: datetime, source: str, actor: str) -> dict[str, Any]:
    with ctx.db.transaction() as session:
        done = statements.import_statement(
            ctx, session, path, as_of=as_of, source=source, actor=actor
        )
    return done.to_json()


@router.post("", status_code=201, summary="Import a customer liabilities statement")
async def import_statement(
    ctx: CtxDep,
    principal: Annotated[Principal, Depends(require("liabilities:import"))],
    file: Annotated[UploadFile, File(description="CSV account,asset,base_units or JSON Lines")],
    as_of: Annotated[str, Form(description="The ledger's cut-off, ISO 8601 with zone")],
) -> dict[str, Any]:
    principal.require_unscoped("liabilities:import", "a liabilities statement")
    moment = statement_rows.parse_as_of(as_of)
    limit = int(ctx.settings.max_statement_upload_bytes)
    with tempfile.TemporaryDirectory(prefix="kinko-statement-") as directory:
        name = Path(file.filename or "upload").name or "upload"
        path = Path(directory) / "statement"
        size = 0
        with path.open("wb") as handle:
            while chunk := await file.read(1 << 20):
                size += len(chunk)
                if size > limit:
                    raise InputError("file", f"is larger than {limit} bytes; is it the right file?")
                handle.write(chunk)
        return await run_in_threadpool(_import, ctx, path, moment, name, principal.actor)


def _list(ctx: Context, principal: Principal, limit: int) -> dict[str, Any]:
    shown = _shown(ctx, principal)
    with ctx.db.reading() as session:
        found = statements.list_statements(session, limit=limit)
    return {"statements": [s.to_json(shown) for s in found]}


@router.get("", summary="Liabilities statements, newest cut-off first")
async def list_statements(
    ctx: CtxDep, principal: Reader, limit: Annotated[int, Query(ge=1, le=1000)] = 100
) -> dict[str, Any]:
    return await run_in_threadpool(_list, ctx, principal, limit)


def _one(
    ctx: Context, principal: Principal, found: Statement, account: str | None
) -> dict[str, Any]:
    body = found.to_json(_shown(ctx, principal))
    if account is not None:
        principal.require_unscoped("custody:read", "an account's liabilities")
        with ctx.db.reading() as session:
            held = statements.account_balances(session, found.id, account)
        body["account"] = {
            "id": account,
            "balances": [{"asset": a, "base_units": str(u)} for a, u in sorted(held.items())],
        }
    return body


def _at(ctx: Context, principal: Principal, at: str, account: str | None) -> dict[str, Any]:
    moment = statement_rows.parse_as_of(at, field="at")
    with ctx.db.reading() as session:
        found = statements.statement_at(session, moment)
    return _one(ctx, principal, found, account)


@router.get("/at", summary="The statement in force at a time (latest at or before it)")
async def statement_at(
    ctx: CtxDep,
    principal: Reader,
    at: Annotated[str, Query(description="ISO 8601 with zone")],
    account: Annotated[str | None, Query(min_length=1, max_length=200)] = None,
) -> dict[str, Any]:
    return await run_in_threadpool(_at, ctx, principal, at, account)


def _by_id(ctx: Context, principal: Principal, statement_id: str) -> dict[str, Any]:
    with ctx.db.reading() as session:
        found = statements.statement(session, statement_id)
    return _one(ctx, principal, found, None)


@router.get("/{statement_id}", summary="One liabilities statement")
async def get_statement(ctx: CtxDep, principal: Reader, statement_id: str) -> dict[str, Any]:
    return await run_in_threadpool(_by_id, ctx, principal, statement_id)
