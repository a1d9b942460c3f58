"""HTTP routes for the monitor: event batches in, alerts and their triage, releases.

The running monitor lives on ``app.state.monitor``: this process's `MonitorService`
(``kinko serve``, `kinko.monitor.running.start_monitoring`), or, past one process, the
Redis stream the one evaluating process reads (`kinko.monitor.streams.StreamMonitor`).
Without one (an app built for a test or the demo) a `MonitorService` is created on first
use here with the default rule pack and subscribed to the bus then.
"""

from __future__ import annotations

import threading
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from kinko.api.auth import Principal, require
from kinko.api.deps import AppServices, get_ctx, second_vote
from kinko.api.scopes import Concern, Scopes
from kinko.context import Context
from kinko.core.clock import isoformat
from kinko.core.errors import InputError
from kinko.identity.names import person
from kinko.identity.views import StepUpBody
from kinko.monitor.alert import AlertStatus
from kinko.monitor.events import MAX_BATCH, MonitorEvent, parse_batch
from kinko.monitor.service import MonitorPort, audit_ingested
from kinko.monitor.triage import AlertView, TriageService
from kinko.services import Services

router = APIRouter(prefix="/v1", tags=["monitor"])
CtxDep = Annotated[Context, Depends(get_ctx)]
_install_lock = threading.Lock()


class EventBatch(BaseModel):
    model_config = ConfigDict(extra="forbid")
    events: list[dict[str, Any]] = Field(min_length=1, max_length=MAX_BATCH)


class CloseBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    resolution: str = Field(pattern="^(resolved|false_positive)$")
    note: str = Field(min_length=1, max_length=4000)


class AssignBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    assignee: str = Field(
        min_length=1, max_length=200, description="the username of who works on it"
    )


class ReasonBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: str = Field(min_length=1, max_length=1000)


class ReleaseVote(ReasonBody):
    """A vote to release a response: why, and your fresh assertion bound to this vote
    (``POST /v1/auth/step-up/begin``, purpose ``approve``, kind ``response_release``)."""

    step_up: StepUpBody | None = None


def monitor_service(request: Request, ctx: Context) -> MonitorPort:
    service: MonitorPort | None = getattr(request.app.state, "monitor", None)
    if service is None:
        with _install_lock:
            service = getattr(request.app.state, "monitor", None)
            if service is None:
                services: Services = request.app.state.services
                service = services.start_monitor()
                request.app.state.monitor = service
    return service


def _person(principal: Principal) -> str:
    return f"user:{principal.subject}"


def _alert_json(view: AlertView) -> dict[str, Any]:
    def when(value: Any) -> str | None:
        return isoformat(value) if value is not None else None

    return {
        "id": view.id,
        "rule": view.rule_id,
        "title": view.title,
        "level": view.level,
        "status": view.status.value,
        "event_time": isoformat(view.event_time),
        "created_at": isoformat(view.created_at),
        "reason": view.reason,
        "group": view.group,
        "acknowledged_by": view.acknowledged_by,
        "acknowledged_at": when(view.acknowledged_at),
        "closed_by": view.closed_by,
        "closed_at": when(view.closed_at),
        "note": view.note,
        "time_to_triage_s": view.time_to_triage_s,
        "asset": view.asset,
        "wallet": view.wallet,
        "assigned_to": view.assigned_to,
        "assigned_at": when(view.assigned_at),
    }


def _concern(view: AlertView) -> Concern:
    """An alert concerns the asset and wallet of the event that fired it; one about a
    person or a sign-in concerns none (whoever holds the permission sees it)."""
    return Concern(asset=view.asset, wallet=view.wallet)


def _alert_in_scope(
    session: Session, triage: TriageService, alert_id: str, principal: Principal, permission: str
) -> AlertView:
    """The alert, if `principal` holds `permission` for its asset or wallet (403 naming
    them otherwise): scopes hold on every route, reads included."""
    view = triage.get(session, alert_id)
    Scopes.within(principal, permission, session).require(_concern(view))
    return view


@router.post("/events")
def post_events(
    body: EventBatch,
    request: Request,
    ctx: CtxDep,
    principal: Annotated[Principal, Depends(require("monitor:ingest"))],
) -> dict[str, Any]:
    """A batch of events, all or nothing: one bad event refuses the batch, naming its index.

    Each event carries who posted it (`ingested_by`, `ingest_token`: whatever the body said
    under those names is overwritten), and the batch is audited under the poster's name
    before it is evaluated: a forged event points at its forger."""
    events = stamped(parse_batch(body.events), principal)
    return ingested(request, ctx, events, principal, subject=principal.token_id or "session")


def stamped(events: list[MonitorEvent], principal: Principal) -> list[MonitorEvent]:
    """Each event names who posted it (whatever the body said under those names)."""
    stamp = {"ingested_by": _person(principal), "ingest_token": principal.token_id or ""}
    return [e.model_copy(update={"fields": {**e.fields, **stamp}}) for e in events]


