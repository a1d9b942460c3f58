"""The console's address-book page (``/console/address-book``): the entries in force or
cooling off and the pending proposals, of the chains where the reader may read custody
data, as ``GET /v1/addressbook`` (``custody:read``, by chain scope); a form to propose an
entry or a change (``addressbook:propose`` for the chain, as
``POST /v1/addressbook/proposals``). Approving a proposal is identity's proposal page
(``/console/approvals/proposal/PRP``), which tells whoever may not vote why.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response

from kinko.api.auth import require
from kinko.api.deps import AppServices
from kinko.api.scopes import Concern, Scopes
from kinko.core.errors import InputError, KinkoError
from kinko.custody.model import Tier
from kinko.identity.model import Principal, ProposalKind
from kinko.policy.freeze import user_actor
from kinko.policy.model import OwnerKind
from kinko.services import Services
from kinko.web.page_forms import answer_form, form_field, form_page, may_propose, usernames

router = APIRouter(include_in_schema=False)
Reader = Annotated[Principal, Depends(require("custody:read"))]
Proposer = Annotated[Principal, Depends(require("addressbook:propose"))]
PAGE = "/console/address-book"


def _page(
    request: Request,
    principal: Principal,
    services: Services,
    *,
    error: KinkoError | None = None,
) -> HTMLResponse:
    book = services.address_book
    with services.ctx.db.reading() as session:
        scopes = Scopes.within(principal, "custody:read", session)
        entries = [e for e in book.entries(session) if scopes.sees(Concern(chain=e.chain))]
        pending = [p for p in book.pending(session) if scopes.sees(Concern(chain=p.chain))]
        names = usernames(session, [p.proposer for p in pending])
        refused = (
            may_propose(services, session, principal, ProposalKind.ADDRESS_BOOK_ENTRY)
            if principal.has("addressbook:propose")
            else None
        )
    now = services.ctx.clock.now()
    return form_page(
        request,
        "address_book.html",
        principal,
        error,
        entries=entries,
        cooling={e.id for e in entries if not e.is_effective(now)},
        proposals=pending,
        names=names,
        may_propose=principal.has("addressbook:propose") and refused is None,
        propose_refused=refused,
        owner_kinds=[k.value for k in OwnerKind],
        tiers=[t.value for t in Tier],
    )


@router.get(PAGE, response_class=HTMLResponse)
def address_book_page(request: Request, principal: Reader, services: AppServices) -> HTMLResponse:
    return _page(request, principal, services)


@router.post(PAGE, response_class=HTMLResponse)
async def propose_form(request: Request, principal: Proposer, services: AppServices) -> Response:
    """Propose an entry (``chain``, ``address``, ``label``, ``owner_kind``, ``tiers`` —
    one or more —, ``reason``); a second person approves it on the proposal's page."""
    form = await request.form()

    def act() -> None:
        try:
            owner = OwnerKind(form_field(form, "owner_kind"))
        except ValueError:
            raise InputError(
                "owner_kind", "must be own_wallet, partner or customer_verified"
            ) from None
        try:
            tiers = [Tier(str(t)) for t in form.getlist("tiers")]
        except ValueError:
            raise InputError("tiers", "must be hot, warm or cold") from None
        if not tiers:
            raise InputError("tiers", "tick at least one tier the destination may be paid from")
        chain = form_field(form, "chain", 32).strip()
        with services.ctx.db.transaction() as session:
            Scopes.within(principal, "addressbook:propose", session).require(Concern(chain=chain))
            services.address_book.propose(
                session,
                chain=chain,
                address=form_field(form, "address", 200).strip(),
                label=form_field(form, "label", 200).strip(),
                owner_kind=owner,
                tiers_allowed=tiers,
                actor=user_actor(principal.subject),
                reason=form_field(form, "reason").strip() or None,
            )

    return answer_form(act, PAGE, lambda exc: _page(request, principal, services, error=exc))
