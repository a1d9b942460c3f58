"""The console's self-inspection page (``/console/inspection``): the past runs, newest
first, from the audit log's ``inspection.run`` entries (each checked against its leaf
hash; an altered one makes the page say so and show nothing else), with each run's
counts per status and their change since the previous run of the same framework
(``inspection:read``, as the register's routes); the runs the server kept
(`kinko.inspection.stored_runs`), with a download link per file, and those still running
or failed, with the reason.

Whoever holds ``inspection:run`` for every asset and wallet (the CISO) runs one from the
page, as ``POST /v1/inspection/runs``: the server answers at once and performs the run
after (`kinko.inspection.run_jobs`); the page shows it running until it is done. Anyone
else — the auditor's and a regulator's read-only view — sees no form, and why. Downloads
(``/console/inspection/runs/RUN/KIND``) need ``inspection:read`` for every asset and
wallet, as ``GET /v1/inspection/runs/{id}/files/{kind}``. The trend — a stacked bar per
run of its controls per status, and the table — is ``kinko inspect history --html``'s
page, as a download (``/console/inspection/trend``).
"""

from __future__ import annotations

from datetime import UTC, timedelta
from typing import Annotated

from fastapi import APIRouter, BackgroundTasks, Depends, Request
from fastapi.responses import HTMLResponse, Response

from kinko.api.auth import require
from kinko.api.deps import AppServices
from kinko.api.routes.inspection import checked_kind, download, jobs_of, start_run
from kinko.core.errors import KinkoError
from kinko.identity.model import Principal
from kinko.inspection import history_report
from kinko.inspection.run_history import STATUSES, RunEntry, as_json, history
from kinko.inspection.run_jobs import FRAMEWORKS, REPORT_FORMATS
from kinko.inspection.stored_runs import DONE, StoredRun
from kinko.services import Services
from kinko.web.console import SECURITY_HEADERS
from kinko.web.page_forms import answer_form, form_field, form_page, usernames

router = APIRouter(include_in_schema=False)
Reader = Annotated[Principal, Depends(require("inspection:read"))]
Runner = Annotated[Principal, Depends(require("inspection:run"))]
PAGE = "/console/inspection"
SHOWN = 200
UNFINISHED_SHOWN = 20


def run_refusal(principal: Principal) -> str | None:
    """Why `principal` may not run an inspection (a word the template says in full), or
    None when they may."""
    if not principal.has("inspection:run"):
        return "permission"
    if not principal.unscoped("inspection:run"):
        return "scope"
    return None


def _page(
    request: Request, principal: Principal, services: Services, *, error: KinkoError | None = None
) -> HTMLResponse:
    runs: list[RunEntry] = []
    failure: str | None = None
    try:
        runs = list(reversed(history(services.ctx, limit=SHOWN)))
    except KinkoError as exc:  # an altered entry: the reason, and no partial history
        failure = exc.message
    kept = jobs_of(services).records.runs(SHOWN) if failure is None else []
    unfinished = [r for r in kept if r.state != DONE][:UNFINISHED_SHOWN]
    with services.ctx.db.reading() as session:
        names = usernames(session, [r.actor for r in runs] + [r.requested_by for r in unfinished])
    today = services.ctx.clock.now().astimezone(UTC).date()
    return form_page(
        request,
        "inspection.html",
        principal,
        error,
        runs=runs,
        failure=failure,
        kept={r.audit_seq: r for r in kept if r.audit_seq is not None},
        unfinished=unfinished,
        statuses=STATUSES,
        names=names,
        shown=SHOWN,
        run_refusal=run_refusal(principal),
        may_download=principal.unscoped("inspection:read"),
        frameworks=FRAMEWORKS,
        formats=REPORT_FORMATS,
        default_from=(today - timedelta(days=364)).isoformat(),
        default_to=today.isoformat(),
    )


@router.get(PAGE, response_class=HTMLResponse)
def inspection_page(request: Request, principal: Reader, services: AppServices) -> HTMLResponse:
    return _page(request, principal, services)


@router.post(PAGE + "/runs", response_class=HTMLResponse)
async def run_form(
    request: Request, principal: Runner, services: AppServices, background: BackgroundTasks
) -> Response:
    """Run an inspection: ``framework``, ``from``, ``to``, ``formats`` (repeated). The
    page again with the reason when refused (a bad field, the same run in progress)."""
    form = await request.form()
    formats = [v for v in form.getlist("formats") if isinstance(v, str)]
    values = (form_field(form, "framework", 20), form_field(form, "from", 20),
              form_field(form, "to", 20), formats)  # fmt: skip

    def act() -> StoredRun:
        return start_run(services, principal, background, values)

    return answer_form(act, PAGE, lambda exc: _page(request, principal, services, error=exc))


@router.get(PAGE + "/runs/{run_id}/{kind}")
def run_file(run_id: str, kind: str, principal: Reader, services: AppServices) -> Response:
    """A kept run's file (json, html, pdf, oscal, sig, proof), as a download."""
    principal.require_unscoped("inspection:read", "a self-inspection report")
    found, data = jobs_of(services).records.file(run_id, checked_kind(kind))
    return download(found, data, SECURITY_HEADERS)


@router.get(PAGE + "/trend")
def trend(principal: Reader, services: AppServices) -> Response:
    """The runs over time as one page (``kinko inspect history --html``), a download."""
    page = history_report.render([as_json(r) for r in history(services.ctx, limit=SHOWN)])
    return Response(
        page.encode("utf-8"),
        media_type="text/html; charset=utf-8",
        headers={
            **SECURITY_HEADERS,
            "Content-Disposition": 'attachment; filename="inspection-trend.html"',
        },
    )