def ingested(
    request: Request,
    ctx: Context,
    events: list[MonitorEvent],
    principal: Principal,
    *,
    subject: str,
) -> dict[str, Any]:
    """Audit a posted batch under its poster's name, then evaluate it: the answer names
    each alert raised and the response taken (both event routes answer so)."""
    audit_ingested(ctx, events, by=_person(principal), subject=subject)
    recorded = monitor_service(request, ctx).ingest(events)
    return {
        "accepted": len(events),
        "alerts": [
            {
                "alert": r.alert_id,
                "rule": r.rule_id,
                "response": r.action,
                "status": r.status,
                "target": r.target,
            }
            for r in recorded
        ],
    }


@router.get("/alerts")
def list_alerts(
    ctx: CtxDep,
    services: AppServices,
    principal: Annotated[Principal, Depends(require("monitor:read"))],
    status: AlertStatus | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[dict[str, Any]]:
    with ctx.db.transaction() as session:
        scopes = Scopes.within(principal, "monitor:read", session)
        views = services.triage.list_alerts(
            session,
            status=status,
            limit=limit,
            visible=None if scopes.everything else lambda v: scopes.sees(_concern(v)),
        )
    return [_alert_json(v) for v in views]


@router.get("/alerts/{alert_id}")
def get_alert(
    alert_id: str,
    ctx: CtxDep,
    services: AppServices,
    principal: Annotated[Principal, Depends(require("monitor:read"))],
) -> dict[str, Any]:
    with ctx.db.transaction() as session:
        triage = services.triage
        return _alert_json(_alert_in_scope(session, triage, alert_id, principal, "monitor:read"))


@router.post("/alerts/{alert_id}/acknowledge")
def acknowledge_alert(
    alert_id: str,
    ctx: CtxDep,
    services: AppServices,
    principal: Annotated[Principal, Depends(require("alerts:write"))],
) -> dict[str, Any]:
    with ctx.db.transaction() as session:
        triage = services.triage
        _alert_in_scope(session, triage, alert_id, principal, "alerts:write")
        view = triage.acknowledge(session, alert_id, actor=_person(principal))
    return _alert_json(view) | {"by_username": principal.username}


@router.post("/alerts/{alert_id}/assign")
def assign_alert(
    alert_id: str,
    body: AssignBody,
    ctx: CtxDep,
    services: AppServices,
    principal: Annotated[Principal, Depends(require("alerts:write"))],
) -> dict[str, Any]:
    """Give an open or acknowledged alert to a person who triages alerts (by username)."""
    with ctx.db.transaction() as session:
        triage = services.triage
        _alert_in_scope(session, triage, alert_id, principal, "alerts:write")
        found = services.identity.users.user_by_name(session, body.assignee)
        if found is None:
            raise InputError("assignee", f"no user named {body.assignee!r}; see 'kinko user list'")
        view = triage.assign(session, alert_id, actor=_person(principal), assignee=found.id)
    return _alert_json(view) | {"by_username": principal.username, "assignee": body.assignee}


@router.post("/alerts/{alert_id}/close")
def close_alert(
    alert_id: str,
    body: CloseBody,
    ctx: CtxDep,
    services: AppServices,
    principal: Annotated[Principal, Depends(require("alerts:write"))],
) -> dict[str, Any]:
    with ctx.db.transaction() as session:
        triage = services.triage
        _alert_in_scope(session, triage, alert_id, principal, "alerts:write")
        view = triage.close(
            session,
            alert_id,
            actor=_person(principal),
            resolution=body.resolution,
            note=body.note,
        )
    return _alert_json(view) | {"by_username": principal.username}


def response_in_scope(
    session: Session, triage: TriageService, response_id: str, principal: Principal
) -> None:
    """A response is released by those holding ``responses:release`` for its alert's asset
    or wallet and, for a freeze, for what it froze (as lifting that freeze by hand)."""
    from kinko.monitor.response_spec import ResponseAction
    from kinko.store.tables.monitor import ResponseRow

    response = session.get(ResponseRow, response_id)
    if response is None:
        return  # the triage service answers 404
    scopes = Scopes.within(principal, "responses:release", session)
    scopes.require(_concern(triage.get(session, response.alert_id)))
    if response.action == ResponseAction.FREEZE.value and response.scope is not None:
        scopes.require_freeze(response.scope, response.target)


@router.post("/responses/{response_id}/release")
def release_response(
    response_id: str,
    body: ReleaseVote,
    ctx: CtxDep,
    services: AppServices,
    principal: Annotated[Principal, Depends(require("responses:release", person=True))],
) -> dict[str, Any]:
    with ctx.db.transaction() as session:
        triage = services.triage
        response_in_scope(session, triage, response_id, principal)
        outcome = triage.vote_release(
            session,
            response_id,
            actor=_person(principal),
            reason=body.reason,
            vote=second_vote(services, body.step_up),
        )
        voters = [person(session, vote) for vote in outcome.votes]
    return {
        "response": outcome.response_id,
        "votes": list(outcome.votes),
        "voter_usernames": voters,
        "released": outcome.released,
        "message": outcome.describe(),
    }


@router.get("/monitor/rules")
def list_rules(
    request: Request, ctx: CtxDep, principal: Annotated[Principal, Depends(require("monitor:read"))]
) -> list[dict[str, Any]]:
    rules = monitor_service(request, ctx).describe_rules()
    return [
        {
            "id": i.id,
            "title": i.title,
            "kind": i.kind,
            "watches": i.types,
            "response": i.response,
            "alerts": i.emits,
        }
        for i in rules
    ]
