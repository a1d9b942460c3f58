"""The console's screening page (``/console/screening``): the active list versions with
their provenance (source, publisher, published, loaded by and when, digest, counts), the
versions proposed and waiting for a second person (linking to the proposal's page), and
whether screening is stale — as ``GET /v1/screening/lists`` (``screening:read``). When
freshness cannot be told (no required list configured), screening is shown as stale with
that reason.

Name hits have no review queue in the screening service yet (nothing keeps a decision on
a hit): the page says so rather than invent one.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse

from kinko.api.auth import require
from kinko.api.deps import AppServices
from kinko.core.errors import KinkoError
from kinko.identity.model import Principal
from kinko.web.console import render
from kinko.web.page_forms import usernames

router = APIRouter(include_in_schema=False)
Reader = Annotated[Principal, Depends(require("screening:read"))]


@router.get("/console/screening", response_class=HTMLResponse)
def screening_page(request: Request, principal: Reader, services: AppServices) -> HTMLResponse:
    service = services.screening
    with services.ctx.db.reading() as session:
        versions = service.versions(session)
        proposed = service.proposed(session)
        try:
            stale = service.freshness(session)
        except KinkoError as exc:  # freshness cannot be told: stale, and why
            stale = (exc.message,)
        names = usernames(
            session,
            [v.loaded_by for v in (*versions, *proposed)] + [v.approved_by for v in versions],
        )
    return render(
        request,
        "screening.html",
        principal=principal,
        versions=versions,
        proposed=proposed,
        stale=stale,
        names=names,
    )
