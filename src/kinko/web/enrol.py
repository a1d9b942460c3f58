"""The enrolment page: a new person registers a security key or passkey.

``/console/enrol`` asks for the username and the one-time enrolment secret that
``kinko user add`` (or ``kinko init``, for the first administrator) printed; its script
(``static/enrol.js``) runs ``navigator.credentials.create`` over the options of
``POST /v1/auth/enrol/webauthn/begin`` and posts the result to ``.../finish``, which
registers the credential, consumes the secret and signs the person in. The server's
checks are the API's: this page only carries the ceremony.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response

from kinko.api.auth import public
from kinko.api.deps import get_ctx
from kinko.context import Context
from kinko.web.console import HERE, SECURITY_HEADERS, render

router = APIRouter(include_in_schema=False)
Ctx = Annotated[Context, Depends(get_ctx)]


@router.get("/console/enrol", dependencies=[public()], response_class=HTMLResponse)
def enrol_page(request: Request, ctx: Ctx, username: str = "") -> HTMLResponse:
    return render(
        request,
        "enrol.html",
        username=username[:64],
        rp_id=ctx.settings.webauthn_rp_id,
        origin=ctx.settings.webauthn_origin,
    )


def static_script(name: str) -> Response:
    """One of the console's own scripts (external: the CSP allows no inline script)."""
    return Response(
        (HERE / "static" / name).read_bytes(),
        media_type="text/javascript",
        headers=SECURITY_HEADERS,
    )


@router.get("/console/static/webauthn.js", dependencies=[public()])
def webauthn_js() -> Response:
    return static_script("webauthn.js")


@router.get("/console/static/enrol.js", dependencies=[public()])
def enrol_js() -> Response:
    return static_script("enrol.js")
