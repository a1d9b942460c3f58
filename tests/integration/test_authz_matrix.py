"""The authorisation matrix: every API route × every role, anonymous, expired, revoked and
IP-refused tokens, a suspended owner's token, an idle session, a suspended person's session
and an API token where a person must act; no route shadowed by another; scopes on reads
and writes.

Generated from the live route table of `create_app(ctx)`, so a route added anywhere in
Kinko is covered the day it lands, and a route with no rule (neither `public()` nor
`require(...)`/`authenticated()`) fails the suite.

A caller is *refused by authorisation* when the answer is 401, or 403 with the code
``missing_permission`` (the `require` dependency's refusal) or ``person_required`` (a
route declared ``person=True`` called with an API token). Any other answer — 200, 404,
422, or a handler's own 403 on dummy input — means authorisation let the call through.
Withdrawal scopes are checked end to end in tests/integration/withdrawals/test_scopes.py;
tests/integration/test_authz_scopes.py places every route for asset and wallet scopes, and
tests/integration/test_authz_credentials.py adds sessions past their absolute lifetime,
signed-out sessions, a suspended person's CLI session and IP allowlists admitting their own.
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
from starlette.routing import compile_path

from kinko.api.auth import _public, public
from kinko.context import Context
from kinko.core.clock import FixedClock
from kinko.identity.model import RoleGrant
from kinko.identity.permissions import ROLE_PERMISSIONS, Role
from kinko.identity.service import IdentityService
from kinko.identity.sessions import IDLE_TIMEOUT
from kinko.identity.softauthn import SoftAuthenticator
from kinko.identity.tokens import split_token
from kinko.server import create_app
from tests.integration.custody.exchange import BTC, ETH, set_up
from tests.support.identity import (
    bearer,
    ensure_secret_key,
    make_token,
    make_user,
    owned_token,
    sign_in,
)

# FastAPI's own documentation routes: the schema is public by design.
DOCS_PATHS = {"/openapi.json", "/docs", "/docs/oauth2-redirect", "/redoc"}
UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}
AUTHENTICATED = "<authenticated>"


@dataclass(frozen=True)
class RouteRule:
    method: str
    path: str
    rule: str | None  # "public", a permission name, AUTHENTICATED, or None (no rule!)
    person: bool = False  # a person's own session only, never an API token


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
        person = False
        for call in _dependency_calls(dependant):
            if call is _public:
                found.append("public")
            elif hasattr(call, "permission"):
                found.append(call.permission or AUTHENTICATED)
                person = person or bool(getattr(call, "person", False))
        distinct = sorted(set(found))
        for method in sorted(methods - {"HEAD"}):
            if len(distinct) != 1:
                problems.append(
                    f"{method} {path}: declares {distinct or 'no rule'}; declare exactly one of "
                    "dependencies=[public()] or Depends(require('domain:verb'))"
                )
                rules.append(RouteRule(method, path, None))
            else:
                rules.append(RouteRule(method, path, distinct[0], person))
    return rules, problems


def shadowed(app: FastAPI) -> list[str]:
    """Routes a request never reaches because an earlier route's pattern takes its path
    (e.g. ``/v1/users/{id}/{action}`` registered before ``/v1/users/{id}/enrolment``).
    Starlette tries routes in order, so the first pattern that matches wins."""
    routes = [
        (ctx.path, set(ctx.methods), compile_path(ctx.path)[0])
        for ctx in iter_route_contexts(app.routes)
        if ctx.path and ctx.methods
    ]
    out: list[str] = []
    for j, (path, methods, _) in enumerate(routes):
        concrete = re.sub(r"\{[^}]+\}", "x0", path)
        for earlier, earlier_methods, pattern in routes[:j]:
            if earlier != path and earlier_methods & methods and pattern.match(concrete):
                out.append(f"{path} is shadowed by {earlier}")
    return out


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
    token: bool = False


def _refused_callers(ctx: Context, clock: FixedClock) -> list[Caller]:
    """Credentials that must get 401 everywhere: they name someone, but not validly now."""
    expired = make_token(ctx, roles_or_permissions=["auditor"], ttl=timedelta(seconds=1))
    _, auth = make_user(ctx, "u-idle", ["auditor"])
    assert auth is not None
    idle = _session_maker(ctx, "u-idle", auth)()
    clock.advance(IDLE_TIMEOUT + timedelta(seconds=1))  # the token and the session lapse
    ids = IdentityService(ctx)
    revoked = make_token(ctx, roles_or_permissions=["security_admin"])
    with ctx.db.transaction() as session:
        token_id = split_token(revoked)[0]
        ids.tokens.revoke(session, token_id, actor="system:test", reason="matrix")
    owner, auth = make_user(ctx, "u-suspended", ["auditor"])
    assert auth is not None
    owner_session = _session_maker(ctx, "u-suspended", auth)()
    owner_token = owned_token(ctx, owner, ["audit:read", "users:read"])
    with ctx.db.transaction() as session:
        ids.lock_user(session, owner, actor="system:test", reason="matrix")
    elsewhere = make_token(
        ctx, roles_or_permissions=["security_admin"], ip_allowlist=["192.0.2.0/24"]
    )
    return [
        Caller("anonymous", {}, None),
        Caller("expired-token", bearer(expired), None),
        Caller("idle-session", idle, None),
        Caller("revoked-token", bearer(revoked), None),
        Caller("suspended-owner-token", bearer(owner_token), None),
        Caller("suspended-person-session", owner_session, None),
        Caller("token-outside-ip-allowlist", bearer(elsewhere), None),
    ]


def _callers(ctx: Context, clock: FixedClock) -> list[Caller]:
    callers = _refused_callers(ctx, clock)
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
    callers.append(
        Caller("token:requester", bearer(token), ROLE_PERMISSIONS[Role.REQUESTER], token=True)
    )
    admin = make_token(ctx, roles_or_permissions=["security_admin"])
    callers.append(
        Caller(
            "token:security_admin",
            bearer(admin),
            ROLE_PERMISSIONS[Role.SECURITY_ADMIN],
            token=True,
        )
    )
    return callers


def _session_maker(
    ctx: Context, name: str, auth: SoftAuthenticator
) -> Callable[[], dict[str, str]]:
    def fresh() -> dict[str, str]:
        cookie, csrf = sign_in(ctx, name, auth)
        return {"Cookie": f"__Host-kinko_session={cookie}", "X-CSRF-Token": csrf}

    return fresh


def _concrete(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "x", path)


def _refused(response: Any) -> bool:
    if response.status_code == 401:
        return True
    if response.status_code == 403:
        body = response.json()
        return isinstance(body, dict) and body.get("error") in {
            "missing_permission",
            "person_required",
        }
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
                if rule.person and caller.token:
                    expect_allowed = False  # a person's own session only
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
            method, "/v1/users", json=body, headers={"Cookie": f"__Host-kinko_session={cookie}"}
        )
        assert no_csrf.status_code == 403
        assert no_csrf.json()["error"] == "csrf_failed"
        wrong = client.request(
            method,
            "/v1/users",
            json=body,
            # always a different token (a random one ends in "AA" once in 4,096 runs)
            headers={
                "Cookie": f"__Host-kinko_session={cookie}",
                "X-CSRF-Token": csrf[:-2] + ("BB" if csrf.endswith("AA") else "AA"),
            },
        )
        assert wrong.status_code == 403
        ok = client.request(
            method,
            "/v1/users",
            json=body,
            headers={"Cookie": f"__Host-kinko_session={cookie}", "X-CSRF-Token": csrf},
        )
        assert ok.status_code == 201, ok.text


def test_no_route_is_shadowed(ctx: Context) -> None:
    assert shadowed(create_app(ctx)) == []


def test_a_shadowed_route_is_detected(ctx: Context) -> None:
    # The shape issue 13 found: a parameter where a later route has a fixed segment.
    app = FastAPI()

    @app.post("/v1/things/{thing_id}/{action}", dependencies=[public()])
    def act(thing_id: str, action: str) -> dict[str, str]:
        return {}

    @app.post("/v1/things/{thing_id}/enrolment", dependencies=[public()])
    def enrol(thing_id: str) -> dict[str, str]:
        return {}

    assert shadowed(app) == [
        "/v1/things/{thing_id}/enrolment is shadowed by /v1/things/{thing_id}/{action}"
    ]


def test_scopes_hold_on_custody_reads_and_writes(ctx: Context) -> None:
    ensure_secret_key(ctx)
    wallets = set_up(ctx)
    btc_reader = make_token(ctx, roles_or_permissions=["custody:read"], assets=["BTC"])
    eth_writer = make_token(ctx, roles_or_permissions=["custody:write"], assets=["ETH"])
    everything = make_token(ctx, roles_or_permissions=["custody:read"])
    with TestClient(create_app(ctx), base_url="https://testserver") as client:
        seen = client.get("/v1/custody/wallets", headers=bearer(btc_reader)).json()
        assert sorted(w["id"] for w in seen) == sorted([wallets.btc_cold, wallets.btc_hot])
        assert len(client.get("/v1/custody/wallets", headers=bearer(everything)).json()) == 5
        body = {"source": "ledger", "liabilities": [{"asset": BTC, "amount": "1"}]}
        refused = client.put("/v1/custody/liabilities", json=body, headers=bearer(eth_writer))
        assert refused.status_code == 403 and "BTC" in refused.json()["message"]
        body = {"source": "ledger", "liabilities": [{"asset": ETH, "amount": "1"}]}
        done = client.put("/v1/custody/liabilities", json=body, headers=bearer(eth_writer))
        assert done.status_code == 200, done.text
        owed = client.get("/v1/custody/liabilities", headers=bearer(btc_reader)).json()
        assert owed == {}  # only ETH is owed, and this caller reads BTC only
        assert client.get("/v1/custody/liabilities", headers=bearer(everything)).json() == {
            ETH: "1000000000000000000"
        }
        for path in ("/v1/custody/status", "/v1/custody/rebalance"):
            totals = client.get(path, headers=bearer(btc_reader))
            assert totals.status_code == 403, (path, totals.text)


def test_scopes_hold_on_freezes(ctx: Context) -> None:
    wallets = set_up(ctx)
    btc_ops, _ = make_user(
        ctx,
        "btc-ops",
        [RoleGrant(Role.OPERATOR, wallets=(wallets.btc_hot,))],
        with_authenticator=False,
    )
    scoped = owned_token(ctx, btc_ops, ["freeze:set", "custody:read"])
    admin = make_token(ctx, roles_or_permissions=["freeze:set", "custody:read"])
    with TestClient(create_app(ctx), base_url="https://testserver") as client:

        def freeze(token: str, scope: str, target: str | None) -> Any:
            body = {"scope": scope, "target": target, "reason": "drill"}
            return client.post("/v1/freezes", json=body, headers=bearer(token))

        assert freeze(scoped, "wallet", wallets.btc_hot).status_code == 201
        # a grant limited to one wallet does not reach every wallet of its asset
        for scope, target in (
            ("wallet", wallets.eth_hot),
            ("asset", "bitcoin:BTC"),
            ("chain", "bitcoin"),
            ("all", None),
        ):
            refused = freeze(scoped, scope, target)
            assert refused.status_code == 403, (scope, refused.text)
        assert freeze(admin, "wallet", wallets.eth_hot).status_code == 201
        assert freeze(admin, "chain", "ethereum").status_code == 201
        seen = client.get("/v1/freezes", headers=bearer(scoped)).json()["freezes"]
        assert sorted((f["scope"], f["target"]) for f in seen) == [
            ("chain", "ethereum"),
            ("wallet", wallets.btc_hot),
        ]
        assert len(client.get("/v1/freezes", headers=bearer(admin)).json()["freezes"]) == 3
