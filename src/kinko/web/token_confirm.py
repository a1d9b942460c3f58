"""The token confirmation page: ``/console/tokens/confirm?code=ABCD-EFGH``.

`kinko token create` of a privileged token shows a code and this address. The signed-in
owner sees exactly what token is being created (name, permissions, assets, lifetime and
the date it would end, allowlist; the client and address that asked) and confirms it with
a fresh WebAuthn assertion over a challenge bound to those terms
(``static/token_confirm.js`` wiring the shared ``static/confirm.js``: the API's
``/v1/tokens/requests/challenge`` and ``/approve``), or refuses it with the form here.
Anyone else is told it is not theirs. The page, its form and its script are a confirmation
page (kinko.web.confirmation); what is the token request's own is the terms it shows.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from kinko.context import Context
from kinko.core.clock import isoformat
from kinko.identity.permissions import PRIVILEGED_PERMISSIONS
from kinko.identity.token_requests import TokenRequest
from kinko.web.confirmation import ConfirmationPage

router = APIRouter(include_in_schema=False)


def _values(ctx: Context, found: TokenRequest | None) -> dict[str, Any]:
    if found is None:
        return {"privileged": [], "days": 0, "ends_about": ""}
    days = found.terms.ttl_seconds / 86400
    return {
        "privileged": sorted(PRIVILEGED_PERMISSIONS & set(found.terms.permissions)),
        "days": int(days) if days == int(days) else round(days, 2),
        # The token's lifetime starts when it is collected, right after confirmation.
        "ends_about": isoformat(ctx.clock.now() + found.terms.ttl),
    }


PAGE = ConfirmationPage[TokenRequest](
    "token_confirm", "/console/tokens/confirm", "a person refuses a token request", _values
)
PAGE.add_routes(router, lambda services: services.token_requests)


__all__ = ["router"]
