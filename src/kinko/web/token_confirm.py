"""The token confirmation page: ``/console/tokens/confirm?code=ABCD-EFGH``.

`kinko token create` of a privileged token shows a code and this address. The signed-in
owner sees exactly what token is being created (name, permissions, assets, lifetime and
the date it would end, allowlist; the client and address that asked) and confirms it with
a fresh WebAuthn assertion over a challenge bound to those terms
(``static/token_confirm.js``: the API's ``/v1/tokens/requests/challenge`` and
``/approve``), or refuses it with the form here. Anyone else is told it is not theirs.
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
from kinko.identity.model import Principal
from kinko.identity.permissions import PRIVILEGED_PERMISSIONS
from kinko.identity.token_requests import TokenRequest, TokenRequestService
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
    found: TokenRequest | None = None,
    code: str = "",
    error: KinkoError | None = None,
    outcome: str = "",
) -> HTMLResponse:
    days = found.terms.ttl_seconds / 86400 if found else 0
    return render(
        request,
        "token_confirm.html",
        principal=principal,
        found=found,
        code=code,
        error=error,
        outcome=outcome,
        privileged=sorted(PRIVILEGED_PERMISSIONS & set(found.terms.permissions)) if found else [],
        days=int(days) if days == int(days) else round(days, 2),
        # The token's lifetime starts when it is collected, right after confirmation.
        ends_about=isoformat(ctx.clock.now() + found.terms.ttl) if found else "",
        requested_at=isoformat(found.created_at) if found else "",
        expires_at=isoformat(found.expires_at) if found else "",
        browser_ip=request.client.host if request.client is not None else None,
        origin=ctx.settings.webauthn_origin,
        rp_id=ctx.settings.webauthn_rp_id,
        status_code=error.http_status if error else 200,
    )


@router.get("/console/tokens/confirm", response_class=HTMLResponse)
def confirm_page(request: Request, principal: Person, ctx: Ctx, code: str = "") -> HTMLResponse:
    if not code.strip():
        return _page(request, ctx, principal)
    try:
        with ctx.db.transaction() as session:
            found = TokenRequestService(ctx).request(session, code, principal.subject)
    except KinkoError as exc:
        return _page(request, ctx, principal, code=code[:32], error=exc)
    return _page(request, ctx, principal, found=found, code=found.user_code)


@router.post("/console/tokens/confirm/deny", response_class=HTMLResponse)
async def deny(request: Request, principal: Person, ctx: Ctx) -> HTMLResponse:
    """The refuse form (its CSRF token was checked with the session)."""
    form = await request.form()
    code = form.get("user_code")
    if not isinstance(code, str):
        raise InputError("user_code", "missing: reload the page")
    if principal.kind != "user":
        raise PermissionDenied("a person refuses a token request", code="person_required")
    ip = request.client.host if request.client is not None else None
    try:
        with ctx.db.transaction() as session:
            found = TokenRequestService(ctx).deny(session, code, principal.subject, source_ip=ip)
    except KinkoError as exc:
        return _page(request, ctx, principal, code=code[:32], error=exc)
    return _page(request, ctx, principal, found=found, code=found.user_code, outcome="denied")


@router.get("/console/static/token_confirm.js", dependencies=[public()])
def token_confirm_js() -> Response:
    return static_script("token_confirm.js")


__all__ = ["router"]
