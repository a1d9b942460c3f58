"""Console pages for withdrawals: the list (with filters) and a withdrawal's page.

What the page shows of the transaction comes only from decoding the unsigned transaction
that will be signed (`intent`) and from its digest, never from the request's own fields:
an approver judges what is really signed (the DMM Bitcoin / Bybit lesson). Beside it:
amounts in the asset's units with the base units, names for the ids
(`kinko.web.withdrawal_facts`), a short code of the digest to compare on a second device,
the policy rules that fired, the answers so far and red flags of dangerous calls
(`kinko.web.red_flags`). Whoever may not approve sees why, in words, and no button: the
approval service's own reason (`ApprovalService.refusal`: state, expiry, four eyes,
separation of duties) after the page's check of ``withdrawals:approve`` in scope.
Approving is a WebAuthn ``navigator.credentials.get()`` over the one-time challenge from
``/v1/withdrawals/{id}/approval-challenge`` (it commits to that digest, the withdrawal and
its expiry), posted to ``/v1/withdrawals/{id}/approve``.
"""

from __future__ import annotations

import functools
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, Response
from starlette.concurrency import run_in_threadpool

from kinko.api.auth import public, require
from kinko.api.routes.withdrawal_deps import concern, stack
from kinko.api.scopes import Scopes
from kinko.core.errors import InputError, KinkoError
from kinko.identity.model import Principal
from kinko.signer.bundle import b64url
from kinko.web.console import HERE, SECURITY_HEADERS, render
from kinko.web.dashboard_data import LISTED, Panel
from kinko.web.formatting import short_code
from kinko.web.red_flags import red_flags
from kinko.web.withdrawal_facts import amounts_of, facts_of, refusal
from kinko.withdrawals.records import WithdrawalView
from kinko.withdrawals.stack import WithdrawalStack
from kinko.withdrawals.states import State

router = APIRouter()
Reader = Annotated[Principal, Depends(require("withdrawals:read"))]
Stack = Annotated[WithdrawalStack, Depends(stack)]
PAGE_SIZE = 50


def _mine(services: WithdrawalStack, principal: Principal) -> list[WithdrawalView]:
    """Pending withdrawals `principal` may approve now (blocking)."""
    scopes = Scopes.reading(principal, "withdrawals:read", services.ctx)
    pending = services.withdrawals.list(
        state=State.PENDING_APPROVAL.value,
        limit=PAGE_SIZE,
        visible=lambda v: scopes.sees(concern(v)),
    )
    with services.ctx.db.reading() as session:
        return [v for v in pending if refusal(services.approvals, session, v, principal) is None][
            :LISTED
        ]


async def awaiting_me(request: Request, principal: Principal) -> Panel:
    """The dashboard's panel of withdrawals waiting for `principal`'s approval."""
    try:
        services = await stack(request)
        found = await run_in_threadpool(_mine, services, principal)
    except KinkoError as exc:
        return Panel("withdrawals", error=exc.message)
    amounts = await run_in_threadpool(amounts_of, services.ctx, found)
    return Panel("withdrawals", [(v, amounts.get(v.id)) for v in found])


@router.get("/console/withdrawals", response_class=HTMLResponse)
async def list_page(
    request: Request,
    principal: Reader,
    services: Stack,
    *,
    state: Annotated[str, Query(max_length=32)] = "",
    asset: Annotated[str, Query(max_length=80)] = "",
    wallet: Annotated[str, Query(max_length=64)] = "",
) -> HTMLResponse:
    """Withdrawals the person may read, newest first, by state, asset and wallet."""
    if state and state not in {s.value for s in State}:
        raise InputError("state", f"use one of {', '.join(s.value for s in State)}")
    scopes = Scopes.reading(principal, "withdrawals:read", services.ctx)

    def visible(v: WithdrawalView) -> bool:
        return (
            (not asset or v.asset == asset)
            and (not wallet or v.wallet_id == wallet)
            and scopes.sees(concern(v))
        )

    found = await run_in_threadpool(
        functools.partial(
            services.withdrawals.list, state=state or None, limit=PAGE_SIZE, visible=visible
        )
    )
    return render(
        request,
        "withdrawals.html",
        principal=principal,
        withdrawals=found,
        amounts=await run_in_threadpool(amounts_of, services.ctx, found),
        states=[s.value for s in State],
        filters={"state": state, "asset": asset, "wallet": wallet},
        page_size=PAGE_SIZE,
    )


@router.get("/console/withdrawals/{withdrawal_id}", response_class=HTMLResponse)
def approval_page(
    withdrawal_id: str, request: Request, principal: Reader, services: Stack
) -> HTMLResponse:
    view = services.withdrawals.get(withdrawal_id)
    # Scopes hold on the console as on the API: 403 for a withdrawal outside the caller's.
    Scopes.reading(principal, "withdrawals:read", services.ctx).require(concern(view))
    # What a signature would cover: the bytes on record decoded now, not the intent
    # written beside them when they were built (kinko.withdrawals.as_signed).
    signed = services.withdrawals.as_signed(withdrawal_id)
    intent = view.intent if signed is None else signed.intent
    facts = facts_of(services.ctx, view, principal)
    with services.ctx.db.reading() as session:
        refused = refusal(services.approvals, session, view, principal)
    can_approve = refused is None
    credentials: list[str] = []
    if can_approve:
        with services.ctx.db.transaction() as session:
            credentials = [
                b64url(c.credential_id)
                for c in services.ports.directory.credentials_of(session, str(principal.subject))
            ]
    return render(
        request,
        "withdrawal_approval.html",
        principal=principal,
        wd=view,
        intent=intent,
        altered=None if signed is None else signed.altered,
        facts=facts,
        code=short_code(view.digest) if view.digest else "",
        flags=red_flags(intent),
        decision=view.decision or {},
        refusal=refused,
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
