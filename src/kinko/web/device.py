"""The device-login approval page: ``/console/device?code=ABCD-EFGH``.

`kinko login` shows a code and this address. The signed-in person sees what asks (the
code, the client, the address it asked from and when) and approves with a fresh WebAuthn
assertion over a challenge bound to that request (``static/device.js``: the API's
``/v1/auth/device/challenge`` and ``/approve``), or denies it with the form here.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response

from kinko.api.auth import authenticated, public
from kinko.api.deps import get_ctx
from kinko.context import Context
from kinko.core.clock import isoformat
from kinko.core.errors import InputError, KinkoError, PermissionDenied
from kinko.identity.device import DeviceLoginService, DeviceRequest
from kinko.identity.model import Principal
from kinko.web.console import render
from kinko.web.enrol import static_script

router = APIRouter(include_in_schema=False)
Ctx = Annotated[Context, Depends(get_ctx)]
Person = Annotated[Principal, Depends(authenticated(person=True))]


def _page(
    request: Request,
    ctx: Context,
    principal: Principal,
    *,
    found: DeviceRequest | None = None,
    code: str = "",
    error: KinkoError | None = None,
    outcome: str = "",
) -> HTMLResponse:
    return render(
        request,
        "device.html",
        principal=principal,
        found=found,
        code=code,
        error=error,
        outcome=outcome,
        requested_at=isoformat(found.created_at) if found else "",
        expires_at=isoformat(found.expires_at) if found else "",
        hours=round(ctx.settings.cli_session_ttl_s / 3600, 1),
        browser_ip=request.client.host if request.client is not None else None,
        origin=ctx.settings.webauthn_origin,
        rp_id=ctx.settings.webauthn_rp_id,
        status_code=error.http_status if error else 200,
    )


@router.get("/console/device", response_class=HTMLResponse)
def device_page(request: Request, principal: Person, ctx: Ctx, code: str = "") -> HTMLResponse:
    if not code.strip():
        return _page(request, ctx, principal)
    try:
        with ctx.db.transaction() as session:
            found = DeviceLoginService(ctx).request(session, code)
    except KinkoError as exc:
        return _page(request, ctx, principal, code=code[:32], error=exc)
    return _page(request, ctx, principal, found=found, code=found.user_code)


@router.post("/console/device/deny", response_class=HTMLResponse)
async def deny(request: Request, principal: Person, ctx: Ctx) -> HTMLResponse:
    """The deny form (its CSRF token was checked with the session)."""
    form = await request.form()
    code = form.get("user_code")
    if not isinstance(code, str):
        raise InputError("user_code", "missing: reload the page")
    if principal.kind != "user":
        raise PermissionDenied("a person denies a device login", code="person_required")
    ip = request.client.host if request.client is not None else None
    try:
        with ctx.db.transaction() as session:
            found = DeviceLoginService(ctx).deny(session, code, principal.subject, source_ip=ip)
    except KinkoError as exc:
        return _page(request, ctx, principal, code=code[:32], error=exc)
    return _page(request, ctx, principal, found=found, code=found.user_code, outcome="denied")


@router.get("/console/static/device.js", dependencies=[public()])
def device_js() -> Response:
    return static_script("device.js")
