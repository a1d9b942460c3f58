"""The device-login approval page: ``/console/device?code=ABCD-EFGH``.

`kinko login` shows a code and this address. The signed-in person sees what asks (the
code, the client, the address it asked from and when) and approves with a fresh WebAuthn
assertion over a challenge bound to that request (``static/device.js`` wiring the shared
``static/confirm.js``: the API's ``/v1/auth/device/challenge`` and ``/approve``), or denies
it with the form here. The page, its form and its script are a confirmation page
(kinko.web.confirmation); what is the device login's own is its template and wording.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from kinko.context import Context
from kinko.identity.device import DeviceRequest
from kinko.web.confirmation import ConfirmationPage

router = APIRouter(include_in_schema=False)


def _values(ctx: Context, found: DeviceRequest | None) -> dict[str, Any]:
    return {"hours": round(ctx.settings.cli_session_ttl_s / 3600, 1)}


PAGE = ConfirmationPage[DeviceRequest](
    "device", "/console/device", "a person denies a device login", _values
)
PAGE.add_routes(router, lambda services: services.device_logins)
