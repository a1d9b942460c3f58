"""HTTP routes of the device login (`kinko login`): RFC 8628, adapted (identity/device.py).

- ``POST /v1/auth/device/begin`` (public, rate-limited per source address): a device code
  for the CLI, a user code for the person, where to approve.
- ``POST /v1/auth/device/token`` (public): poll with the device code; 400 with RFC 8628's
  error names until the session is issued (200, exactly once).
- ``POST /v1/auth/device/challenge``, ``/approve``, ``/deny``: the signed-in person's side
  (a person's session, never an API token), what the console's /console/device page calls.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from kinko.api.auth import authenticated, public
from kinko.api.deps import get_ctx
from kinko.context import Context
from kinko.core.clock import isoformat
from kinko.identity.device import VERIFICATION_PATH, DeviceLoginService, DeviceRequest
from kinko.identity.model import Principal

router = APIRouter(tags=["device login"])
Ctx = Annotated[Context, Depends(get_ctx)]
Person = Annotated[Principal, Depends(authenticated(person=True))]


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class DeviceBegin(_Body):
    client: str = Field(
        min_length=1, max_length=200, description="what asks, e.g. 'kinko-cli 1.2.0 on host'"
    )


class DeviceToken(_Body):
    device_code: str = Field(min_length=1, max_length=200)


class UserCode(_Body):
    user_code: str = Field(min_length=1, max_length=32)


class DeviceApprove(UserCode):
    challenge_id: str = Field(min_length=1, max_length=64)
    credential: dict[str, Any]


def _ip(request: Request) -> str | None:
    return request.client.host if request.client is not None else None


def render_request(found: DeviceRequest) -> dict[str, Any]:
    return {
        "user_code": found.user_code,
        "client": found.client,
        "source_ip": found.source_ip,
        "requested_at": isoformat(found.created_at),
        "expires_at": isoformat(found.expires_at),
        "status": found.status,
    }


@router.post("/v1/auth/device/begin", dependencies=[public()])
async def device_begin(body: DeviceBegin, request: Request, ctx: Ctx) -> Any:
    begun = await run_in_threadpool(
        DeviceLoginService(ctx).begin, body.client, source_ip=_ip(request)
    )
    # The approval page is on the WebAuthn origin: the only one a security key answers.
    base = ctx.settings.webauthn_origin
    return {
        "device_code": begun.device_code,
        "user_code": begun.user_code,
        "verification_uri": f"{base}{VERIFICATION_PATH}",
        "verification_uri_complete": f"{base}{VERIFICATION_PATH}?code={begun.user_code}",
        "expires_in": begun.expires_in,
        "interval": begun.interval,
    }


@router.post("/v1/auth/device/token", dependencies=[public()])
async def device_token(body: DeviceToken, request: Request, ctx: Ctx) -> Any:
    issued = await run_in_threadpool(
        DeviceLoginService(ctx).poll, body.device_code, source_ip=_ip(request)
    )
    return {
        "session_token": issued.session_token,
        "token_type": "Bearer",
        "expires_at": isoformat(issued.expires_at),
        "username": issued.username,
        "user_id": issued.user_id,
    }


@router.post("/v1/auth/device/challenge")
def device_challenge(body: UserCode, principal: Person, ctx: Ctx) -> Any:
    """A one-time WebAuthn challenge that commits to this device login and to you."""
    service = DeviceLoginService(ctx)
    with ctx.db.transaction() as session:
        challenge_id, options = service.challenge(session, body.user_code, principal.subject)
        found = service.request(session, body.user_code)
    return {"challenge_id": challenge_id, "options": options, "request": render_request(found)}


@router.post("/v1/auth/device/approve")
def device_approve(body: DeviceApprove, request: Request, principal: Person, ctx: Ctx) -> Any:
    found = DeviceLoginService(ctx).approve(
        body.user_code,
        principal.subject,
        body.challenge_id,
        body.credential,
        source_ip=_ip(request),
    )
    return {**render_request(found), "approved_by": principal.username}


@router.post("/v1/auth/device/deny")
def device_deny(body: UserCode, request: Request, principal: Person, ctx: Ctx) -> Any:
    with ctx.db.transaction() as session:
        found = DeviceLoginService(ctx).deny(
            session, body.user_code, principal.subject, source_ip=_ip(request)
        )
    return {**render_request(found), "denied_by": principal.username}
