"""The console's freezes page (``/console/freezes``): the active freezes within the reader's
scope and the pending proposals to lift them, as ``GET /v1/freezes`` (``custody:read``,
within scope); a form to freeze at once (``freeze:set`` for the scope and target, as
``POST /v1/freezes``) and, on each freeze, one to propose lifting it (``freeze:release``
for that freeze, as ``POST /v1/freezes/{id}/unfreeze``; the form only for whoever identity
lets propose it — a security admin —, else the reason). The second person's vote on a
lifting is identity's proposal page (``/console/approvals/proposal/PRP``), which tells
whoever may not vote why. A form refused (no reason, an unknown target) comes back as the
page with the reason; nothing changed.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response

from kinko.api.auth import require
from kinko.api.deps import AppServices
from kinko.api.scopes import Scopes
from kinko.core.errors import InputError, KinkoError
from kinko.identity.model import Principal, ProposalKind
from kinko.policy.freeze import user_actor
from kinko.policy.model import FreezeScope
from kinko.services import Services
from kinko.store.tables.policy import FreezeRow
from kinko.web import dashboard_data
from kinko.web.page_forms import answer_form, form_field, form_page, may_propose, usernames

router = APIRouter(include_in_schema=False)
Reader = Annotated[Principal, Depends(require("custody:read"))]
Freezer = Annotated[Principal, Depends(require("freeze:set"))]
Releaser = Annotated[Principal, Depends(require("freeze:release"))]
PAGE = "/console/freezes"


def _page(
    request: Request,
    principal: Principal,
    services: Services,
    *,
    error: KinkoError | None = None,
) -> HTMLResponse:
    found = dashboard_data.freezes(services, principal)  # as GET /v1/freezes
    with services.ctx.db.reading() as session:
        lifting = (
            may_propose(services, session, principal, ProposalKind.RELEASE_FREEZE)
            if principal.has("freeze:release")
            else None
        )
        release = Scopes.within(principal, "freeze:release", session)
        releasable = (
            {f.id for f in found.freezes if release.sees_freeze(f.scope, f.target)}
            if principal.has("freeze:release") and lifting is None
            else set()
        )
        names = usernames(
            session, [f.actor for f in found.freezes] + [p.proposer for p in found.unfreezes]
        )
    proposed = {p.freeze_id for p in found.unfreezes}
    return form_page(
        request,
        "freezes.html",
        principal,
        error,
        freezes=found.freezes,
        unfreezes=found.unfreezes,
        names=names,
        releasable=releasable - proposed,
        lifting_refused=lifting,
        may_freeze=principal.has("freeze:set"),
        scopes=[s.value for s in FreezeScope],
    )


@router.get(PAGE, response_class=HTMLResponse)
def freezes_page(request: Request, principal: Reader, services: AppServices) -> HTMLResponse:
    return _page(request, principal, services)


@router.post(PAGE, response_class=HTMLResponse)
async def freeze_form(request: Request, principal: Freezer, services: AppServices) -> Response:
    """Freeze at once: ``scope``, ``target`` (none for all), ``reason``."""
    form = await request.form()

    def act() -> None:
        try:
            scope = FreezeScope(form_field(form, "scope"))
        except ValueError:
            raise InputError("scope", "must be wallet, asset, chain or all") from None
        target = form_field(form, "target", 200).strip() or None
        with services.ctx.db.transaction() as session:
            Scopes.within(principal, "freeze:set", session).require_freeze(scope, target)
            services.freezes.freeze(
                session,
                scope=scope,
                target=target,
                reason=form_field(form, "reason"),
                actor=user_actor(principal.subject),
                require_known_target=True,
            )

    return answer_form(act, PAGE, lambda exc: _page(request, principal, services, error=exc))


@router.post(PAGE + "/{freeze_id}/unfreeze", response_class=HTMLResponse)
async def unfreeze_form(
    freeze_id: str, request: Request, principal: Releaser, services: AppServices
) -> Response:
    """Propose lifting `freeze_id` (``reason``); a second person approves it on the
    proposal's page."""
    form = await request.form()

    def act() -> None:
        with services.ctx.db.transaction() as session:
            frozen = session.get(FreezeRow, freeze_id)
            if frozen is not None:  # else the service answers 404
                scopes = Scopes.within(principal, "freeze:release", session)
                scopes.require_freeze(frozen.scope, frozen.target)
            services.freezes.propose_unfreeze(
                session,
                freeze_id=freeze_id,
                user_id=principal.subject,
                reason=form_field(form, "reason"),
            )

    return answer_form(act, PAGE, lambda exc: _page(request, principal, services, error=exc))
