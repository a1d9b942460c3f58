"""The authorisation matrix: every API route × every role, anonymous and an expired token.

Generated from the live route table of `create_app(ctx)`, so a route added anywhere in
Kinko is covered the day it lands, and a route with no rule (neither `public()` nor
`require(...)`/`authenticated()`) fails the suite.

A caller is *refused by authorisation* when the answer is 401, or 403 with the code
``missing_permission`` (the `require` dependency's refusal). Any other answer — 200, 404,
422, or a handler's own 403 on dummy input — means authorisation let the call through.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.routing import iter_route_contexts
from fastapi.testclient import TestClient

from kinko.api.app import create_app
from kinko.api.auth import _public
from kinko.context import Context
from kinko.core.clock import FixedClock
from kinko.identity.permissions import ROLE_PERMISSIONS, Role
from kinko.identity.softauthn import SoftAuthenticator
from tests.support.identity import bearer, make_token, make_user, sign_in

# FastAPI's own documentation routes: the schema is public by design.
DOCS_PATHS = {"/openapi.json", "/docs", "/docs/oauth2-redirect", "/redoc"}
UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}
AUTHENTICATED = "<authenticated>"


@dataclass(frozen=True)
class RouteRule:
    method: str
    path: str
    rule: str | None  # "public", a permission name, AUTHENTICATED, or None (no rule!)


def _dependency_calls(dependant: Any) -> Iterator[Callable[..., Any]]:
    for dep in getattr(dependant, "dependencies", []):
        if dep.call is not None:
            yield dep.call
        yield from _dependency_calls(dep)


def rules_of(app: FastAPI) -> tuple[list[RouteRule], list[str]]:
    """Every (method, path) with its rule, and the problems (no rule, two rules, unknown)."""
    rules: list[RouteRule] = []
    problems: list[str] = []
    for ctx in iter_route_contexts(app.routes):
        path, methods = ctx.path, ctx.methods
        if path in DOCS_PATHS:
            continue
        dependant = getattr(ctx, "dependant", None) if methods else None
        if dependant is None:
            problems.append(f"{path}: not an API route; authorisation cannot be checked")
            continue
        found: list[str] = []
        for call in _dependency_calls(dependant):
            if call is _public:
                found.append("public")
            elif hasattr(call, "permission"):
                found.append(call.permission or AUTHENTICATED)
        distinct = sorted(set(found))
        for method in sorted(methods - {"HEAD"}):
            if len(distinct) != 1:
                problems.append(
                    f"{method} {path}: declares {distinct or 'no rule'}; declare exactly one of "
                    "dependencies=[public()] or Depends(require('domain:verb'))"
                )
                rules.append(RouteRule(method, path, None))
            else:
                rules.append(RouteRule(method, path, distinct[0]))
    return rules, problems


def test_every_route_declares_exactly_one_rule(ctx: Context) -> None:
    rules, problems = rules_of(create_app(ctx))
    assert rules, "the route table is empty"
    assert problems == [], "\n".join(problems)


def test_a_route_without_a_rule_is_detected(ctx: Context) -> None:
    app = create_app(ctx)

    @app.get("/v1/forgotten")
    def forgotten() -> dict[str, str]:
        return {}

    _, problems = rules_of(app)
    assert any("/v1/forgotten" in p and "no rule" in p for p in problems)
    # And at run time the gate refuses it (fail closed), even for a signed-in admin.
    token = make_token(ctx, roles_or_permissions=["security_admin"])
    with TestClient(app) as client:
        response = client.get("/v1/forgotten", headers=bearer(token))
    assert response.status_code == 403
    assert response.json()["error"] == "no_route_rule"


@dataclass(frozen=True)
class Caller:
    name: str
    headers: dict[str, str]
    permissions: frozenset[str] | None  # None: not authenticated at all
    fresh: Callable[[], dict[str, str]] | None = None  # a new session (signing out ends one)


def _callers(ctx: Context, clock: FixedClock) -> list[Caller]:
    callers = [Caller("anonymous", {}, None)]
    expired = make_token(ctx, roles_or_permissions=["auditor"], ttl=timedelta(seconds=1))
    clock.advance(timedelta(seconds=2))
    callers.append(Caller("expired-token", bearer(expired), None))
    for role in Role:
        name = f"u-{role.value.replace('_', '-')}"
        _, auth = make_user(ctx, name, [role])
        assert auth is not None
        fresh = _session_maker(ctx, name, auth)
        callers.append(Caller(f"session:{role.value}", fresh(), ROLE_PERMISSIONS[role], fresh))
    _, auth = make_user(ctx, "u-no-roles", [])
    assert auth is not None
    fresh = _session_maker(ctx, "u-no-roles", auth)
    callers.append(Caller("session:no-roles", fresh(), frozenset(), fresh))
    token = make_token(ctx, roles_or_permissions=["requester"])
    callers.append(Caller("token:requester", bearer(token), ROLE_PERMISSIONS[Role.REQUESTER]))
    return callers


def _session_maker(
    ctx: Context, name: str, auth: SoftAuthenticator
) -> Callable[[], dict[str, str]]:
    def fresh() -> dict[str, str]:
        cookie, csrf = sign_in(ctx, name, auth)
        return {"Cookie": f"kinko_session={cookie}", "X-CSRF-Token": csrf}

    return fresh


def _concrete(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "x", path)


def _refused(response: Any) -> bool:
    if response.status_code == 401:
        return True
    if response.status_code == 403:
        body = response.json()
        return isinstance(body, dict) and body.get("error") in {"missing_permission"}
    return False


def test_authorisation_matrix(ctx: Context, clock: FixedClock) -> None:
    app = create_app(ctx)
    rules, problems = rules_of(app)
    assert problems == [], "\n".join(problems)
    callers = _callers(ctx, clock)
    failures: list[str] = []
    with TestClient(app, raise_server_exceptions=False) as client:
        for rule in rules:
            assert rule.rule is not None
            for caller in callers:
                if rule.rule == "public":
                    expect_allowed = True
                elif caller.permissions is None:
                    expect_allowed = False
                elif rule.rule == AUTHENTICATED:
                    expect_allowed = True
                else:
                    expect_allowed = rule.rule in caller.permissions
                headers = caller.headers
                if rule.path.endswith("/logout") and caller.fresh is not None:
                    headers = caller.fresh()  # signing out must not end the shared session
                kwargs: dict[str, Any] = {"headers": headers}
                if rule.method in UNSAFE:
                    kwargs["json"] = {}
                response = client.request(rule.method, _concrete(rule.path), **kwargs)
                if _refused(response) == expect_allowed:
                    failures.append(
                        f"{rule.method} {rule.path} [{rule.rule}] as {caller.name}: "
                        f"expected {'allowed' if expect_allowed else 'refused'}, got "
                        f"{response.status_code} {response.text[:120]}"
                    )
                if (
                    caller.permissions is None
                    and rule.rule != "public"
                    and response.status_code != 401
                ):
                    failures.append(
                        f"{rule.method} {rule.path} as {caller.name}: expected 401, got "
                        f"{response.status_code} (authorise before other dependencies)"
                    )
    assert failures == [], "\n".join(failures)


@pytest.mark.parametrize("method", ["POST"])
def test_session_without_csrf_token_is_refused_for_unsafe_methods(
    ctx: Context, method: str
) -> None:
    _, auth = make_user(ctx, "admin", ["security_admin"])
    assert auth is not None
    cookie, csrf = sign_in(ctx, "admin", auth)
    with TestClient(create_app(ctx)) as client:
        body = {"username": "newbie"}
        no_csrf = client.request(
            method, "/v1/users", json=body, headers={"Cookie": f"kinko_session={cookie}"}
        )
        assert no_csrf.status_code == 403
        assert no_csrf.json()["error"] == "csrf_failed"
        wrong = client.request(
            method,
            "/v1/users",
            json=body,
            headers={"Cookie": f"kinko_session={cookie}", "X-CSRF-Token": csrf[:-2] + "AA"},
        )
        assert wrong.status_code == 403
        ok = client.request(
            method,
            "/v1/users",
            json=body,
            headers={"Cookie": f"kinko_session={cookie}", "X-CSRF-Token": csrf},
        )
        assert ok.status_code == 201, ok.text
