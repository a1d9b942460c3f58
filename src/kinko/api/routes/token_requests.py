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
from kinko.api.deps import AppServices, get_ctx
from kinko.api.routes import confirmation as confirming
from kinko.api.routes.confirmation import add_person_routes, begun_answer, client_ip
from kinko.context import Context
from kinko.identity.model import Principal
from kinko.identity.token_requests import CONFIRM_PATH, TokenRequest
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


def render_request(found: TokenRequest) -> dict[str, Any]:
    return confirming.render_request(found, token=found.terms.fields())


@router.post("/v1/tokens/requests")
def begin(
    body: TokenRequestBegin, request: Request, principal: Person, ctx: Ctx, services: AppServices
) -> Any:
    """Ask for your own token (privileged permissions included), to be confirmed in the
    console with your security key."""
    started = services.token_requests.begin(
        principal.subject,
        name=body.name,
        permissions=body.permissions,
        assets=body.assets,
        ip_allowlist=body.ip_allowlist,
        ttl=timedelta(days=body.ttl_days),
        client=body.client,
        source_ip=client_ip(request),
    )
    answer = begun_answer(ctx, CONFIRM_PATH, "request_code", started)
    return {**answer, "token": started.terms.fields()}


@router.post("/v1/tokens/requests/token")
def collect(body: RequestCode, principal: Person, ctx: Ctx, services: AppServices) -> Any:
    """The token, once you confirmed it in the console: shown once."""
    got = services.token_requests.poll(principal.subject, body.request_code)
    return {
        "id": got.token_id,
        "token": got.token,
        "note": "shown once; store it now",
        **{k: v for k, v in got.terms.fields().items() if k != "request"},
    }


add_person_routes(
    router,
    "/v1/tokens/requests",
    lambda services: services.token_requests,
    render=render_request,
    name="",
    challenge_doc="A one-time WebAuthn challenge bound to this request's exact token and to you.",
)
