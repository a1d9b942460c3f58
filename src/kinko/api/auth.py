"""Authorisation in one place: every route declares `public()` or `require(permission)`.

`require("domain:verb")` returns a FastAPI dependency that resolves the caller — an API
token (``Authorization: Bearer kko_...``) or a console session cookie, with a CSRF token
for unsafe methods — into a `Principal`, and refuses with 401 (who are you?) or 403 (not
allowed). `authenticated()` is the same without a permission (console pages, "who am I").
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator
from contextlib import suppress
from typing import Any
from weakref import WeakKeyDictionary

from fastapi import Depends, Request
from starlette.concurrency import run_in_threadpool

from kinko.core.errors import AuthenticationError, PermissionDenied
from kinko.identity.issuing import PREFIX as TOKEN_PREFIX
from kinko.identity.model import Principal, UserId
from kinko.identity.permissions import parse_permission, permissions_of
from kinko.identity.sessions import (
    COOKIE_NAME,
    CSRF_FIELD,
    CSRF_HEADER,
    csrf_ok,
    session_key,
)
from kinko.services import Services

__all__ = [
    "Principal",
    "authenticated",
    "gate",
    "public",
    "require",
    "require_person",
    "resolve_principal",
]

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def _public() -> None:
    return None


def public() -> Any:
    """Mark a route as reachable without credentials (health, login, public log data)."""
    return Depends(_public)


def _client_ip(request: Request) -> str | None:
    return request.client.host if request.client is not None else None


def _from_token(services: Services, token: str, ip: str | None) -> Principal:
    ctx = services.ctx
    tokens = services.identity.tokens
    with ctx.db.reading() as session:
        principal, row = tokens.lookup(session, token, source_ip=ip)
        note = tokens.needs_note(row, ip)
    if note:
        with ctx.db.transaction() as session:
            tokens.note_use(session, row.id, ip)
    return principal


def _from_session(services: Services, cookie: str, ip: str | None) -> Principal:
    ctx = services.ctx
    sessions = services.identity.sessions
    with ctx.db.reading() as session:
        user, due = sessions.lookup(session, cookie)
        roles = services.identity.roles.roles_of(session, user.id)
    if due:
        with ctx.db.transaction() as session:
            sessions.touch(session, cookie)
    return Principal(
        kind="user",
        subject=UserId(user.id),
        username=user.username,
        roles=roles,
        permissions=permissions_of(tuple(g.role for g in roles)),
        source_ip=ip,
        session_id=session_key(cookie)[:16],
    )


async def resolve_principal(request: Request) -> Principal:
    """Who is calling, or `AuthenticationError`. Cached on `request.state`."""
    cached = getattr(request.state, "principal", None)
    if isinstance(cached, Principal):
        return cached
    services: Services = request.app.state.services
    ip = _client_ip(request)
    header = request.headers.get("authorization")
    if header is not None:
        scheme, _, value = header.partition(" ")
        if scheme.lower() != "bearer" or not value.strip():
            raise AuthenticationError("use 'Authorization: Bearer <token>'")
        secret = value.strip()
        # An API token (kko_...), else a person's session (`kinko login`, kks_...): a
        # Bearer is never sent by a browser on its own, so it needs no CSRF token.
        from_secret = _from_token if secret.startswith(TOKEN_PREFIX) else _from_session
        principal = await run_in_threadpool(from_secret, services, secret, ip)
    else:
        cookie = request.cookies.get(COOKIE_NAME)
        if not cookie:
            raise AuthenticationError("authentication required: send an API token or sign in")
        if request.method not in SAFE_METHODS:
            presented = request.headers.get(CSRF_HEADER)
            if presented is None and request.headers.get("content-type", "").startswith(
                ("application/x-www-form-urlencoded", "multipart/form-data")
            ):
                form = await request.form()
                field = form.get(CSRF_FIELD)
                presented = field if isinstance(field, str) else None
            if not csrf_ok(cookie, presented):
                raise PermissionDenied("missing or wrong CSRF token", code="csrf_failed")
        principal = await run_in_threadpool(_from_session, services, cookie, ip)
    request.state.principal = principal
    return principal


def require_person(principal: Principal) -> None:
    """Refuse an API token where a person must act with their own session (code
    ``person_required``): a four-eyes vote, an identity change, minting a token."""
    if principal.kind != "user":
        raise PermissionDenied(
            "this needs a person signed in with their own authenticator (a console "
            "session), not an API token: a token alone never casts a four-eyes vote, "
            "changes who may do what or mints tokens",
            code="person_required",
        )


def authenticated(*, person: bool = False) -> Callable[[Request], Awaitable[Principal]]:
    """A dependency resolving any signed-in caller, whatever their permissions; with
    `person`, a console session only (`require_person`)."""

    async def dependency(request: Request) -> Principal:
        principal = await resolve_principal(request)
        if person:
            require_person(principal)
        return principal

    dependency.permission = None  # type: ignore[attr-defined]
    dependency.person = person  # type: ignore[attr-defined]
    return dependency


def require(permission: str, *, person: bool = False) -> Callable[[Request], Awaitable[Principal]]:
    """A dependency that admits only callers holding `permission` (a name from the map);
    with `person`, only through a console session (`require_person`)."""
    parse_permission(permission)

    async def dependency(request: Request) -> Principal:
        principal = await resolve_principal(request)
        if not principal.has(permission):
            raise PermissionDenied(
                f"this needs the {permission} permission", code="missing_permission"
            )
        if person:
            require_person(principal)
        return principal

    dependency.permission = permission  # type: ignore[attr-defined]
    dependency.person = person  # type: ignore[attr-defined]
    return dependency


_PUBLIC = "public"
_AUTHENTICATED = "authenticated"
_rules: WeakKeyDictionary[object, str | None] = WeakKeyDictionary()


def _calls(dependant: Any) -> Iterator[Callable[..., Any]]:
    for dep in getattr(dependant, "dependencies", []):
        if dep.call is not None:
            yield dep.call
        yield from _calls(dep)


def route_rule(route: object) -> str | None:
    """The rule a route declares: "public", "authenticated", a permission, or None."""
    try:
        return _rules[route]
    except (KeyError, TypeError):
        pass
    found: set[str] = set()
    for call in _calls(getattr(route, "dependant", None)):
        if call is _public:
            found.add(_PUBLIC)
        elif hasattr(call, "permission"):
            found.add(call.permission or _AUTHENTICATED)
    rule = found.pop() if len(found) == 1 else None
    with suppress(TypeError):  # not weak-referenceable (None): just do not cache
        _rules[route] = rule
    return rule


async def gate(request: Request) -> None:
    """App-wide first dependency: authorise before any other dependency runs.

    Installed with ``FastAPI(dependencies=[Depends(gate)])``, it runs ahead of a route's
    own dependencies, so an anonymous caller gets 401 rather than, say, a 503 from a
    service the route would build; and a route that declares no rule (or two) is refused.
    """
    rule = route_rule(request.scope.get("route"))
    if rule == _PUBLIC:
        return
    if rule is None:
        raise PermissionDenied(
            "this route declares no authorisation rule; refused", code="no_route_rule"
        )
    principal = await resolve_principal(request)
    if rule != _AUTHENTICATED and not principal.has(rule):
        raise PermissionDenied(f"this needs the {rule} permission", code="missing_permission")
