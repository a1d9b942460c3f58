"""Console page for approvers: the DECODED transaction and its digest.

What is shown comes only from decoding the unsigned transaction that will be signed
(`intent`) and from its digest, never from the request's own fields: an approver judges
what is really signed (the DMM Bitcoin / Bybit lesson). Approving is a WebAuthn
``navigator.credentials.get()`` whose challenge is that digest, posted to
``/v1/withdrawals/{id}/approve``.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse

from kinko.api.auth import require
from kinko.identity.model import Principal
from kinko.web.console import render
from kinko.withdrawals.stack import WithdrawalStack

router = APIRouter()


def _stack(request: Request) -> WithdrawalStack:
    from kinko.api.routes.withdrawals import stack

    return stack(request)


@router.get("/console/withdrawals/{withdrawal_id}", response_class=HTMLResponse)
def approval_page(
    withdrawal_id: str,
    request: Request,
    principal: Annotated[Principal, Depends(require("withdrawals:read"))],
    services: Annotated[WithdrawalStack, Depends(_stack)],
) -> HTMLResponse:
    view = services.withdrawals.get(withdrawal_id)
    return render(
        request,
        "withdrawal_approval.html",
        principal=principal,
        wd=view,
        intent=view.intent,
        can_approve=principal.has("withdrawals:approve") and view.state.value == "pending_approval",
    )
