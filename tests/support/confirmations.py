"""A person answering a pending browser confirmation (`kinko login`'s device login,
`kinko token create --browser`'s token request) as the console page's script does: the
challenge bound to the request, their key's assertion over it, the approval."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from webauthn.helpers import base64url_to_bytes

from kinko.context import Context
from kinko.identity.softauthn import SoftAuthenticator

DEVICE = "/v1/auth/device"
TOKEN_REQUESTS = "/v1/tokens/requests"


def answer_in_browser(
    api: TestClient,
    ctx: Context,
    user_code: str,
    headers: dict[str, str],
    auth: SoftAuthenticator,
    *,
    prefix: str,
    client: str | None = None,
) -> Any:
    """The answer of ``{prefix}/approve`` (the challenge must be issued, for this code and,
    given `client`, for that client)."""
    issued = api.post(f"{prefix}/challenge", json={"user_code": user_code}, headers=headers)
    assert issued.status_code == 200, issued.text
    body = issued.json()
    assert body["request"]["user_code"] == user_code
    assert client is None or body["request"]["client"] == client
    credential = auth.assert_(
        challenge=base64url_to_bytes(body["options"]["challenge"]),
        origin=ctx.settings.webauthn_origin,
    )
    return api.post(
        f"{prefix}/approve",
        json={
            "user_code": user_code,
            "challenge_id": body["challenge_id"],
            "credential": credential,
        },
        headers=headers,
    )
