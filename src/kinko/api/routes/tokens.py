"""HTTP routes for API tokens and the WebAuthn step-up that privileged tokens need.

A token belongs to its person: ``POST /v1/tokens`` makes the caller's own token (a
privileged permission needs ``step_up``, a fresh assertion over a challenge from
``POST /v1/auth/step-up/begin`` that commits to exactly this token's terms; the CLI's
browser confirmation is kinko.api.routes.token_requests), or, with a service account's
``owner_id``, a four-eyes proposal that a second security_admin approves. Only a
person's own session does either.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse
from sqlalchemy.orm import Session

from kinko.api.auth import authenticated, require
from kinko.api.deps import AppServices, get_ctx
from kinko.api.routes.token_requests import router as token_requests_router
from kinko.api.routes.votes import vote_in_scope
from kinko.context import Context
from kinko.core.errors import InputError, KinkoError
from kinko.identity.approval_terms import ApprovalKind
from kinko.identity.model import Principal, ProposalKind, UserId
from kinko.identity.token_terms import TokenTerms
from kinko.identity.tokens import StepUp, TokenService
from kinko.identity.views import (
    NewToken,
    Reason,
    StepUpBegin,
    TokenTermsBody,
    render_proposal,
    render_token,
)

router = APIRouter()
Ctx = Annotated[Context, Depends(get_ctx)]


def _terms(
    tokens: TokenService, session: Session, owner: UserId, body: TokenTermsBody | NewToken
) -> TokenTerms:
    """The terms of the token `body` asks `owner` to hold, checked (`TokenIssuer.terms`)."""
    return tokens.terms(
        session,
        owner_id=owner,
        name=body.name,
        permissions=body.permissions,
        assets=body.assets,
        ip_allowlist=body.ip_allowlist,
        ttl=timedelta(days=body.ttl_days),
    )


@router.get("/v1/tokens")
def list_tokens(
    principal: Annotated[Principal, Depends(require("tokens:write"))],
    ctx: Ctx,
    services: AppServices,
) -> Any:
    with ctx.db.transaction() as session:
        return [render_token(t) for t in services.identity.tokens.list_tokens(session)]


@router.post("/v1/auth/step-up/begin")
def step_up_begin(
    body: StepUpBegin,
    principal: Annotated[Principal, Depends(authenticated(person=True))],
    ctx: Ctx,
    services: AppServices,
) -> Any:
    """A single-use challenge (5 minutes) for a fresh assertion with your own
    authenticator that commits to exactly one act: the token in `token` (your own, with
    privileged permissions: send the answer as `step_up` with the same terms to
    ``POST /v1/tokens``), or your vote on the four-eyes step in `approval` (send it as
    `step_up` to that step's approve route)."""
    if body.purpose == "approve":
        if body.approval is None or body.token is not None:
            raise InputError("approval", "purpose approve takes approval {kind, subject} only")
        kind = ApprovalKind.parse(body.approval.kind, "approval.kind")
        with ctx.db.transaction() as session:
            vote_in_scope(principal, session, services, kind, body.approval.subject)
            content = services.approval_content(
                session, kind, body.approval.subject, principal.subject
            )
            challenge_id, options, terms = services.step_ups.begin(
                session, kind, body.approval.subject, principal.subject, content
            )
        return {"challenge_id": challenge_id, "options": options, "terms": terms.fields()}
    if body.token is None or body.approval is not None:
        raise InputError("token", "purpose create_token takes the token's terms only")
    tokens = services.identity.tokens
    with ctx.db.transaction() as session:
        terms_of_token = _terms(tokens, session, principal.subject, body.token)
        challenge_id, options = tokens.begin_step_up(session, terms_of_token)
    return {"challenge_id": challenge_id, "options": options, "terms": terms_of_token.fields()}


@router.post(
    "/v1/tokens",
    status_code=201,
    responses={202: {"description": "a service account's token, proposed (four eyes)"}},
)
def create_token(
    body: NewToken,
    principal: Annotated[Principal, Depends(authenticated(person=True))],
    ctx: Ctx,
    services: AppServices,
) -> JSONResponse:
    """Your own token (201), or a service account's (`owner_id`; 202, a proposal: the
    token printed now works once a second security_admin approves it)."""
    tokens = services.identity.tokens
    if body.owner_id is None or body.owner_id == principal.subject:
        up = body.step_up
        try:
            with ctx.db.transaction() as session:
                token_id, token = tokens.create_own(
                    session,
                    _terms(tokens, session, principal.subject, body),
                    step_up=None if up is None else StepUp(up.challenge_id, up.credential),
                )
        except KinkoError as exc:
            if up is not None:  # a step-up is tried once: a failed attempt uses it up
                with ctx.db.transaction() as session:
                    tokens.spend_step_up(session, principal.subject, up.challenge_id, exc.code)
            raise
        note = "shown once; store it now"
        return JSONResponse({"id": token_id, "token": token, "note": note}, status_code=201)
    with ctx.db.transaction() as session:
        # Who may propose first: someone who may not learns nothing about the account.
        services.identity.roles.require_proposer(
            session, principal.subject, ProposalKind.CREATE_TOKEN
        )
        proposal, token_id, token = services.identity.propose_service_token(
            session,
            _terms(tokens, session, UserId(body.owner_id), body),
            actor=principal.subject,
            reason=body.reason,
        )
    note = (
        f"shown once; store it now. It works once another security_admin approves proposal "
        f"{proposal.id} (POST /v1/roles/proposals/{proposal.id}/approve)"
    )
    return JSONResponse(
        {"id": token_id, "token": token, "note": note, "proposal": render_proposal(proposal)},
        status_code=202,
    )


@router.post("/v1/tokens/{token_id}/revoke")
def revoke_token(
    token_id: str,
    body: Reason,
    principal: Annotated[Principal, Depends(require("tokens:write"))],
    ctx: Ctx,
    services: AppServices,
) -> Any:
    with ctx.db.transaction() as session:
        info = services.identity.tokens.revoke(
            session, token_id, actor=principal.actor, reason=body.reason
        )
    return render_token(info)


# `kinko token create` of a privileged token, confirmed in the browser.
router.include_router(token_requests_router)
