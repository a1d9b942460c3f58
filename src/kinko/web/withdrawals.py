"""Console page for approvers: the DECODED transaction and its digest.

What is shown comes only from decoding the unsigned transaction that will be signed
(`intent`) and from its digest, never from the request's own fields: an approver judges
what is really signed (the DMM Bitcoin / Bybit lesson). Approving is a WebAuthn
``navigator.credentials.get()`` over the one-time challenge from
``/v1/withdrawals/{id}/approval-challenge`` (it commits to that digest, the withdrawal and
its expiry), posted to ``/v1/withdrawals/{id}/approve``.
"""

from __future__ import annotations

import functools
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response
from starlette.concurrency import run_in_threadpool

from kinko.api.auth import public, require
from kinko.api.routes.withdrawal_deps import concern, stack
from kinko.api.scopes import Scopes
from kinko.core.errors import KinkoError
from kinko.identity.model import Principal
from kinko.signer.bundle import b64url
from kinko.web.console import HERE, SECURITY_HEADERS, render
from kinko.withdrawals.records import WithdrawalView
from kinko.withdrawals.stack import WithdrawalStack
from kinko.withdrawals.states import State

router = APIRouter()


async def awaiting_approval(request: Request, principal: Principal) -> list[WithdrawalView]:
    """Withdrawals in ``pending_approval`` of assets and wallets `principal` may read,
    newest first (none when the withdrawal services cannot be built here, e.g. without
    the audit-log key)."""
    try:
        services = await stack(request)
    except KinkoError:
        return []
    scopes = Scopes.reading(principal, "withdrawals:read", services.ctx)
    return await run_in_threadpool(
        functools.partial(
            services.withdrawals.list,
            state=State.PENDING_APPROVAL.value,
            limit=50,
            visible=lambda v: scopes.sees(concern(v)),
        )
    )


@router.get("/console/withdrawals/{withdrawal_id}", response_class=HTMLResponse)
def approval_page(
    withdrawal_id: str,
    request: Request,
    principal: Annotated[Principal, Depends(require("withdrawals:read"))],
    services: Annotated[WithdrawalStack, Depends(stack)],
) -> HTMLResponse:
    view = services.withdrawals.get(withdrawal_id)
    # Scopes hold on the console as on the API: 403 for a withdrawal outside the caller's.
    Scopes.reading(principal, "withdrawals:read", services.ctx).require(concern(view))
    me = str(principal.subject)
    can_approve = (
        Scopes.reading(principal, "withdrawals:approve", services.ctx).sees(concern(view))
        and view.state.value == "pending_approval"
        and me != view.requester
        and all(a["approver"] != me for a in view.approvals)
    )
    credentials: list[str] = []
    if can_approve:
        with services.ctx.db.transaction() as session:
            credentials = [
                b64url(c.credential_id)
                for c in services.ports.directory.credentials_of(session, me)
            ]
    return render(
        request,
        "withdrawal_approval.html",
        principal=principal,
        wd=view,
        intent=view.intent,
        can_approve=can_approve,
        credentials=credentials,
        rp_id=services.ctx.settings.webauthn_rp_id,
        demo_approve=can_approve and demo_person(request, principal),
    )


def demo_person(request: Request, principal: Principal) -> bool:
    """`principal` is one of the demo's people and the demo's pages are on (demo only)."""
    if not getattr(request.app.state, "demo_login", False):
        return False
    from kinko.web.demo_login import demo_people

    ctx = request.app.state.ctx
    return principal.username in dict(demo_people(ctx.settings.data_dir))


@router.get("/console/static/approve.js", dependencies=[public()])
def approve_js() -> Response:
    """The approval page's script (external: the console's CSP allows no inline script)."""
    return Response(
        (HERE / "static" / "approve.js").read_bytes(),
        media_type="text/javascript",
        headers=SECURITY_HEADERS,
    )
