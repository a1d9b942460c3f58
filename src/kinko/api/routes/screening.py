"""HTTP routes for screening: lists (read, upload), address/name screening, and the
review cases name hits open (list, read, decide).

A screening answer is 200 whatever the verdict (``status`` is clear, hit or stale); an
invalid address is 422 with ``field``. A name HIT opens its review case as the caller
(``case`` in the answer); deciding one needs ``screening:write`` and someone other than
whoever asked (403 ``screening_own_case``); a decided case answers 409
``screening_case_decided``.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, Query, Response, UploadFile
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, ConfigDict, Field

from kinko.api.auth import Principal, require
from kinko.api.deps import AppServices, get_ctx
from kinko.context import Context
from kinko.core.errors import InputError
from kinko.identity.model import UserId
from kinko.screening.alerts import Alert
from kinko.screening.cases import Asker, parse_decision, parse_state
from kinko.services import Services

UNSAFE_SHRINK_GONE = (
    "is gone: one person may no longer shrink a list; a file that drops more entries than "
    "allowed is proposed (202) and a second security_admin approves it"
)
router = APIRouter(prefix="/v1/screening", tags=["screening"])
CtxDep = Annotated[Context, Depends(get_ctx)]
MAX_UPLOAD_BYTES = 512 * 1024 * 1024


class AddressRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    chain: str = Field(min_length=1, max_length=32)
    address: str = Field(min_length=1, max_length=200)


class NameRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=500)
    dob: str | None = Field(default=None, max_length=10)
    nationality: str | None = Field(default=None, max_length=100)


def _lists(services: Services) -> dict[str, Any]:
    service = services.screening
    with services.ctx.db.transaction() as session:
        versions = service.versions(session)
        proposed = service.proposed(session)
        reasons = service.freshness(session)
    return {
        "versions": [v.to_dict() for v in versions],
        "proposed": [
            {"proposal": v.proposal_id, "list": v.list_name, "version": v.to_dict()}
            for v in proposed
        ],
        "stale": list(reasons),
    }


@router.get("/lists", summary="Active list versions with provenance and freshness")
async def get_lists(
    services: AppServices, principal: Annotated[Principal, Depends(require("screening:read"))]
) -> dict[str, Any]:
    return await run_in_threadpool(_lists, services)


def _load(services: Services, path: Path, principal: Principal, name: str | None) -> dict[str, Any]:
    result = services.screening.load_file(
        path, actor=principal.actor, list_name=name, proposer=UserId(principal.subject)
    )
    return {
        "loaded": [v.to_dict() for v in result.versions],
        "unchanged": list(result.unchanged),
        "proposed": [p.to_dict() for p in result.proposed],
        "alerts": [alert_json(a) for a in result.alerts],
    }


def alert_json(a: Alert) -> dict[str, Any]:
    """A new hit, as `kinko lists load|rescreen --json` prints it."""
    return {
        "id": a.id,
        "target_kind": a.target_kind,
        "target_ref": a.target_ref,
        "list": a.list_name,
        "entity_ref": a.entity_ref,
        "entity_name": a.entity_name,
        "detail": dict(a.detail),
    }


def _rescreen(services: Services, principal: Principal) -> dict[str, Any]:
    # The person behind a token asks too: none of them may decide a case it opens.
    found = services.screening.rescreen_all(actor=principal.actor, asker=asker(principal))
    return {"alerts": [alert_json(a) for a in found]}


@router.post("/rescreen", summary="Screen registered targets again now")
async def rescreen(
    services: AppServices, principal: Annotated[Principal, Depends(require("screening:write"))]
) -> dict[str, Any]:
    """Pending withdrawals, the address book and people, against the active lists: it
    spans every asset and wallet (and answers with their hits), so a scoped grant may not."""
    principal.require_unscoped("screening:write", "a re-screen of every target")
    return await run_in_threadpool(_rescreen, services, principal)


@router.post(
    "/lists",
    summary="Upload a list file (format detected from its content)",
    responses={202: {"description": "Proposed: a second security admin must approve"}},
)
async def upload_list(
    *,
    response: Response,
    services: AppServices,
    principal: Annotated[Principal, Depends(require("screening:write"))],
    file: Annotated[UploadFile, File(description="The list file as published.")],
    list_name: Annotated[str | None, Form(alias="list")] = None,
    unsafe_allow_shrink: Annotated[bool, Form()] = False,
) -> dict[str, Any]:
    """Load the file, or (when it changes a list's format or publisher, or shrinks it
    beyond the guard) propose it: 202, and a second security admin approves the proposal
    with ``POST /v1/roles/proposals/{id}/approve``."""
    if unsafe_allow_shrink:
        raise InputError("unsafe_allow_shrink", UNSAFE_SHRINK_GONE)
    with tempfile.TemporaryDirectory(prefix="kinko-list-") as directory:
        name = Path(file.filename or "upload").name
        path = Path(directory) / (name if name not in {"", ".", ".."} else "upload")
        size = 0
        with path.open("wb") as handle:
            while chunk := await file.read(1 << 20):
                size += len(chunk)
                if size > MAX_UPLOAD_BYTES:
                    raise InputError("file", "is larger than 512 MiB; is it the right file?")
                handle.write(chunk)
        body = await run_in_threadpool(_load, services, path, principal, list_name)
    if body["proposed"] and not body["loaded"]:
        response.status_code = 202
    return body


def _address(services: Services, body: AddressRequest) -> dict[str, Any]:
    with services.ctx.db.transaction() as session:
        verdict = services.screening.screen_address(session, chain=body.chain, address=body.address)
    return verdict.to_dict()


@router.post("/address", summary="Screen one address")
async def screen_address(
    body: AddressRequest,
    services: AppServices,
    principal: Annotated[Principal, Depends(require("screening:read"))],
) -> dict[str, Any]:
    return await run_in_threadpool(_address, services, body)


def asker(principal: Principal) -> Asker:
    """Who asks for a screening: the caller, and the person behind a session or token."""
    return Asker(principal.actor, principal.subject)


def _name(services: Services, body: NameRequest, principal: Principal) -> dict[str, Any]:
    with services.ctx.db.transaction() as session:
        verdict = services.screening.screen_name(
            session,
            body.name,
            dob=body.dob,
            nationality=body.nationality,
            asker=asker(principal),
        )
    return verdict.to_dict()


@router.post("/name", summary="Screen a person's or organisation's name")
async def screen_name(
    body: NameRequest,
    services: AppServices,
    principal: Annotated[Principal, Depends(require("screening:read"))],
) -> dict[str, Any]:
    return await run_in_threadpool(_name, services, body, principal)


class DecideRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    decision: str = Field(min_length=1, max_length=32, description="true_match or false_positive")
    reason: str = Field(min_length=1, max_length=4000)


def _cases(services: Services, state: str | None) -> dict[str, Any]:
    chosen = parse_state(state)
    with services.ctx.db.reading() as session:
        found = services.screening.cases.list(session, state=chosen)
    return {"cases": [c.to_dict() for c in found]}


@router.get("/cases", summary="Review cases for name hits, newest first (200 at most)")
async def list_cases(
    services: AppServices,
    principal: Annotated[Principal, Depends(require("screening:read"))],
    state: Annotated[str | None, Query(max_length=16, description="open or decided")] = None,
) -> dict[str, Any]:
    return await run_in_threadpool(_cases, services, state)


def _case(services: Services, case_id: str) -> dict[str, Any]:
    with services.ctx.db.reading() as session:
        return services.screening.cases.get(session, case_id).to_dict()


@router.get("/cases/{case_id}", summary="One review case")
async def get_case(
    case_id: str,
    services: AppServices,
    principal: Annotated[Principal, Depends(require("screening:read"))],
) -> dict[str, Any]:
    return await run_in_threadpool(_case, services, case_id)


def _decide(
    services: Services, case_id: str, body: DecideRequest, principal: Principal
) -> dict[str, Any]:
    decision = parse_decision(body.decision)
    with services.ctx.db.transaction() as session:
        case = services.screening.cases.decide(
            session,
            case_id,
            decision=decision,
            reason=body.reason,
            actor=principal.actor,
            user_id=principal.subject,
        )
    return case.to_dict()


@router.post("/cases/{case_id}/decide", summary="Decide a review case (final)")
async def decide_case(
    case_id: str,
    body: DecideRequest,
    services: AppServices,
    principal: Annotated[Principal, Depends(require("screening:write"))],
) -> dict[str, Any]:
    """``true_match`` or ``false_positive`` with a reason, by someone who did not ask for
    the screening; once."""
    return await run_in_threadpool(_decide, services, case_id, body, principal)
