"""HTTP ingestion of vendor logs: ``POST /v1/events/sources/{source}`` (issue #15, point 4).

The body is the vendor's own format, as `kinko monitor ingest --source` reads it (JSON
Lines, one JSON document — CloudTrail's ``{"Records": [...]}``, Azure Monitor's
``{"records": [...]}``, an array — or auditd's log lines), mapped by
`kinko.monitor.sources` and then handled as ``POST /v1/events`` handles Kinko's own
schema: all or nothing (one record that does not map refuses the batch, ``422
invalid_event`` naming the record and field), stamped with the poster, audited, evaluated.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool

from kinko.api.auth import Principal, require
from kinko.api.deps import get_ctx
from kinko.api.routes.monitor import ingested, stamped
from kinko.context import Context
from kinko.core.errors import InputError
from kinko.monitor.events import MAX_BATCH
from kinko.monitor.sources import parse_source, source_named

router = APIRouter(prefix="/v1", tags=["monitor"])
CtxDep = Annotated[Context, Depends(get_ctx)]


@router.post("/events/sources/{source}")
async def post_source_records(
    source: str,
    request: Request,
    ctx: CtxDep,
    principal: Annotated[Principal, Depends(require("monitor:ingest"))],
) -> dict[str, Any]:
    """A batch of one vendor's records (at most 10,000), all or nothing."""
    mapping = source_named(source)
    try:
        text = (await request.body()).decode("utf-8")
    except UnicodeDecodeError:
        raise InputError("body", "is not UTF-8 text", code="invalid_event") from None
    events = stamped(parse_source(mapping, text, limit=MAX_BATCH), principal)
    if not events:
        raise InputError("body", f"holds no {mapping.title} records", code="invalid_event")

    def ingest() -> dict[str, Any]:
        subject = f"{source}:{principal.token_id or 'session'}"
        answer = ingested(request, ctx, events, principal, subject=subject)
        return answer | {"source": mapping.name}

    return await run_in_threadpool(ingest)
