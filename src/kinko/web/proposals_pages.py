"""The console's proposals page (``/console/proposals``): identity's pending four-eyes
proposals — roles, custody registrations, lists, policy, the register, lifting freezes,
the address book — with who proposed what, as ``GET /v1/roles/proposals?state=pending``
(``users:read``; one about a freeze or an address-book entry only within the scope of
what it touches, `proposal_in_sight`). Each links to its vote page
(``/console/approvals/proposal/PRP``, a response's release to its own), which tells a
person who may not vote why.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse

from kinko.api.auth import require
from kinko.api.deps import AppServices
from kinko.api.routes.votes import proposal_in_sight
from kinko.identity.model import Principal, ProposalState
from kinko.web.console import render
from kinko.web.dashboard_data import vote_page
from kinko.web.page_forms import usernames

router = APIRouter(include_in_schema=False)
Reader = Annotated[Principal, Depends(require("users:read"))]


def what(payload: dict[str, Any]) -> str:
    """A proposal's payload in one line (its own keys, sorted; values as JSON)."""
    return ", ".join(
        f"{key}: {json.dumps(value, sort_keys=True, default=str)}"
        for key, value in sorted(payload.items())
    )


@router.get("/console/proposals", response_class=HTMLResponse)
def proposals_page(request: Request, principal: Reader, services: AppServices) -> HTMLResponse:
    with services.ctx.db.reading() as session:
        found = services.identity.roles.list_proposals(session, ProposalState.PENDING)
        shown = [p for p in found if proposal_in_sight(principal, session, p)]
        names = usernames(session, [p.proposer_id for p in shown])
    return render(
        request,
        "proposals.html",
        principal=principal,
        proposals=[(p, what(p.payload), vote_page(p)) for p in shown],
        names=names,
    )
