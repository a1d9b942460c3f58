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
from pydantic import Field
from starlette.concurrency import run_in_threadpool

from kinko.api.auth import authenticated, public
from kinko.api.deps import AppServices, get_ctx
from kinko.api.routes.confirmation import (
    add_person_routes,
    begun_answer,
    client_ip,
    render_request,
)
from kinko.context import Context
from kinko.core.clock import isoformat
from kinko.identity.device import VERIFICATION_PATH
from kinko.identity.model import Principal
from kinko.identity.views import Body

router = APIRouter(tags=["device login"])
Ctx = Annotated[Context, Depends(get_ctx)]
Person = Annotated[Principal, Depends(authenticated(person=True))]


class DeviceBegin(Body):
    client: str = Field(
        min_length=1, max_length=200, description="what asks, e.g. 'kinko-cli 1.2.0 on host'"
    )


class DeviceToken(Body):
    device_code: str = Field(min_length=1, max_length=200)


@router.post("/v1/auth/device/begin", dependencies=[public()])
async def device_begin(body: DeviceBegin, request: Request, ctx: Ctx, services: AppServices) -> Any:
    begun = await run_in_threadpool(
        services.device_logins.begin, body.client, source_ip=client_ip(request)
    )
    return begun_answer(ctx, VERIFICATION_PATH, "device_code", begun)


@router.post("/v1/auth/device/token", dependencies=[public()])
async def device_token(body: DeviceToken, request: Request, ctx: Ctx, services: AppServices) -> Any:
    issued = await run_in_threadpool(
        services.device_logins.poll, body.device_code, source_ip=client_ip(request)
    )
    return {
        "session_token": issued.session_token,
        "token_type": "Bearer",
        "expires_at": isoformat(issued.expires_at),
        "username": issued.username,
        "user_id": issued.user_id,
    }


add_person_routes(
    router,
    "/v1/auth/device",
    lambda services: services.device_logins,
    render=render_request,
    name="device_",
    challenge_doc="A one-time WebAuthn challenge that commits to this device login and to you.",
)
