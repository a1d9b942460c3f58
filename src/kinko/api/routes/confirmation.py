"""What the HTTP routes of a pending browser confirmation share (kinko.identity.confirmation),
for `kinko login` (kinko.api.routes.device) and `kinko token create --browser`
(kinko.api.routes.token_requests): the answer to ``begin``, how a request is shown, and
the signed-in person's side under each purpose's prefix — ``/challenge`` (a WebAuthn
challenge bound to the request), ``/approve`` (the assertion over it), ``/deny``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Depends, Request
from pydantic import Field

from kinko.api.auth import authenticated
from kinko.api.deps import AppServices, get_ctx
from kinko.context import Context
from kinko.core.clock import isoformat
from kinko.identity.confirmation import Begun, Confirmations, PendingRequest
from kinko.identity.model import Principal
from kinko.identity.views import Body
from kinko.services import Services

View = TypeVar("View", bound=PendingRequest)
Render = Callable[[View], dict[str, Any]]
Ctx = Annotated[Context, Depends(get_ctx)]
Person = Annotated[Principal, Depends(authenticated(person=True))]


class UserCode(Body):
    user_code: str = Field(min_length=1, max_length=32)


class Approval(UserCode):
    challenge_id: str = Field(min_length=1, max_length=64)
    credential: dict[str, Any]


def client_ip(request: Request) -> str | None:
    return request.client.host if request.client is not None else None


def render_request(found: PendingRequest, **extra: Any) -> dict[str, Any]:
    """A request as the console page and the CLI see it (`extra`: the purpose's own)."""
    return {
        "user_code": found.user_code,
        **extra,
        "client": found.client,
        "source_ip": found.source_ip,
        "requested_at": isoformat(found.created_at),
        "expires_at": isoformat(found.expires_at),
        "status": found.status,
    }


def begun_answer(ctx: Context, path: str, code_key: str, begun: Begun) -> dict[str, Any]:
    """RFC 8628 §3.2's answer: the code to poll with (named `code_key`), the user code and
    the page to answer on — on the WebAuthn origin, the only one a security key answers."""
    page = f"{ctx.settings.webauthn_origin}{path}"
    return {
        code_key: begun.code,
        "user_code": begun.user_code,
        "verification_uri": page,
        "verification_uri_complete": f"{page}?code={begun.user_code}",
        "expires_in": begun.expires_in,
        "interval": begun.interval,
    }


def add_person_routes(
    router: APIRouter,
    prefix: str,
    service_of: Callable[[Services], Confirmations[Any, View]],
    *,
    render: Render[View],
    name: str,
    challenge_doc: str,
) -> None:
    """Register ``{prefix}/challenge``, ``/approve`` and ``/deny`` on `router`: what the
    purpose's console page calls, each with a person's own session (never an API token).
    `name` prefixes the routes' names (and so their OpenAPI operation ids)."""

    @router.post(f"{prefix}/challenge", name=f"{name}challenge", description=challenge_doc)
    def challenge(body: UserCode, principal: Person, ctx: Ctx, services: AppServices) -> Any:
        with ctx.db.transaction() as session:
            challenge_id, options, found = service_of(services).challenge(
                session, body.user_code, principal.subject
            )
        return {"challenge_id": challenge_id, "options": options, "request": render(found)}

    @router.post(f"{prefix}/approve", name=f"{name}approve")
    def approve(body: Approval, request: Request, principal: Person, services: AppServices) -> Any:
        found = service_of(services).approve(
            body.user_code,
            principal.subject,
            body.challenge_id,
            body.credential,
            source_ip=client_ip(request),
        )
        return {**render(found), "approved_by": principal.username}

    @router.post(f"{prefix}/deny", name=f"{name}deny")
    def deny(
        body: UserCode, request: Request, principal: Person, ctx: Ctx, services: AppServices
    ) -> Any:
        with ctx.db.transaction() as session:
            found = service_of(services).deny(
                session, body.user_code, principal.subject, source_ip=client_ip(request)
            )
        return {**render(found), "denied_by": principal.username}
