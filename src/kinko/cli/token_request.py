"""`kinko token create` of a privileged token: confirmed in the browser with a security key.

A token carrying a privileged permission needs its owner's fresh WebAuthn assertion, and
a terminal has no security key. So the CLI (signed in as the person) asks the API for the
token with its exact terms (``POST /v1/tokens/requests``), prints the console page and a
short code, and polls (``/v1/tokens/requests/token``) while the person, signed in as
themselves in the browser, checks exactly what is being created and confirms it with
their key; the token text comes back once (kinko.identity.token_requests). The same
RFC 8628 poll answers as `kinko login`.
"""

from __future__ import annotations

from time import monotonic, sleep
from typing import TYPE_CHECKING, Any

from kinko.cli.common import err_console
from kinko.core.errors import InputError, PermissionDenied

if TYPE_CHECKING:
    from kinko.cli.api import Api

SLOW_DOWN_S = 5


def confirmed_in_browser(api: Api, terms: dict[str, Any], client: str) -> dict[str, Any]:
    """Ask for the token `terms` describe, show where to confirm it, wait for the token."""
    from kinko.cli import api as kapi

    begun = api.post("/v1/tokens/requests", {**terms, "client": client})
    try:
        request_code = str(begun["request_code"])
        user_code = str(begun["user_code"])
        interval = max(1, int(begun.get("interval", 5)))
        expires_in = int(begun.get("expires_in", 600))
        page = str(begun.get("verification_uri_complete") or begun["verification_uri"])
        uri = str(begun["verification_uri"])
        asked = begun["token"]
    except (KeyError, TypeError, ValueError):
        raise InputError("addr", f"{api.addr} did not answer as a Kinko server") from None
    err_console.print(
        f"Token {asked['name']!r} carries privileged permissions "
        f"({', '.join(asked['permissions'])}): confirm it with your security key.\n"
        f"Open this page in your browser, signed in as yourself:\n  {page}\n"
        f"(or open {uri} and enter the code {user_code}). Check that it shows exactly this "
        f"token; the code is {user_code} and expires in {expires_in // 60} min. Waiting…",
        markup=False,
        highlight=False,
        soft_wrap=True,
    )
    deadline = monotonic() + expires_in + interval
    while monotonic() < deadline:
        sleep(interval)
        status, data = api.request(
            "POST",
            "/v1/tokens/requests/token",
            body={"request_code": request_code},
            accept=(400,),
        )
        if status == 200 and isinstance(data, dict):
            return data
        error = data.get("error") if isinstance(data, dict) else None
        if error == "authorization_pending":
            continue
        if error == "slow_down":
            interval += SLOW_DOWN_S
            continue
        if error == "access_denied":
            raise PermissionDenied("no token: it was refused in the browser", code=error)
        if error == "expired_token":
            break
        message = data.get("message") if isinstance(data, dict) else None
        raise kapi.ApiError(status, str(error or "http_error"), str(message or error))
    raise PermissionDenied(
        "no token: the code expired before it was confirmed; run 'kinko token create' again",
        code="expired_token",
    )
