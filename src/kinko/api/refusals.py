"""Refused insiders are seen: an authenticated caller refused a step becomes an
``authz.refused`` security event (issue 13, "refused and alerted").

Every person's action reaches Kinko through the API (the CLI included: it acts with the
person's own session, `kinko.cli.api`), and every refusal leaves a route as a `KinkoError`
that the app's one error handler turns into the answer. That handler calls
`refusal_event`; the event is published on the bus after the refused request's
transaction has rolled back, so the refusal stays visible although nothing it tried was
written. The default rule ``kinko-insider-refused`` alerts on it (alert only: locking
people out on refusals would hand anyone a lever to lock out a colleague).

What counts: a caller Kinko authenticated (a session or an API token, so ``actor`` is
``user:<id>``) refused by authorisation or a four-eyes rule: any `PermissionDenied` or
`ApprovalError` (403: a missing permission, a scope, a token where a person must act,
self-approval, self-grant, a token for someone else, a requester approving, a replayed
approval...), a refused step-up (401 once authenticated), and the conflicts that are
four-eyes refusals (below). Unauthenticated failures (bad tokens, sign-ins: 401 with no
caller) are not: the sign-in throttle and the credential-stuffing rules cover them, and an
anonymous flood must not become an alert flood.
"""

from __future__ import annotations

import ipaddress
from typing import Any

from starlette.requests import Request

from kinko.core.errors import (
    ApprovalError,
    AuthenticationError,
    Conflict,
    KinkoError,
    PermissionDenied,
)
from kinko.core.events import SecurityEvent
from kinko.identity.model import Principal

EVENT_TYPE = "authz.refused"
# Conflicts (409) that are a four-eyes rule saying no, not a stale or duplicate request.
FOUR_EYES_CONFLICTS = frozenset(
    {
        "last_two_admins",  # suspending / removing / revoking one of the last two admins
        "proposer_ineligible",  # approving a proposal whose proposer lost the role
        "has_factors",  # a new enrolment secret for someone who can sign in (take-over)
        "already_voted",  # a second release vote by the same person
    }
)
# Refusals that are not the caller's doing: the process runs a policy two admins did not
# approve (its operator is told at start, `kinko.policy.versions`).
NOT_THE_CALLERS = frozenset({"policy_not_approved"})


def is_refusal(exc: KinkoError) -> bool:
    if exc.code in NOT_THE_CALLERS:
        return False
    if isinstance(exc, PermissionDenied | ApprovalError | AuthenticationError):
        return True
    return isinstance(exc, Conflict) and exc.code in FOUR_EYES_CONFLICTS


def _ip(text: str | None) -> str | None:
    if text is None:
        return None
    try:
        return str(ipaddress.ip_address(text))
    except ValueError:
        return None  # e.g. a test client's "testclient"


def refusal_event(request: Request, exc: KinkoError) -> SecurityEvent | None:
    """The ``authz.refused`` event for `exc` answered to `request`, or None when the
    caller was not authenticated or `exc` is not a refusal."""
    principal = getattr(request.state, "principal", None)
    if not isinstance(principal, Principal) or not is_refusal(exc):
        return None
    route = request.scope.get("route")
    fields: dict[str, Any] = {
        "code": exc.code,
        "status": exc.http_status,
        "method": request.method,
        "route": getattr(route, "path", None) or request.url.path,
        "credential": "session" if principal.kind == "user" else "token",
        "username": principal.username,
    }
    if principal.token_id is not None:
        fields["token_id"] = str(principal.token_id)
    return SecurityEvent(
        type=EVENT_TYPE,
        time=request.app.state.ctx.clock.now(),
        actor=f"user:{principal.subject}",
        outcome="refused",
        source_ip=_ip(principal.source_ip),
        severity="high",
        fields=fields,
    )
