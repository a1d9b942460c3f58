"""HTTP routes of self-inspection runs kept by the server (issue #17; docs/inspection.md,
"Runs kept by the server").

``POST /v1/inspection/runs`` (``inspection:run``: the CISO; an unscoped grant, a run spans
every asset and wallet) asks for a run of a framework over a period: 202 with the run,
``running``; the server performs it after answering (`kinko.inspection.run_jobs`) and
keeps its files. The same framework and period already running: ``409 run_in_progress``.
Reading runs needs ``inspection:read`` (auditor, ciso); a run's files — the report in each
format asked for, its signed note and log proof — need it unscoped (a report names
wallets and balances), each served with its media type and signed file name.
"""

from __future__ import annotations

from datetime import UTC
from typing import Annotated, Any

from fastapi import APIRouter, BackgroundTasks, Depends, Query
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field

from kinko.api.auth import Principal, require
from kinko.api.deps import AppServices
from kinko.core.errors import InputError
from kinko.inspection.run_jobs import InspectionJobs, ask
from kinko.inspection.stored_runs import KINDS, StoredFile, StoredRun, as_json
from kinko.services import Services

router = APIRouter(prefix="/v1/inspection", tags=["inspection"])
Reader = Annotated[Principal, Depends(require("inspection:read"))]
Runner = Annotated[Principal, Depends(require("inspection:run"))]
WHAT = "a self-inspection run"


class RunBody(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    framework: str = Field(description="jp, kr, ccss or all")
    start: str | None = Field(None, alias="from", description="first day, YYYY-MM-DD (UTC)")
    end: str | None = Field(None, alias="to", description="last day, YYYY-MM-DD (UTC)")
    formats: list[str] = Field(["json"], max_length=8, description="json, html, pdf, oscal")


def jobs_of(services: Services) -> InspectionJobs:
    return InspectionJobs(services.ctx, conflict_matrix=services.identity.conflict_matrix)


def start_run(
    services: Services,
    principal: Principal,
    background: BackgroundTasks,
    values: tuple[object, object, object, object],
) -> StoredRun:
    """Check what was asked (framework, from, to, formats), claim the run for
    `principal` and have `background` perform it once the answer is sent."""
    principal.require_unscoped("inspection:run", WHAT)
    today = services.ctx.clock.now().astimezone(UTC).date()
    asked = ask(*values, today=today)
    jobs = jobs_of(services)
    run = jobs.start(asked, actor=principal.actor)
    background.add_task(jobs.execute, run.id)
    return run


def download(found: StoredFile, data: bytes, headers: dict[str, str] | None = None) -> Response:
    """A run's file as a download under the name it was signed with."""
    return Response(
        data,
        media_type=found.media_type,
        headers={
            **(headers or {}),
            "Content-Disposition": f'attachment; filename="{found.name}"',
            "X-Kinko-Sha256": found.digest,
        },
    )


def checked_kind(kind: str) -> str:
    if kind not in KINDS:
        raise InputError("kind", f"{kind!r} is not one of: {', '.join(KINDS)}")
    return kind


@router.post("/runs", status_code=202, summary="Run a self-inspection in the server")
def run(
    body: RunBody, services: AppServices, principal: Runner, background: BackgroundTasks
) -> JSONResponse:
    started = start_run(
        services, principal, background, (body.framework, body.start, body.end, body.formats)
    )
    return JSONResponse(as_json(started), status_code=202)


@router.get("/runs", summary="The runs kept by the server, newest first")
def runs(
    services: AppServices,
    principal: Reader,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> dict[str, Any]:
    return {"runs": [as_json(r) for r in jobs_of(services).records.runs(limit)]}


@router.get("/runs/{run_id}", summary="One run: its state, summary and files")
def one_run(run_id: str, services: AppServices, principal: Reader) -> dict[str, Any]:
    return as_json(jobs_of(services).records.get(run_id))


@router.get("/runs/{run_id}/files/{kind}", summary="A run's file: json, html, pdf, oscal, ...")
def run_file(run_id: str, kind: str, services: AppServices, principal: Reader) -> Response:
    principal.require_unscoped("inspection:read", WHAT + "'s report")
    found, data = jobs_of(services).records.file(run_id, checked_kind(kind))
    return download(found, data)
