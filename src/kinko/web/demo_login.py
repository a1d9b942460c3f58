"""Demo only: sign in to the console as one of the people `kinko demo` created, and
approve withdrawals as them.

Those people hold software WebAuthn authenticators whose keys the demo keeps in
``<data dir>/demo-authenticators`` (a browser cannot use them), so this page runs the real
sign-in ceremony (`/v1/auth/login/webauthn/begin` and `finish`, the same checks) with the
chosen person's saved authenticator on the server's side, and ``/console/demo-approve/ID``
answers a withdrawal's digest with the signed-in person's (the approval service checks it
as any assertion; the console's CSRF token guards the form). It exists only where
`enabled` says so: a data directory holding the demo's authenticators, served on a
loopback address, in one process. Never on a real exchange: anyone who can reach it can
be anyone the demo created.
"""

from __future__ import annotations

import hmac
import ipaddress
import secrets
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from kinko.api.auth import public, require
from kinko.api.deps import AppServices, get_ctx
from kinko.context import Context
from kinko.core.errors import InputError, PermissionDenied
from kinko.identity.login import SignedIn
from kinko.identity.model import Principal
from kinko.identity.sessions import COOKIE_NAME
from kinko.services import Services
from kinko.web.console import render, safe_next

if TYPE_CHECKING:
    from kinko.withdrawals.stack import WithdrawalStack

PATH = "/console/demo-login"
router = APIRouter(include_in_schema=False)
Ctx = Annotated[Context, Depends(get_ctx)]


def demo_people(data_dir: Path) -> list[tuple[str, str]]:
    """(name, roles) of each demo person whose authenticator is in `data_dir`."""
    from kinko.demo.exchange import AUTH_DIR, USERS

    folder = data_dir / AUTH_DIR
    return [
        (name, ", ".join(r.value for r in roles))
        for name, roles in USERS.items()
        if (folder / f"{name}.json").is_file()
    ]


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def enabled(data_dir: Path, host: str) -> bool:
    """The demo sign-in page is offered: the demo's people are here, and only this
    machine can reach the server."""
    return is_loopback(host) and bool(demo_people(data_dir))


def install(app: FastAPI) -> None:
    """Add the page to `app` (one process: the form token lives in it)."""
    app.state.demo_login = True
    app.state.demo_login_token = secrets.token_urlsafe(32)
    app.include_router(router)


@router.get(PATH, dependencies=[public()], response_class=HTMLResponse)
def page(request: Request, ctx: Ctx, next: str | None = None) -> HTMLResponse:
    return render(
        request,
        "demo_login.html",
        people=demo_people(ctx.settings.data_dir),
        token=request.app.state.demo_login_token,
        next=safe_next(next),
    )


def _sign_in(services: Services, username: str, ip: str | None, replaces: str | None) -> SignedIn:
    from webauthn.helpers import base64url_to_bytes

    from kinko.demo.exchange import assert_as

    ctx = services.ctx
    login = services.identity.login
    challenge_id, options = login.begin_webauthn(username, source_ip=ip)
    assertion = assert_as(
        ctx.settings.data_dir,
        username,
        challenge=base64url_to_bytes(str(options["challenge"])),
        rp_id=ctx.settings.webauthn_rp_id,
        origin=ctx.settings.webauthn_origin,
    )
    return login.finish_webauthn(challenge_id, assertion, source_ip=ip, replaces=replaces)


@router.post(PATH, dependencies=[public()])
async def sign_in(request: Request, ctx: Ctx, services: AppServices) -> Response:
    from kinko.api.routes.identity import _signed_in

    form = await request.form()
    token, username, target = (form.get(k) for k in ("token", "username", "next"))
    expected: str = request.app.state.demo_login_token
    if not isinstance(token, str) or not hmac.compare_digest(token, expected):
        raise PermissionDenied(
            "the sign-in form is out of date: reload the page", code="csrf_failed"
        )
    people = dict(demo_people(ctx.settings.data_dir))
    if not isinstance(username, str) or username not in people:
        raise InputError("username", f"not one of the demo's people ({', '.join(people)})")
    ip = request.client.host if request.client is not None else None
    signed = await run_in_threadpool(
        _sign_in, services, username, ip, request.cookies.get(COOKIE_NAME)
    )
    response = RedirectResponse(
        safe_next(target if isinstance(target, str) else None), status_code=303
    )
    _signed_in(response, signed)
    return response


def _approve(principal: Principal, withdrawal_id: str, stack: WithdrawalStack) -> None:
    from kinko.demo.exchange import assert_as

    settings = stack.ctx.settings
    if principal.username not in dict(demo_people(settings.data_dir)):
        raise PermissionDenied(
            f"{principal.username} is not one of the demo's people: approve with a security key"
        )
    from kinko.api.scopes import Concern, Scopes

    view = stack.withdrawals.get(withdrawal_id)
    scopes = Scopes.reading(principal, "withdrawals:approve", stack.ctx)
    scopes.require(Concern(asset=view.asset, wallet=view.wallet_id))
    if view.digest is None:
        raise InputError("withdrawal", f"{withdrawal_id} has no transaction to approve")
    approver = str(principal.subject)
    issued = stack.approvals.challenge(withdrawal_id, approver=approver)
    assertion = assert_as(
        settings.data_dir,
        principal.username,
        challenge=issued.challenge,
        rp_id=settings.webauthn_rp_id,
        origin=settings.webauthn_origin,
    )
    # At quorum the approval service itself signs and broadcasts a hot wallet's withdrawal.
    stack.approvals.approve(withdrawal_id, approver=approver, assertion=assertion)


@router.post("/console/demo-approve/{withdrawal_id}")
async def approve(
    withdrawal_id: str,
    request: Request,
    principal: Annotated[Principal, Depends(require("withdrawals:approve"))],
) -> Response:
    """Approve with the signed-in demo person's saved authenticator (the console's CSRF
    token is checked as for any form), then back to the approval page."""
    from kinko.api.routes.withdrawal_deps import stack

    services = await stack(request)
    await run_in_threadpool(_approve, principal, withdrawal_id, services)
    return RedirectResponse(f"/console/withdrawals/{withdrawal_id}", status_code=303)
