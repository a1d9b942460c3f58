"""HTTP routes for identity: sign-in, enrolment, users, roles and proposals, API tokens.

Thin: parse, call the identity service, render. Authorisation is the dependency on each
route (`public()`, `authenticated()` or `require(...)`), never an `if` in a handler; every
change to identity needs a person's own session (``person=True``), never an API token.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import JSONResponse

from kinko.api.auth import authenticated, public, require
from kinko.api.deps import AppServices, get_ctx, second_vote
from kinko.api.routes.tokens import router as tokens_router
from kinko.api.routes.votes import proposal_in_sight, vote_in_scope
from kinko.context import Context
from kinko.core.errors import InputError
from kinko.identity.approval_terms import ApprovalKind
from kinko.identity.login import SignedIn
from kinko.identity.model import Principal, ProposalKind, ProposalState, UserId, UserState
from kinko.identity.permissions import ROLE_PERMISSIONS, parse_role
from kinko.identity.proposals import Proposal
from kinko.identity.sessions import ABSOLUTE_TIMEOUT, COOKIE_NAME, csrf_token_for
from kinko.identity.views import (
    CodeLogin,
    EnrolBegin,
    EnrolFinish,
    NewProposal,
    NewUser,
    Reason,
    Revoke,
    SecondVote,
    UsernameBody,
    WebAuthnFinish,
    render_proposal,
    render_user,
)
from kinko.services import Services

router = APIRouter()
Ctx = Annotated[Context, Depends(get_ctx)]


def _ip(request: Request) -> str | None:
    return request.client.host if request.client is not None else None


def _signed_in(response: Response, signed: SignedIn) -> dict[str, Any]:
    response.set_cookie(
        COOKIE_NAME,
        signed.session_token,
        max_age=int(ABSOLUTE_TIMEOUT.total_seconds()),
        httponly=True,
        secure=True,
        samesite="strict",
        path="/",
    )
    return {
        "user_id": signed.user_id,
        "username": signed.username,
        "csrf_token": csrf_token_for(signed.session_token),
    }


# --- sign-in and enrolment --------------------------------------------------------------
@router.post("/v1/auth/login/webauthn/begin", dependencies=[public()])
def login_begin(body: UsernameBody, request: Request, ctx: Ctx, services: AppServices) -> Any:
    challenge_id, options = services.identity.login.begin_webauthn(
        body.username, source_ip=_ip(request)
    )
    return {"challenge_id": challenge_id, "options": options}


@router.post("/v1/auth/login/webauthn/finish", dependencies=[public()])
def login_finish(
    body: WebAuthnFinish, request: Request, response: Response, ctx: Ctx, services: AppServices
) -> Any:
    signed = services.identity.login.finish_webauthn(
        body.challenge_id,
        body.credential,
        source_ip=_ip(request),
        replaces=request.cookies.get(COOKIE_NAME),
    )
    return _signed_in(response, signed)


@router.post("/v1/auth/login/totp", dependencies=[public()])
def login_totp(
    body: CodeLogin, request: Request, response: Response, ctx: Ctx, services: AppServices
) -> Any:
    signed = services.identity.login.login_totp(
        body.username, body.code, source_ip=_ip(request), replaces=request.cookies.get(COOKIE_NAME)
    )
    return _signed_in(response, signed)


@router.post("/v1/auth/login/recovery", dependencies=[public()])
def login_recovery(
    body: CodeLogin, request: Request, response: Response, ctx: Ctx, services: AppServices
) -> Any:
    signed = services.identity.login.login_recovery(
        body.username, body.code, source_ip=_ip(request)
    )
    return _signed_in(response, signed)


@router.post("/v1/auth/enrol/webauthn/begin", dependencies=[public()])
def enrol_begin(body: EnrolBegin, ctx: Ctx, services: AppServices) -> Any:
    with ctx.db.transaction() as session:
        challenge_id, options = services.identity.enrol_webauthn_begin(
            session, body.username, body.enrolment_secret
        )
    return {"challenge_id": challenge_id, "options": options}


@router.post("/v1/auth/enrol/webauthn/finish", dependencies=[public()])
def enrol_finish(
    body: EnrolFinish, request: Request, response: Response, ctx: Ctx, services: AppServices
) -> Any:
    with ctx.db.transaction() as session:
        signed = services.identity.enrol_webauthn_finish(
            session,
            body.username,
            body.enrolment_secret,
            body.challenge_id,
            body.credential,
            source_ip=_ip(request),
        )
    return _signed_in(response, signed)


@router.post("/v1/auth/enrol/totp", dependencies=[public()])
def enrol_totp(body: EnrolBegin, ctx: Ctx, services: AppServices) -> Any:
    with ctx.db.transaction() as session:
        secret, uri, codes = services.identity.enrol_totp(
            session, body.username, body.enrolment_secret
        )
    return {"totp_secret": secret, "otpauth_uri": uri, "recovery_codes": codes}


@router.post("/v1/auth/logout")
def logout(
    request: Request,
    response: Response,
    principal: Annotated[Principal, Depends(authenticated())],
    ctx: Ctx,
    services: AppServices,
) -> Any:
    # The session this request came with: a Bearer session (`kinko logout`) or the cookie.
    scheme, _, bearer = request.headers.get("authorization", "").partition(" ")
    used = bearer.strip() if scheme.lower() == "bearer" else request.cookies.get(COOKIE_NAME)
    if used and principal.kind == "user":
        with ctx.db.transaction() as session:
            services.identity.sessions.revoke(session, used)
    response.delete_cookie(COOKIE_NAME, path="/", secure=True, httponly=True, samesite="strict")
    return {"signed_out": principal.username}


@router.get("/v1/auth/me")
def me(principal: Annotated[Principal, Depends(authenticated())]) -> Any:
    return {
        "kind": principal.kind,
        "user_id": principal.subject,
        "username": principal.username,
        "roles": [g.to_dict() for g in principal.roles],
        "permissions": sorted(principal.permissions),
        "token_id": principal.token_id,
    }


# --- users ------------------------------------------------------------------------------
@router.get("/v1/users")
def list_users(
    principal: Annotated[Principal, Depends(require("users:read"))], ctx: Ctx, services: AppServices
) -> Any:
    ids = services.identity
    with ctx.db.transaction() as session:
        return [
            {**render_user(u), "roles": [g.to_dict() for g in ids.roles_of(session, u.id)]}
            for u in ids.users.list_users(session)
        ]


@router.post("/v1/users", status_code=201)
def add_user(
    body: NewUser,
    principal: Annotated[Principal, Depends(require("users:write"))],
    ctx: Ctx,
    services: AppServices,
) -> Any:
    with ctx.db.transaction() as session:
        user_id, secret = services.identity.users.add_user(
            session, body.username, actor=principal.actor, display_name=body.display_name
        )
    return {"id": user_id, "username": body.username, "enrolment_secret": secret}


def _state_change(
    services: Services, principal: Principal, user_id: str, state: UserState, reason: str
) -> JSONResponse:
    """Propose the change; 200 with the user when it applied at once (someone without a
    privileged role suspended or removed), 202 when a second security_admin must approve."""
    ids = services.identity
    with services.ctx.db.transaction() as session:
        proposal = ids.roles.change_state(
            session, UserId(user_id), state, actor=principal.subject, reason=reason
        )
        user = ids.users.get(session, UserId(user_id))
    done = proposal.state == ProposalState.APPROVED
    body = {**render_user(user), "proposal": render_proposal(proposal)}
    return JSONResponse(body, status_code=200 if done else 202)


def _state_route(action: str, state: UserState) -> None:
    """POST /v1/users/{user_id}/<action>: propose moving the user to `state`."""

    def change(
        user_id: str,
        body: Reason,
        principal: Annotated[Principal, Depends(require("users:write", person=True))],
        ctx: Ctx,
        services: AppServices,
    ) -> JSONResponse:
        return _state_change(services, principal, user_id, state, body.reason)

    change.__name__ = change.__qualname__ = f"{action}_user"  # the OpenAPI operation id
    path = "/v1/users/{user_id}/" + action
    router.post(path, responses={202: {"description": "proposed"}})(change)


# Three routes, not one "/{action}": a parameter there shadowed /enrolment (issue 13).
_state_route("suspend", UserState.SUSPENDED)
_state_route("reinstate", UserState.ACTIVE)
_state_route("remove", UserState.REMOVED)


@router.post("/v1/users/{user_id}/enrolment")
def reissue_enrolment(
    user_id: str,
    principal: Annotated[Principal, Depends(require("users:write", person=True))],
    ctx: Ctx,
    services: AppServices,
) -> Any:
    with ctx.db.transaction() as session:
        secret = services.identity.users.reissue_enrolment(
            session, UserId(user_id), actor=principal.actor
        )
    return {"id": user_id, "enrolment_secret": secret}


@router.get("/v1/users/{user_id}/factors")
def user_factors(
    user_id: str,
    principal: Annotated[Principal, Depends(require("users:read"))],
    ctx: Ctx,
    services: AppServices,
) -> Any:
    ids = services.identity
    with ctx.db.transaction() as session:
        ids.users.get(session, UserId(user_id))
        return ids.mfa.factors(session, user_id)


# --- roles and proposals ----------------------------------------------------------------
@router.get("/v1/roles")
def list_roles(principal: Annotated[Principal, Depends(require("users:read"))]) -> Any:
    return {role.value: sorted(perms) for role, perms in ROLE_PERMISSIONS.items()}


@router.get("/v1/roles/conflicts")
def conflict_matrix(
    principal: Annotated[Principal, Depends(require("users:read"))], ctx: Ctx, services: AppServices
) -> Any:
    with ctx.db.transaction() as session:
        return services.identity.conflict_matrix(session).to_list()


@router.get("/v1/roles/proposals")
def list_proposals(
    principal: Annotated[Principal, Depends(require("users:read"))],
    ctx: Ctx,
    services: AppServices,
    state: Literal["pending", "approved", "refused"] | None = None,
) -> Any:
    with ctx.db.transaction() as session:
        found = services.identity.roles.list_proposals(
            session, ProposalState(state) if state else None
        )
        shown = [p for p in found if proposal_in_sight(principal, session, p)]
    return [render_proposal(p) for p in shown]


@router.post("/v1/roles/proposals", status_code=201)
def propose(
    body: NewProposal,
    principal: Annotated[Principal, Depends(require("roles:propose", person=True))],
    ctx: Ctx,
    services: AppServices,
) -> Any:
    payload = body.model_dump(exclude={"kind", "reason"}, exclude_none=True)
    with ctx.db.transaction() as session:
        proposal = services.identity.roles.propose(
            session,
            actor=principal.subject,
            kind=ProposalKind(body.kind),
            payload=payload,
            reason=body.reason,
        )
    return render_proposal(proposal)


def own_route(proposal: Proposal) -> tuple[str, str] | None:
    """The route that votes on a proposal of a kind with a route of its own (where the
    scope of what it touches is checked), and why, in words; None for the others. The
    approve route below refuses those kinds; the console's approval page posts there."""
    if proposal.kind is ProposalKind.RELEASE_FREEZE:
        route = f"/v1/unfreeze-proposals/{proposal.id}/approve"
        why = (
            "lifting a freeze is approved where the freeze's scope is checked: "
            f"POST {route} (kinko unfreeze approve {proposal.id})"
        )
        return route, why
    if proposal.kind is ProposalKind.RELEASE_RESPONSE:
        response = proposal.payload.get("response_id")
        route = f"/v1/responses/{response}/release"
        why = (
            "releasing a response is voted where its scope is checked: "
            f"POST {route} (kinko monitor responses release {response})"
        )
        return route, why
    if proposal.kind is ProposalKind.ADDRESS_BOOK_ENTRY:
        route = f"/v1/addressbook/proposals/{proposal.id}/approve"
        why = (
            "an address-book entry is approved where its chain's scope is checked: "
            f"POST {route} (kinko addressbook approve {proposal.id})"
        )
        return route, why
    return None


