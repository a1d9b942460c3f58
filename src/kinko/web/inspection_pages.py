"""The console's self-inspection page (``/console/inspection``): the past runs, newest
first, from the audit log's ``inspection.run`` entries (each checked against its leaf
hash; an altered one makes the page say so and show nothing else), with each run's
counts per status and their change since the previous run of the same framework
(``inspection:read``, as the register's routes).

Reports are written where ``kinko inspect run --out`` was told and are not kept by the
server (only their digest, in the audit log): the page shows each digest to check a copy
against, and no download. Running an inspection is ``kinko inspect run``: there is no
service method for a run from the page (nor a permission to ask it with).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse

from kinko.api.auth import require
from kinko.api.deps import AppServices
from kinko.core.errors import KinkoError
from kinko.identity.model import Principal
from kinko.inspection.run_history import STATUSES, RunEntry, history
from kinko.web.console import render
from kinko.web.page_forms import usernames

router = APIRouter(include_in_schema=False)
Reader = Annotated[Principal, Depends(require("inspection:read"))]
SHOWN = 200


@router.get("/console/inspection", response_class=HTMLResponse)
def inspection_page(request: Request, principal: Reader, services: AppServices) -> HTMLResponse:
    runs: list[RunEntry] = []
    error: str | None = None
    try:
        runs = list(reversed(history(services.ctx, limit=SHOWN)))
    except KinkoError as exc:  # an altered entry: the reason, and no partial history
        error = exc.message
    with services.ctx.db.reading() as session:
        names = usernames(session, [r.actor for r in runs])
    return render(
        request,
        "inspection.html",
        principal=principal,
        runs=runs,
        statuses=STATUSES,
        names=names,
        error=error,
        shown=SHOWN,
    )
