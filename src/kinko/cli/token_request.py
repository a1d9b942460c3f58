"""`kinko token create` of a privileged token: confirmed in the browser with a security key.

A token carrying a privileged permission needs its owner's fresh WebAuthn assertion, and
a terminal has no security key. So the CLI (signed in as the person) asks the API for the
token with its exact terms (``POST /v1/tokens/requests``), prints the console page and a
short code, and polls (``/v1/tokens/requests/token``) while the person, signed in as
themselves in the browser, checks exactly what is being created and confirms it with
their key; the token text comes back once (kinko.identity.token_requests). The polling is
`kinko login`'s (kinko.cli.browser_confirm).
"""

from __future__ import annotations

from time import monotonic, sleep
from typing import TYPE_CHECKING, Any

from kinko.cli.browser_confirm import read_asked, wait_for_answer
from kinko.cli.common import err_console
from kinko.core.errors import InputError, PermissionDenied

if TYPE_CHECKING:
    from kinko.cli.api import Api


def confirmed_in_browser(api: Api, terms: dict[str, Any], client: str) -> dict[str, Any]:
    """Ask for the token `terms` describe, show where to confirm it, wait for the token."""
    begun = api.post("/v1/tokens/requests", {**terms, "client": client})
    asked = read_asked(api, begun, "request_code")
    try:
        name, permissions = begun["token"]["name"], begun["token"]["permissions"]
    except (KeyError, TypeError):
        raise InputError("addr", f"{api.addr} did not answer as a Kinko server") from None
    err_console.print(
        f"Token {name!r} carries privileged permissions "
        f"({', '.join(permissions)}): confirm it with your security key.\n"
        f"Open this page in your browser, signed in as yourself:\n  {asked.page}\n"
        f"(or open {asked.uri} and enter the code {asked.user_code}). Check that it shows "
        f"exactly this token; the code is {asked.user_code} and expires in "
        f"{asked.expires_in // 60} min. Waiting…",
        markup=False,
        highlight=False,
        soft_wrap=True,
    )
    return wait_for_answer(
        api,
        "/v1/tokens/requests/token",
        {"request_code": asked.code},
        asked,
        refused=lambda: PermissionDenied(
            "no token: it was refused in the browser", code="access_denied"
        ),
        expired=lambda: PermissionDenied(
            "no token: the code expired before it was confirmed; run 'kinko token create' again",
            code="expired_token",
        ),
        sleep=sleep,
        monotonic=monotonic,
    )
