"""The HTTP application: the JSON API (kinko.api) and the console pages (kinko.web), mounted
on one FastAPI app. It sits above both, so that the API never imports the console."""

from __future__ import annotations

import asyncio
import gc
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool

from kinko import __version__
from kinko.api.refusals import refusal_event
from kinko.api.routes import audit, custody, identity, policy, screening, withdrawals
from kinko.api.routes import monitor as monitor_routes
from kinko.api.routes import monitor_sources as source_routes
from kinko.api.routes import register as register_routes
from kinko.context import Context
from kinko.core.errors import KinkoError
from kinko.monitor.service import MonitorPort
from kinko.services import Services, build_services
from kinko.web import apidocs, console


def create_app(
    ctx: Context,
    *,
    background: bool = False,
    monitor: MonitorPort | None = None,
    services: Services | None = None,
) -> FastAPI:
    """Build the app.

    Its services come from the composition root (`kinko.services.build_services`), built
    here for `ctx` unless `services` are given (the demo's, on its in-process chain), and
    kept on ``app.state.services`` (routes: `kinko.api.deps.AppServices`).

    - ``background=True`` (``kinko serve``): the monitor runs here (in process, or through
      the Redis stream with ``redis_url``: `kinko.serving.monitoring`), and the periodic
      jobs run under their lease (`kinko.api.background`).
    - ``monitor``: that monitor, already attached to `ctx.bus` by the caller.
    - neither (tests, the demo): nothing runs in the background; a monitor is made on first
      use of its routes.
    """
    long_lived = background or monitor is not None
    stop_monitor: Callable[[], None] | None = None

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        tasks = []
        if long_lived:
            # A server: everything built so far (settings, services, rule packs, list
            # indexes, the demo chain) lives as long as the process, so move it out of
            # the collector's sight: a full collection then scans only what requests
            # allocate (178 ms -> ~0 ms measured for the demo exchange; such pauses
            # were the p99 of withdrawal requests).
            gc.collect()
            gc.freeze()
        if background:
            from kinko.api.background import start_background
            from kinko.api.routes.withdrawal_deps import stack_of

            tasks = start_background(
                ctx,
                executor=lambda: stack_of(app).executor,
                check_freshness=app.state.services.screening.check_freshness,
                take_snapshot=app.state.services.snapshots.take_daily,
            )
        yield
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)  # the jobs' lease is released
        if stop_monitor is not None:
            await run_in_threadpool(stop_monitor)

    from fastapi import Depends

    from kinko.api.auth import gate

    # Authorisation runs first for every route (see kinko.api.auth.gate).
    # FastAPI's OpenTelemetry hooks are off: Kinko logs with structlog and audits in its
    # own log, and the per-request check for a configured provider costs ~2 % of a request.
    app = FastAPI(
        title="Kinko",
        version=__version__,
        lifespan=lifespan,
        dependencies=[Depends(gate)],
        telemetry={"tracing": False, "metrics": False, "logs": False},
        # Served by kinko.web.apidocs from the package's own files (no CDN: works offline).
        docs_url=None,
        redoc_url=None,
    )
    app.state.ctx = ctx
    app.state.services = services or build_services(ctx)
    from kinko.api.limits import install as install_limits

    # Outermost: client address (trusted_proxies) and body limits before anything reads.
    install_limits(app, ctx.settings)
    if monitor is not None:
        app.state.monitor = monitor
    elif background:
        # Subscribe the monitor to the event bus before the first request, so that no
        # security event published by a service is missed.
        from kinko.monitor.running import start_monitoring

        app.state.monitor, stop_monitor = start_monitoring(ctx, app.state.services.monitor_hands)

    @app.exception_handler(KinkoError)
    async def _kinko_error(request: Request, exc: KinkoError) -> Response:
        # An authenticated caller refused a step: told to the monitor, the one place for
        # every route (the CLI acts through them too); the refused work rolled back.
        refused = refusal_event(request, exc)
        if refused is not None:
            await run_in_threadpool(ctx.bus.publish, refused)
        if console.for_browser(request):
            # A person at a browser: a sign-in page or an HTML error, never raw JSON.
            return console.browser_error(request, exc)
        # Some errors carry headers (429 rate_limited: Retry-After).
        return JSONResponse(
            {**exc.to_dict(), **console.localised(request, exc)},
            status_code=exc.http_status,
            headers=getattr(exc, "headers", None),
        )

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        first = exc.errors()[0] if exc.errors() else {"loc": ("body",), "msg": "invalid"}
        field = ".".join(str(p) for p in first["loc"] if p not in ("body", "query", "path"))
        return JSONResponse(
            {
                "error": "invalid_input",
                "field": field or "body",
                "message": f"{field}: {first['msg']}",
            },
            status_code=422,
        )

    from kinko.api.auth import public

    @app.get("/healthz", dependencies=[public()])
    def healthz() -> dict[str, str]:
        return {"status": "ok", "version": __version__}

    # Starlette matches routes in order: the busiest (withdrawal requests) come first.
    for module in (withdrawals, audit, identity, custody, screening, policy, monitor_routes):
        app.include_router(module.router)
    app.include_router(register_routes.router)  # the governance register (#16)
    from kinko.api.routes import custody_statements

    app.include_router(custody_statements.router)  # liabilities statements (#19)
    from kinko.api.routes import inspection as inspection_routes

    app.include_router(inspection_routes.router)  # self-inspection runs kept (#17)
    app.include_router(source_routes.router)  # vendor logs in (#15)
    from kinko.api.routes import device
    from kinko.web import approvals as approval_pages
    from kinko.web import device as device_pages
    from kinko.web import enrol, token_confirm
    from kinko.web import withdrawals as withdrawal_pages

    app.include_router(device.router)  # `kinko login`: RFC 8628 device flow
    app.include_router(console.router)
    app.include_router(enrol.router)
    app.include_router(device_pages.router)
    app.include_router(token_confirm.router)  # `kinko token create`, confirmed in the browser
    app.include_router(withdrawal_pages.router)  # the approval pages
    app.include_router(approval_pages.router)  # four-eyes votes with a security key
    from kinko.web import alerts as alert_pages
    from kinko.web import audit_pages

    app.include_router(alert_pages.router)  # triage
    app.include_router(audit_pages.router)  # the audit log's entries and proofs
    from kinko.web import (
        addressbook_pages,
        freezes_pages,
        inspection_pages,
        proposals_pages,
        screening_pages,
        wallets_pages,
    )

    for pages in (freezes_pages, addressbook_pages, proposals_pages, wallets_pages):
        app.include_router(pages.router)  # the console's pages of #17, one module each
    for pages in (screening_pages, inspection_pages):
        app.include_router(pages.router)
    app.include_router(apidocs.router)
    return app
