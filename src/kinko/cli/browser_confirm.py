"""The CLI's side of a pending browser confirmation, shared by `kinko login` and
`kinko token create --browser` (kinko.identity.confirmation on the server): read the
server's answer to the request, then poll it with RFC 8628's rules (§3.4-3.5: wait
`interval` between polls, 5 s more after ``slow_down``) until the person answers in the
browser or the code expires. Nothing here opens the database.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from kinko.cli import api as kapi
from kinko.core.errors import InputError

SLOW_DOWN_S = 5


@dataclass(frozen=True, slots=True)
class Asked:
    """The server's answer to a request: the code to poll with, the person's user code,
    how often to poll and for how long, and the page to answer on."""

    code: str
    user_code: str
    interval: int
    expires_in: int
    page: str  # verification_uri_complete (the code filled in)
    uri: str  # verification_uri (the person types the code)


def read_asked(api: kapi.Api, answer: dict[str, Any], code_key: str) -> Asked:
    try:
        return Asked(
            code=str(answer[code_key]),
            user_code=str(answer["user_code"]),
            interval=max(1, int(answer.get("interval", 5))),
            expires_in=int(answer.get("expires_in", 600)),
            page=str(answer.get("verification_uri_complete") or answer["verification_uri"]),
            uri=str(answer["verification_uri"]),
        )
    except (KeyError, TypeError, ValueError):
        raise InputError("addr", f"{api.addr} did not answer as a Kinko server") from None


def wait_for_answer(
    api: kapi.Api,
    path: str,
    body: dict[str, Any],
    asked: Asked,
    *,
    refused: Callable[[], Exception],
    expired: Callable[[], Exception],
    sleep: Callable[[float], None] = time.sleep,
    monotonic: Callable[[], float] = time.monotonic,
) -> dict[str, Any]:
    """Poll `path` with `body` until it answers 200 (its document); `refused()` is raised
    when the person denied the request, `expired()` when the code expired first."""
    interval = asked.interval
    deadline = monotonic() + asked.expires_in + interval
    while monotonic() < deadline:
        sleep(interval)
        status, data = api.request("POST", path, body=body, accept=(400,))
        if status == 200 and isinstance(data, dict):
            return data
        error = data.get("error") if isinstance(data, dict) else None
        if error == "authorization_pending":
            continue
        if error == "slow_down":
            interval += SLOW_DOWN_S
            continue
        if error == "access_denied":
            raise refused()
        if error == "expired_token":
            break
        message = data.get("message") if isinstance(data, dict) else None
        raise kapi.ApiError(status, str(error or "http_error"), str(message or error))
    raise expired()
