"""Credentials that name someone, but not validly now, get 401 on every guarded route: the
cases tests/integration/test_authz_matrix.py does not hold — a session kept busy past its
absolute lifetime, a signed-out session, a CLI session (``Bearer kks_...``) of a suspended
person — and an IP allowlist admitting the addresses it lists and only those (the client's
own address: the app never reads X-Forwarded-For; tests/e2e/test_forwarded_for.py holds
`kinko serve`'s trusted proxies)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from fastapi.testclient import TestClient

from kinko.context import Context
from kinko.core.clock import FixedClock
from kinko.identity.service import IdentityService
from kinko.identity.sessions import ABSOLUTE_TIMEOUT, CLI, IDLE_TIMEOUT, SessionService
from kinko.server import create_app
from tests.integration.test_authz_matrix import UNSAFE, _concrete, rules_of
from tests.support.identity import bearer, make_token, make_user, sign_in


def _cookie(signed_in: tuple[str, str]) -> dict[str, str]:
    """A console session's headers, with its right CSRF token (so that only the session
    itself can be what is refused)."""
    cookie, csrf = signed_in
    return {"Cookie": f"__Host-kinko_session={cookie}", "X-CSRF-Token": csrf}


def test_lapsed_credentials_are_refused_on_every_route(ctx: Context, clock: FixedClock) -> None:
    ids = IdentityService(ctx)
    sessions = SessionService(ctx)
    _, auth_busy = make_user(ctx, "u-busy", ["auditor"])
    assert auth_busy is not None
    busy_session = sign_in(ctx, "u-busy", auth_busy)
    busy = busy_session[0]
    step = IDLE_TIMEOUT - timedelta(minutes=1)
    elapsed = timedelta(0)
    while elapsed + step < ABSOLUTE_TIMEOUT:  # used every few minutes: never idle
        clock.advance(step)
        elapsed += step
        with ctx.db.transaction() as session:
            sessions.resolve(session, busy)
    clock.advance(ABSOLUTE_TIMEOUT - elapsed + timedelta(minutes=1))  # now only too old
    _, auth = make_user(ctx, "u-gone", ["auditor"])
    assert auth is not None
    signed_out = sign_in(ctx, "u-gone", auth)
    with ctx.db.transaction() as session:
        sessions.revoke(session, signed_out[0])
    suspended_id, _ = make_user(ctx, "u-cli", ["auditor"], with_authenticator=False)
    with ctx.db.transaction() as session:
        cli = sessions.create(session, suspended_id, source_ip=None, kind=CLI)
    with ctx.db.transaction() as session:
        ids.lock_user(session, suspended_id, actor="system:test", reason="matrix")
    callers = {
        "session-past-absolute-lifetime": _cookie(busy_session),
        "signed-out-session": _cookie(signed_out),
        "cli-session-of-suspended-person": bearer(cli),
    }
    app = create_app(ctx)
    rules, _ = rules_of(app)
    failures: list[str] = []
    with TestClient(app, raise_server_exceptions=False) as client:
        for rule in rules:
            if rule.rule == "public":
                continue
            for name, headers in callers.items():
                kwargs: dict[str, Any] = {"headers": headers}
                if rule.method in UNSAFE:
                    kwargs["json"] = {}
                answer = client.request(rule.method, _concrete(rule.path), **kwargs)
                if answer.status_code != 401:
                    failures.append(f"{rule.method} {rule.path} as {name}: {answer.status_code}")
    assert failures == [], "\n".join(failures)
    # Only the session lapsed: its person signs in again and is let in.
    with TestClient(app) as client:
        again = _cookie(sign_in(ctx, "u-busy", auth_busy))
        assert client.get("/v1/auth/me", headers=again).status_code == 200
        assert client.get("/v1/auth/me", headers=_cookie(busy_session)).status_code == 401


def test_an_ip_allowlist_admits_its_addresses_only(ctx: Context) -> None:
    token = make_token(ctx, roles_or_permissions=["users:read"], ip_allowlist=["192.0.2.0/24"])
    app = create_app(ctx)
    with TestClient(app, client=("192.0.2.7", 50000)) as inside:
        assert inside.get("/v1/users", headers=bearer(token)).status_code == 200
    with TestClient(app, client=("198.51.100.1", 50000)) as outside:
        assert outside.get("/v1/users", headers=bearer(token)).status_code == 401
        claimed = {**bearer(token), "X-Forwarded-For": "192.0.2.7"}
        assert outside.get("/v1/users", headers=claimed).status_code == 401