# Who may approve or refuse depends on the proposal's kind (kinko.identity.rules.eligibility:
# a security_admin; for custody's registrations also a holder of custody:write), so these two
# routes admit any person signed in with their own session and the service decides, by the
# four-eyes rules, whether this person is an eligible second pair of eyes.
@router.post("/v1/roles/proposals/{proposal_id}/approve")
def approve(
    proposal_id: str,
    principal: Annotated[Principal, Depends(authenticated(person=True))],
    ctx: Ctx,
    services: AppServices,
    body: SecondVote | None = None,
) -> Any:
    """Approve with your own security key: `step_up` is a fresh assertion over a challenge
    from ``POST /v1/auth/step-up/begin`` bound to this proposal as it stands."""
    vote = second_vote(services, body.step_up if body else None)
    with ctx.db.transaction() as session:
        asked = services.identity.roles.proposal(session, proposal_id)
        elsewhere = None if asked is None else own_route(asked)
        if elsewhere is not None:
            raise InputError("proposal_id", elsewhere[1])
        proposal = services.identity.roles.approve(
            session, proposal_id, actor=principal.subject, vote=vote
        )
    return render_proposal(proposal)


@router.post("/v1/roles/proposals/{proposal_id}/refuse")
def refuse(
    proposal_id: str,
    body: Reason,
    principal: Annotated[Principal, Depends(authenticated(person=True))],
    ctx: Ctx,
    services: AppServices,
) -> Any:
    with ctx.db.transaction() as session:
        # Refusing is a vote too: within the scope of what the proposal touches.
        vote_in_scope(principal, session, services, ApprovalKind.PROPOSAL, proposal_id)
        proposal = services.identity.roles.refuse(
            session, proposal_id, actor=principal.subject, reason=body.reason
        )
    return render_proposal(proposal)


@router.post("/v1/roles/revoke", responses={202: {"description": "proposed"}})
def revoke_role(
    body: Revoke,
    principal: Annotated[Principal, Depends(require("roles:propose", person=True))],
    ctx: Ctx,
    services: AppServices,
) -> JSONResponse:
    """Propose taking a role away (four eyes); giving up one's own role applies at once."""
    with ctx.db.transaction() as session:
        proposal = services.identity.roles.revoke_role(
            session,
            UserId(body.user_id),
            parse_role(body.role),
            actor=principal.subject,
            reason=body.reason,
        )
    done = proposal.state == ProposalState.APPROVED
    return JSONResponse(
        {"revoked": done, "proposal": render_proposal(proposal)}, status_code=200 if done else 202
    )


# API tokens and the WebAuthn step-up: kinko.api.routes.tokens.
router.include_router(tokens_router)
