"""What the API accepts before it reads a request: the client address, and body sizes.

`RequestLimits` is a plain ASGI middleware, outermost in the app, so it runs before any
route reads a body or any credential is checked:

- **Client address.** ``X-Forwarded-For`` is honoured only when the connection comes from
  one of `trusted_proxies` (addresses or networks; none by default). Then the client is
  the right-most address in the header that is not itself a trusted proxy (the one the
  nearest trusted proxy saw). From anyone else the header is ignored, so a local process
  cannot pose as an allow-listed address or dodge the per-address sign-in throttle.
  uvicorn's own proxy-header handling is switched off (``proxy_headers=False``) where
  Kinko starts uvicorn; this middleware is the one place the header is read.
- **Body size.** A body larger than `max_request_bytes` (1 MiB by default) is refused with
  ``413 body_too_large`` before it is read: at once when ``Content-Length`` says so,
  otherwise as soon as the bytes received pass the limit (chunked uploads). A few routes
  allow more (`LARGE_BODY_ROUTES`: screening-list uploads, `max_list_upload_bytes`), and
  only to a caller whose credentials check out first (for a statement, an unscoped grant:
  the route refuses any other); anyone else keeps the default.
"""

from __future__ import annotations

import ipaddress
import json
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from kinko.core.errors import KinkoError
from kinko.core.networks import Network, parse_networks

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

# (method, path) -> (the setting naming its larger limit, the permission it needs).
LARGE_BODY_ROUTES = {
    ("POST", "/v1/screening/lists"): ("max_list_upload_bytes", "screening:write"),
    ("POST", "/v1/custody/statements"): ("max_statement_upload_bytes", "liabilities:import"),
}
# Permissions whose large-body route accepts only an unscoped grant (a statement spans every
# asset): a caller limited to some assets or wallets keeps the default limit.
UNSCOPED_ONLY = frozenset({"liabilities:import"})


def _address(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    text = text.strip()
    if text.startswith("[") and "]" in text:  # [v6]:port
        text = text[1 : text.index("]")]
    elif text.count(":") == 1:  # v4:port
        text = text.split(":", 1)[0]
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


def _trusted(address: str | None, proxies: tuple[Network, ...]) -> bool:
    parsed = None if address is None else _address(address)
    return parsed is not None and any(parsed in network for network in proxies)


def client_address(
    peer: str | None, forwarded_for: list[str], proxies: tuple[Network, ...]
) -> str | None:
    """The client's address: `peer` unless `peer` is a trusted proxy, then the right-most
    ``X-Forwarded-For`` entry that is not a trusted proxy (a malformed one ends the walk:
    nothing left of it can be trusted)."""
    if not proxies or not forwarded_for or not _trusted(peer, proxies):
        return peer
    hops = [h for header in forwarded_for for h in header.split(",") if h.strip()]
    client = peer
    for hop in reversed(hops):
        parsed = _address(hop)
        if parsed is None:
            break
        client = str(parsed)
        if not any(parsed in network for network in proxies):
            break
    return client


class BodyTooLarge(KinkoError):
    code = "body_too_large"
    exit_code = 2
    http_status = 413


Authenticate = Callable[[Scope, str], Awaitable[bool]]


class RequestLimits:
    """See the module docstring. `authenticate(scope, permission)` answers whether a
    request's credentials check out and hold `permission` (for the routes allowed a
    larger body); `large_bodies` maps (method, path) to (limit, permission)."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        max_body: int,
        large_bodies: dict[tuple[str, str], tuple[int, str]] | None = None,
        trusted_proxies: tuple[Network, ...] = (),
        authenticate: Authenticate | None = None,
    ) -> None:
        self.app = app
        self.max_body = max_body
        self.large_bodies = dict(large_bodies or {})
        self.trusted_proxies = trusted_proxies
        self.authenticate = authenticate

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        self._set_client(scope)
        limit = await self._limit_for(scope)
        declared = _content_length(scope)
        if declared is not None and declared > limit:
            await _refuse(send, scope, limit)
            return
        await self._bounded(scope, receive, send, limit)

    def _set_client(self, scope: Scope) -> None:
        client = scope.get("client")
        peer = None if client is None else str(client[0])
        forwarded = [
            value.decode("latin-1")
            for name, value in scope.get("headers", [])
            if name.lower() == b"x-forwarded-for"
        ]
        address = client_address(peer, forwarded, self.trusted_proxies)
        if address != peer and address is not None:
            scope["client"] = (address, 0)

    async def _limit_for(self, scope: Scope) -> int:
        route = self.large_bodies.get((scope["method"], scope["path"]))
        if route is None or route[0] <= self.max_body:
            return self.max_body
        declared = _content_length(scope)
        if declared is not None and declared <= self.max_body:
            return self.max_body  # small enough either way: no credential check here
        if self.authenticate is not None and await self.authenticate(scope, route[1]):
            return route[0]
        return self.max_body

    async def _bounded(self, scope: Scope, receive: Receive, send: Send, limit: int) -> None:
        received = 0
        refused = False
        started = False

        async def counted_receive() -> Message:
            nonlocal received, refused
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit and not refused:
                    refused = True
                    if not started:
                        await _refuse(send, scope, limit)
                    # The app sees the client gone; what it answers is dropped.
                    return {"type": "http.disconnect"}
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal started
            if refused:
                return
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counted_receive, guarded_send)
        except Exception:
            if not refused:
                raise


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", []):
        if name.lower() == b"content-length":
            try:
                return max(0, int(value))
            except ValueError:
                return None
    return None


async def _refuse(send: Send, scope: Scope, limit: int) -> None:
    route = LARGE_BODY_ROUTES.get((scope["method"], scope["path"]))
    hint = (
        f" (max_request_bytes for a caller not yet authenticated with {route[1]}, "
        f"{route[0]} for one who is)"
        if route
        else " (max_request_bytes)"
    )
    error = BodyTooLarge(f"the request body is larger than {limit} bytes{hint}")
    body = json.dumps(error.to_dict()).encode("utf-8")
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode("ascii")),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


async def _holds(scope: Scope, permission: str) -> bool:
    """The request's bearer token, or session cookie with its CSRF header, resolves to a
    caller holding `permission` (never reads the body; the result is cached on the
    request, so the route's own check reuses it)."""
    from starlette.requests import Request

    from kinko.api.auth import resolve_principal
    from kinko.identity.sessions import CSRF_HEADER

    request = Request(scope)
    if "authorization" not in request.headers and CSRF_HEADER not in request.headers:
        return False  # a form's CSRF field would mean reading the body first
    try:
        principal = await resolve_principal(request)
    except KinkoError:
        return False
    if permission in UNSCOPED_ONLY:
        return principal.unscoped(permission)
    return principal.has(permission)


def install(app: Any, settings: Any) -> None:
    """Add `RequestLimits` to a FastAPI app with the limits and proxies of `settings`."""
    app.add_middleware(
        RequestLimits,
        max_body=settings.max_request_bytes,
        large_bodies={
            key: (int(getattr(settings, name)), permission)
            for key, (name, permission) in LARGE_BODY_ROUTES.items()
        },
        trusted_proxies=parse_networks(settings.trusted_proxies),
        authenticate=_holds,
    )
