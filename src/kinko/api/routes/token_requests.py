"""HTTP routes of a privileged token confirmed in the browser (`kinko token create`):
kinko.identity.token_requests. Every route needs a person's own session (never an API
token), and only the person who started a request confirms it or collects its token.

- ``POST /v1/tokens/requests``: the CLI asks for your own token with its exact terms; a
  request code (for polling), a user code and the console page to confirm it on.
- ``POST /v1/tokens/requests/token``: poll with the request code; 400 with RFC 8628's
  error names until the token is issued (200, the token text exactly once).
- ``POST /v1/tokens/requests/challenge``, ``/approve``, ``/deny``: what the console's
  /console/tokens/confirm page calls (a WebAuthn challenge bound to the terms; the
  assertion over it; or a refusal).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from pydantic import Field

from kinko.api.auth import authenticated
from kinko.api.deps import get_ctx
from kinko.context import Context
from kinko.core.clock import isoformat
from kinko.identity.model import Principal
from kinko.identity.token_requests import CONFIRM_PATH, TokenRequest, TokenRequestService
from kinko.identity.views import Body, TokenTermsBody

router = APIRouter(tags=["tokens"])
Ctx = Annotated[Context, Depends(get_ctx)]
Person = Annotated[Principal, Depends(authenticated(person=True))]


class TokenRequestBegin(TokenTermsBody):
    client: str = Field(
        default="kinko-cli",
        min_length=1,
        max_length=200,
        description="what asks, e.g. 'kinko-cli 1.2.0 on host'",
    )


class RequestCode(Body):
    request_code: str = Field(min_length=1, max_length=200)


class UserCode(Body):
    user_code: str = Field(min_length=1, max_length=32)


class Confirm(UserCode):
    challenge_id: str = Field(min_length=1, max_length=64)
    credential: dict[str, Any]


def _ip(request: Request) -> str | None:
    return request.client.host if request.client is not None else None


def render_request(found: TokenRequest) -> dict[str, Any]:
    return {
        "user_code": found.user_code,
        "token": found.terms.fields(),
        "client": found.client,
        "source_ip": found.source_ip,
        "requested_at": isoformat(found.created_at),
        "expires_at": isoformat(found.expires_at),
        "status": found.status,
    }


@router.post("/v1/tokens/requests")
def begin(body: TokenRequestBegin, request: Request, principal: Person, ctx: Ctx) -> Any:
    """Ask for your own token (privileged permissions included), to be confirmed in the
    console with your security key."""
    started = TokenRequestService(ctx).begin(
        principal.subject,
        name=body.name,
        permissions=body.permissions,
        assets=body.assets,
        ip_allowlist=body.ip_allowlist,
        ttl=timedelta(days=body.ttl_days),
        client=body.client,
        source_ip=_ip(request),
    )
    # The page is on the WebAuthn origin: the only one a security key answers.
    page = f"{ctx.settings.webauthn_origin}{CONFIRM_PATH}"
    return {
        "request_code": started.request_code,
        "user_code": started.user_code,
        "verification_uri": page,
        "verification_uri_complete": f"{page}?code={started.user_code}",
        "expires_in": started.expires_in,
        "interval": started.interval,
        "token": started.terms.fields(),
    }


@router.post("/v1/tokens/requests/token")
def collect(body: RequestCode, principal: Person, ctx: Ctx) -> Any:
    """The token, once you confirmed it in the console: shown once."""
    got = TokenRequestService(ctx).poll(principal.subject, body.request_code)
    return {
        "id": got.token_id,
        "token": got.token,
        "note": "shown once; store it now",
        **{k: v for k, v in got.terms.fields().items() if k != "request"},
    }


@router.post("/v1/tokens/requests/challenge")
def challenge(body: UserCode, principal: Person, ctx: Ctx) -> Any:
    """A one-time WebAuthn challenge bound to this request's exact token and to you."""
    with ctx.db.transaction() as session:
        challenge_id, options, found = TokenRequestService(ctx).challenge(
            session, body.user_code, principal.subject
        )
    return {"challenge_id": challenge_id, "options": options, "request": render_request(found)}


@router.post("/v1/tokens/requests/approve")
def approve(body: Confirm, request: Request, principal: Person, ctx: Ctx) -> Any:
    found = TokenRequestService(ctx).approve(
        body.user_code,
        principal.subject,
        body.challenge_id,
        body.credential,
        source_ip=_ip(request),
    )
    return {**render_request(found), "approved_by": principal.username}


@router.post("/v1/tokens/requests/deny")
def deny(body: UserCode, request: Request, principal: Person, ctx: Ctx) -> Any:
    with ctx.db.transaction() as session:
        found = TokenRequestService(ctx).deny(
            session, body.user_code, principal.subject, source_ip=_ip(request)
        )
    return {**render_request(found), "denied_by": principal.username}
