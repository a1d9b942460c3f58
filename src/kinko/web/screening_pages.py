"""The console's screening page (``/console/screening``): the active list versions with
their provenance (source, publisher, published, loaded by and when, digest, counts), the
versions proposed and waiting for a second person (linking to the proposal's page), and
whether screening is stale — as ``GET /v1/screening/lists`` (``screening:read``). When
freshness cannot be told (no required list configured), screening is shown as stale with
that reason.

Below them, the review queue: the cases name hits opened (kinko.screening.cases), open
ones first, as ``GET /v1/screening/cases``. A case's page
(``/console/screening/cases/ID``) shows the subject as asked, who asked and when, every
hit with its list entry, score and explanation, and the decision; whoever may decide it
(``screening:write``, not someone who asked for the screening, the case still open) gets
the form — as ``POST /v1/screening/cases/ID/decide`` — and everyone else the reason in
words. Names come from people and lists: they are shown as text.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, Response

from kinko.api.auth import require
from kinko.api.deps import AppServices
from kinko.core.errors import KinkoError
from kinko.identity.model import Principal
from kinko.screening.cases import Case, CaseState, parse_decision, parse_state
from kinko.services import Services
from kinko.web.console import render
from kinko.web.page_forms import answer_form, form_field, form_page, usernames

router = APIRouter(include_in_schema=False)
Reader = Annotated[Principal, Depends(require("screening:read"))]
Decider = Annotated[Principal, Depends(require("screening:write"))]


@router.get("/console/screening", response_class=HTMLResponse)
def screening_page(
    request: Request,
    principal: Reader,
    services: AppServices,
    cases: Annotated[str, Query(max_length=16)] = "open",
) -> HTMLResponse:
    service = services.screening
    state = parse_state(cases)
    with services.ctx.db.reading() as session:
        versions = service.versions(session)
        proposed = service.proposed(session)
        try:
            stale = service.freshness(session)
        except KinkoError as exc:  # freshness cannot be told: stale, and why
            stale = (exc.message,)
        queue = service.cases.list(session, state=state)
        names = usernames(
            session,
            [v.loaded_by for v in (*versions, *proposed)]
            + [v.approved_by for v in versions]
            + [c.requested_by for c in queue],
        )
    return render(
        request,
        "screening.html",
        principal=principal,
        versions=versions,
        proposed=proposed,
        stale=stale,
        names=names,
        queue=queue,
        cases=cases,
    )


def refusal(case: Case, principal: Principal) -> str | None:
    """Why `principal` may not decide `case`, as a key the page words (None: they may)."""
    if not principal.has("screening:write"):
        return "permission"
    if case.state is CaseState.DECIDED:
        return "decided"
    if case.refusal(principal.subject) is not None:
        return "own"
    return None


def _case_page(
    request: Request,
    principal: Principal,
    services: Services,
    case_id: str,
    *,
    error: KinkoError | None = None,
) -> HTMLResponse:
    with services.ctx.db.reading() as session:
        case = services.screening.cases.get(session, case_id)
        names = usernames(session, [case.requested_by, case.decided_by])
    return form_page(
        request,
        "screening_case.html",
        principal,
        error,
        case=case,
        names=names,
        refusal=refusal(case, principal),
    )


@router.get("/console/screening/cases/{case_id}", response_class=HTMLResponse)
def case_page(
    case_id: str, request: Request, principal: Reader, services: AppServices
) -> HTMLResponse:
    return _case_page(request, principal, services, case_id)


@router.post("/console/screening/cases/{case_id}/decide", response_class=HTMLResponse)
async def decide_form(
    case_id: str, request: Request, principal: Decider, services: AppServices
) -> Response:
    """``decision`` (true_match / false_positive) and ``reason``; the CSRF token was
    checked with the session. Refused (no reason, decided meanwhile): the page again with
    the reason; someone who asked for the screening: 403."""
    form = await request.form()

    def act() -> None:
        decision = parse_decision(form_field(form, "decision", 32))
        with services.ctx.db.transaction() as session:
            services.screening.cases.decide(
                session,
                case_id,
                decision=decision,
                reason=form_field(form, "reason", 4001),
                actor=principal.actor,
                user_id=principal.subject,
            )

    return answer_form(
        act,
        f"/console/screening/cases/{case_id}",
        lambda exc: _case_page(request, principal, services, case_id, error=exc),
    )
