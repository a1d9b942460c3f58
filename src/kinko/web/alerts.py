"""Console pages for triage: the alerts (``/console/alerts``) and an alert's page, where
whoever holds ``alerts:write`` for its asset or wallet acknowledges it, assigns it to a
person (by username), then resolves it (or calls it a false positive) with a note — the
same service and checks as the API's ``POST /v1/alerts/{id}/acknowledge``, ``/assign``
and ``/close``. Its responses show their state, and those in force link to their
two-person release page. Reading needs ``monitor:read`` in
scope, as ``GET /v1/alerts``. A form refused (a missing note, an alert already closed)
comes back as the alert's page with the reason, never as a half-done change.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import select

from kinko.api.auth import require
from kinko.api.deps import AppServices
from kinko.api.scopes import Concern, Scopes
from kinko.core.errors import InputError, KinkoError
from kinko.identity.model import Principal
from kinko.monitor.alert import AlertStatus
from kinko.monitor.triage import AlertView
from kinko.services import Services
from kinko.store.tables.identity import UserRow
from kinko.store.tables.monitor import ResponseRow
from kinko.web.console import render
from kinko.web.page_forms import answer_form, form_field, form_page

router = APIRouter(include_in_schema=False)
Reader = Annotated[Principal, Depends(require("monitor:read"))]
Writer = Annotated[Principal, Depends(require("alerts:write"))]
PAGE_SIZE = 100


def concern(view: AlertView) -> Concern:
    """An alert concerns the asset and wallet of the event that fired it."""
    return Concern(asset=view.asset, wallet=view.wallet)


@router.get("/console/alerts", response_class=HTMLResponse)
def alerts_page(
    request: Request,
    principal: Reader,
    services: AppServices,
    status: Annotated[str, Query(max_length=32)] = "open",
) -> HTMLResponse:
    statuses = [s.value for s in AlertStatus]
    if status and status not in statuses:
        raise InputError("status", f"use one of {', '.join(statuses)}, or nothing for all")
    with services.ctx.db.reading() as session:
        scopes = Scopes.within(principal, "monitor:read", session)
        found = services.triage.list_alerts(
            session,
            status=AlertStatus(status) if status else None,
            limit=PAGE_SIZE,
            visible=None if scopes.everything else lambda v: scopes.sees(concern(v)),
        )
    return render(
        request,
        "alerts.html",
        principal=principal,
        alerts=found,
        statuses=statuses,
        status=status,
        page_size=PAGE_SIZE,
    )


def _alert_page(
    request: Request,
    principal: Principal,
    services: Services,
    alert_id: str,
    *,
    error: KinkoError | None = None,
) -> HTMLResponse:
    with services.ctx.db.transaction() as session:
        view = services.triage.get(session, alert_id)
        Scopes.within(principal, "monitor:read", session).require(concern(view))
        may_write = Scopes.within(principal, "alerts:write", session).sees(concern(view))
        responses = list(
            session.execute(
                select(ResponseRow)
                .where(ResponseRow.alert_id == alert_id)
                .order_by(ResponseRow.created_at)
            ).scalars()
        )
        people = {
            a.removeprefix("user:")
            for a in (view.acknowledged_by, view.closed_by, view.assigned_to)
            if a
        }
        names = {
            f"user:{row.id}": row.username
            for row in session.execute(select(UserRow).where(UserRow.id.in_(people))).scalars()
        }
        session.expunge_all()
    return form_page(
        request,
        "alert.html",
        principal,
        error,
        names=names,
        alert=view,
        responses=responses,
        refusal=_refusal(view, principal, may_write),
    )


def _refusal(view: AlertView, principal: Principal, may_write: bool) -> str | None:
    """Why `principal` may not triage `view` now, in words (None: they may)."""
    if not principal.has("alerts:write"):
        return "triage needs the alerts:write permission, which you do not hold."
    if not may_write:
        return "your alerts:write does not cover this alert's asset or wallet."
    if view.status not in (AlertStatus.OPEN, AlertStatus.ACKNOWLEDGED):
        return f"it is closed ({view.status.value.replace('_', ' ')})."
    return None


@router.get("/console/alerts/{alert_id}", response_class=HTMLResponse)
def alert_page(
    alert_id: str, request: Request, principal: Reader, services: AppServices
) -> HTMLResponse:
    return _alert_page(request, principal, services, alert_id)


def _in_write_scope(services: Services, principal: Principal, alert_id: str) -> None:
    with services.ctx.db.reading() as session:
        view = services.triage.get(session, alert_id)
        Scopes.within(principal, "alerts:write", session).require(concern(view))


@router.post("/console/alerts/{alert_id}/triage", response_class=HTMLResponse)
async def triage_form(
    alert_id: str, request: Request, principal: Writer, services: AppServices
) -> Response:
    """Acknowledge (``step=acknowledge``), assign (``step=assign`` with ``assignee``, a
    username) or close (``step=close`` with ``resolution`` and ``note``); the CSRF token
    was checked with the session."""
    form = await request.form()
    step = form_field(form, "step")
    actor = f"user:{principal.subject}"

    def act() -> None:
        _in_write_scope(services, principal, alert_id)
        with services.ctx.db.transaction() as session:
            if step == "acknowledge":
                services.triage.acknowledge(session, alert_id, actor=actor)
            elif step == "assign":
                name = form_field(form, "assignee", 200).strip()
                found = services.identity.users.user_by_name(session, name) if name else None
                if found is None:
                    raise InputError("assignee", f"no user named {name!r}: give a username")
                services.triage.assign(session, alert_id, actor=actor, assignee=found.id)
            elif step == "close":
                services.triage.close(
                    session,
                    alert_id,
                    actor=actor,
                    resolution=form_field(form, "resolution"),
                    note=form_field(form, "note", 4000),
                )
            else:
                raise InputError("step", "must be acknowledge, assign or close")

    return answer_form(
        act,
        f"/console/alerts/{alert_id}",
        lambda exc: _alert_page(request, principal, services, alert_id, error=exc),
    )
