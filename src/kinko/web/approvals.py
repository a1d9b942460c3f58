"""The four-eyes approval page: ``/console/approvals/{kind}/{id}``.

Where the second person approves a proposal (roles, people, custody, lists, policies,
unfreezes, the governance register), an address-book entry or a response's release with
their security key. The page shows what is being approved — as its owner describes it,
the very content the step-up commits to (`kinko.identity.approval_terms`) — and its
digest. Whoever may not approve (the proposer, the person it is about, someone not
eligible, a decided or expired proposal, a release nobody proposed yet) sees why in
words and no button. The button's script (``static/vote.js``) asks for the challenge
(``POST /v1/auth/step-up/begin``), has the key sign it and posts the answer to the step's
own approve route, where the four-eyes rules and the scopes are checked again.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from kinko.api.auth import authenticated, public
from kinko.api.deps import AppServices
from kinko.api.routes.identity import own_route
from kinko.api.routes.votes import vote_in_scope
from kinko.core.errors import InputError, KinkoError
from kinko.identity.approval_terms import ApprovalKind, content_digest
from kinko.identity.model import Principal, ProposalKind
from kinko.web.console import HERE, SECURITY_HEADERS, render

router = APIRouter(include_in_schema=False)

KINDS = {
    "proposal": ApprovalKind.PROPOSAL,
    "response-release": ApprovalKind.RESPONSE_RELEASE,
}


def approve_url(services: Any, session: Any, kind: ApprovalKind, subject: str) -> str:
    """The route that takes this vote (the step's own: its scopes are checked there)."""
    if kind is ApprovalKind.RESPONSE_RELEASE:
        return f"/v1/responses/{subject}/release"
    found = services.identity.roles.proposal(session, subject)
    elsewhere = None if found is None else own_route(found)
    return f"/v1/roles/proposals/{subject}/approve" if elsewhere is None else elsewhere[0]


def response_page(services: Any, session: Any, kind: ApprovalKind, subject: str) -> str | None:
    """Where a proposal to release a monitor response is voted on: the response's own
    page (its vote is a ``response_release`` step-up on the response), None otherwise."""
    if kind is not ApprovalKind.PROPOSAL:
        return None
    found = services.identity.roles.proposal(session, subject)
    if found is None or found.kind is not ProposalKind.RELEASE_RESPONSE:
        return None
    return f"/console/approvals/response-release/{found.payload['response_id']}"


@router.get("/console/approvals/{kind}/{subject}", response_class=HTMLResponse)
def approval_page(
    kind: str,
    subject: str,
    request: Request,
    principal: Annotated[Principal, Depends(authenticated(person=True))],
    services: AppServices,
) -> Response:
    if kind not in KINDS:
        raise InputError("kind", f"is not an approval kind: use one of {', '.join(KINDS)}")
    approval = KINDS[kind]
    content: Any = None
    refusal: str | None = None
    with services.ctx.db.transaction() as session:
        elsewhere = response_page(services, session, approval, subject)
        if elsewhere is not None:
            return RedirectResponse(elsewhere, status_code=303, headers=SECURITY_HEADERS)
        vote_in_scope(principal, session, services, approval, subject)
        try:
            content = services.approval_content(session, approval, subject, principal.subject)
        except KinkoError as exc:  # the reason this person may not approve, in words
            refusal = exc.message
        url = approve_url(services, session, approval, subject)
    return render(
        request,
        "approval.html",
        principal=principal,
        kind=kind,
        api_kind=approval.value,
        subject=subject,
        content=json.dumps(content, indent=2, sort_keys=True, default=str) if content else "",
        digest=content_digest(content) if content else "",
        refusal=refusal,
        approve_url=url,
        needs_reason=approval is ApprovalKind.RESPONSE_RELEASE,
    )


@router.get("/console/static/vote.js", dependencies=[public()])
def vote_js() -> Response:
    """The approval page's script (external: the console's CSP allows no inline script)."""
    return Response(
        (HERE / "static" / "vote.js").read_bytes(),
        media_type="text/javascript",
        headers=SECURITY_HEADERS,
    )
