"""The console's home page: the dashboard (`kinko.web.dashboard_data` reads each panel).

Each panel is there only for a person holding the permission the API asks for the same
data; a panel whose data cannot be read says so and shows nothing else.
"""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from starlette.concurrency import run_in_threadpool

from kinko.identity.model import Principal
from kinko.services import Services
from kinko.web import dashboard_data as data
from kinko.web.console import render
from kinko.web.dashboard_data import Panel, panel


def _panels(services: Services, principal: Principal) -> list[Panel]:
    """The panels `principal` may see, in the page's order (blocking reads)."""
    out: list[Panel] = []
    if principal.has("custody:read"):
        out.append(panel("cold_share", lambda: data.cold_share(services, principal)))
    if principal.has("users:read"):
        out.append(panel("proposals", lambda: data.proposals_for_me(services, principal)))
    if principal.has("monitor:read"):
        out.append(panel("alerts", lambda: data.alerts(services, principal)))
    if principal.has("custody:read"):
        out.append(panel("freezes", lambda: data.freezes(services, principal)))
    out.append(panel("audit", lambda: data.audit_log(services)))  # public in the API
    if principal.has("screening:read"):
        out.append(panel("screening", lambda: data.screening(services)))
    if principal.has("inspection:read"):
        out.append(panel("inspection", lambda: data.last_inspection(services)))
    return out


async def dashboard(request: Request, principal: Principal, services: Services) -> HTMLResponse:
    panels: list[Panel] = []
    if principal.has("withdrawals:read"):
        from kinko.web.withdrawals import awaiting_me

        panels.append(await awaiting_me(request, principal))
    panels += await run_in_threadpool(_panels, services, principal)
    by_key: dict[str, Any] = {p.key: p for p in panels}
    return render(
        request, "home.html", principal=principal, panels=by_key, order=[p.key for p in panels]
    )
