"""`kinko token create` of a privileged token, confirmed in the browser (issue 13, points 3
and 4), over the real API on both databases: the CLI (the owner's session) asks with the
exact terms, the owner confirms on /console/tokens/confirm with a fresh assertion bound to
them, the CLI collects the token once. Nobody else confirms or collects it; it expires;
it is single use; a refusal is final."""

from __future__ import annotations

from datetime import timedelta
from functools import partial
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from webauthn.helpers import base64url_to_bytes

from kinko.context import Context
from kinko.core.clock import FixedClock
from kinko.core.events import SecurityEvent
from kinko.identity.model import UserId
from kinko.identity.service import IdentityService
from kinko.identity.softauthn import SoftAuthenticator
from kinko.server import create_app
from kinko.store.tables.audit import AuditEntryRow
from tests.support.confirmations import TOKEN_REQUESTS, answer_in_browser
from tests.support.identity import bearer, make_user, owned_token, person_headers

TOKEN: dict[str, Any] = {
    "name": "siem",
    "permissions": ["freeze:set", "users:write"],
    "assets": ["BTC"],
    "ttl_days": 7,
    "client": "kinko-cli 0.1.0 on build-01",
}


@pytest.fixture
def api(ctx: Context) -> TestClient:
    return TestClient(create_app(ctx), base_url="https://testserver")


@pytest.fixture
def people(ctx: Context) -> dict[str, tuple[dict[str, str], SoftAuthenticator]]:
    """ann and ben, security admins, each signed in with their own key."""
    out = {}
    for name in ("ann", "ben"):
        _, auth = make_user(ctx, name, ["security_admin"])
        assert auth is not None
        out[name] = (person_headers(ctx, name, auth), auth)
    return out


def _begin(api: TestClient, headers: dict[str, str], **change: Any) -> dict[str, Any]:
    answer = api.post("/v1/tokens/requests", json={**TOKEN, **change}, headers=headers)
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body


def _poll(api: TestClient, headers: dict[str, str], begun: dict[str, Any]) -> Any:
    body = {"request_code": begun["request_code"]}
    return api.post("/v1/tokens/requests/token", json=body, headers=headers)


def _challenge(api: TestClient, headers: dict[str, str], user_code: str) -> Any:
    return api.post("/v1/tokens/requests/challenge", json={"user_code": user_code}, headers=headers)


_confirm = partial(answer_in_browser, prefix=TOKEN_REQUESTS)


def user_id(ctx: Context, username: str) -> UserId:
    with ctx.db.transaction() as session:
        return UserId(IdentityService(ctx).users.require_user(session, username).id)


def _actions(ctx: Context) -> list[str]:
    with ctx.db.transaction() as session:
        rows = session.execute(select(AuditEntryRow.action).order_by(AuditEntryRow.seq))
        return list(rows.scalars())


def test_the_owner_confirms_and_the_cli_collects_the_token_once(
    ctx: Context, api: TestClient, clock: FixedClock, people: dict[str, Any]
) -> None:
    ann, a_auth = people["ann"]
    events: list[SecurityEvent] = []
    ctx.bus.subscribe(events.append)
    begun = _begin(api, ann)
    origin = ctx.settings.webauthn_origin
    assert begun["verification_uri_complete"] == (
        f"{origin}/console/tokens/confirm?code={begun['user_code']}"
    )
    assert begun["token"]["permissions"] == ["freeze:set", "users:write"]
    assert (begun["expires_in"], begun["interval"]) == (600, 2)
    pending = _poll(api, ann, begun)
    assert (pending.status_code, pending.json()["error"]) == (400, "authorization_pending")

    page = api.get(begun["verification_uri_complete"].removeprefix(origin), headers=ann)
    assert page.status_code == 200
    for shown in (
        "siem",
        "freeze:set",
        "users:write",
        "(privileged)",
        "BTC",
        "7 days",
        TOKEN["client"],
    ):
        assert shown in page.text, shown

    confirmed = _confirm(api, ctx, begun["user_code"], ann, a_auth)
    assert confirmed.status_code == 200, confirmed.text
    assert confirmed.json()["approved_by"] == "ann" and confirmed.json()["status"] == "approved"
    again = _challenge(api, ann, begun["user_code"])  # answered: no longer waiting
    assert (again.status_code, again.json()["error"]) == (404, "token_request_unknown")

    clock.advance(timedelta(seconds=2))
    issued = _poll(api, ann, begun)
    assert issued.status_code == 200, issued.text
    token = issued.json()
    assert (token["name"], token["permissions"], token["assets"], token["ttl_seconds"]) == (
        "siem",
        ["freeze:set", "users:write"],
        ["BTC"],
        7 * 86400,
    )
    me = api.get("/v1/auth/me", headers=bearer(token["token"])).json()
    assert me["username"] == "ann" and me["token_id"] == token["id"]
    assert me["permissions"] == ["freeze:set", "users:write"]
    clock.advance(timedelta(seconds=2))
    once = _poll(api, ann, begun)
    assert (once.status_code, once.json()["error"]) == (400, "expired_token")

    created = [e for e in events if e.type == "token.create"]
    assert len(created) == 1 and created[0].fields["step_up"] is True
    assert created[0].fields["privileged"] is True and created[0].severity == "high"
    actions = _actions(ctx)
    for action in (
        "identity.token_request_begin",
        "identity.token_request_approve",
        "identity.token_create",
    ):
        assert action in actions


def test_nobody_else_confirms_or_collects_it(
    ctx: Context, api: TestClient, clock: FixedClock, people: dict[str, Any]
) -> None:
    ann, a_auth = people["ann"]
    ben, b_auth = people["ben"]
    begun = _begin(api, ann)
    code = begun["user_code"]
    # Another admin, signed in as himself, sees no terms and gets no challenge ...
    page = api.get(f"/console/tokens/confirm?code={code}", headers=ben)
    assert page.status_code == 403 and "started by another person" in page.text
    assert "siem" not in page.text
    refused = _challenge(api, ben, code)
    assert (refused.status_code, refused.json()["error"]) == (403, "token_request_not_yours")
    # ... cannot answer ann's challenge with his own key, nor refuse it for her ...
    issued = _challenge(api, ann, code).json()
    credential = b_auth.assert_(
        challenge=base64url_to_bytes(issued["options"]["challenge"]),
        origin=ctx.settings.webauthn_origin,
    )
    body = {"user_code": code, "challenge_id": issued["challenge_id"], "credential": credential}
    stolen = api.post("/v1/tokens/requests/approve", json=body, headers=ben)
    assert (stolen.status_code, stolen.json()["error"]) == (403, "token_request_not_yours")
    denied = api.post("/v1/tokens/requests/deny", json={"user_code": code}, headers=ben)
    assert denied.status_code == 403
    # ... nor collect it with the request code.
    assert _poll(api, ben, begun).json()["error"] == "expired_token"
    # An API token of ann's is not her: every step needs her own session.
    token = owned_token(ctx, user_id(ctx, "ann"), ["tokens:write"])
    by_token = api.post("/v1/tokens/requests", json=TOKEN, headers=bearer(token))
    assert (by_token.status_code, by_token.json()["error"]) == (403, "person_required")

    # ann's key over another challenge (not the request's latest) does not confirm it.
    stale = _challenge(api, ann, code).json()
    _challenge(api, ann, code)  # a newer one replaces it
    credential = a_auth.assert_(
        challenge=base64url_to_bytes(stale["options"]["challenge"]),
        origin=ctx.settings.webauthn_origin,
    )
    body = {"user_code": code, "challenge_id": stale["challenge_id"], "credential": credential}
    old = api.post("/v1/tokens/requests/approve", json=body, headers=ann)
    assert (old.status_code, old.json()["error"]) == (401, "token_request_challenge_mismatch")
    # The request's challenge is bound to the request: POST /v1/tokens cannot spend it.
    latest = _challenge(api, ann, code).json()
    credential = a_auth.assert_(
        challenge=base64url_to_bytes(latest["options"]["challenge"]),
        origin=ctx.settings.webauthn_origin,
    )
    up = {"challenge_id": latest["challenge_id"], "credential": credential}
    terms = {k: v for k, v in TOKEN.items() if k != "client"}
    direct = api.post("/v1/tokens", json={**terms, "step_up": up}, headers=ann)
    assert (direct.status_code, direct.json()["error"]) == (403, "step_up_mismatch")
    assert "(request differ)" in direct.json()["message"]
    # Still pending and still ann's to confirm.
    assert _confirm(api, ctx, code, ann, a_auth).status_code == 200
    clock.advance(timedelta(seconds=2))
    assert _poll(api, ann, begun).status_code == 200


def test_refused_expired_and_overreaching_requests(
    ctx: Context, api: TestClient, clock: FixedClock, people: dict[str, Any]
) -> None:
    ann, _ = people["ann"]
    refused = _begin(api, ann)
    done = api.post(
        "/v1/tokens/requests/deny", json={"user_code": refused["user_code"]}, headers=ann
    )
    assert done.status_code == 200 and done.json()["denied_by"] == "ann"
    assert _poll(api, ann, refused).json()["error"] == "access_denied"
    late = _confirm_status(api, ann, refused["user_code"])
    assert late == (404, "token_request_unknown")

    expiring = _begin(api, ann)
    clock.advance(timedelta(minutes=10, seconds=1))
    assert _confirm_status(api, ann, expiring["user_code"]) == (404, "token_request_unknown")
    assert _poll(api, ann, expiring).json()["error"] == "expired_token"

    # More than the owner holds is refused when asked, not when confirmed.
    more = api.post(
        "/v1/tokens/requests",
        json={**TOKEN, "permissions": ["withdrawals:approve"]},
        headers=ann,
    )
    assert (more.status_code, more.json()["error"]) == (403, "token_escalation")
    bad = api.post("/v1/tokens/requests", json={**TOKEN, "ip_allowlist": ["nope"]}, headers=ann)
    assert bad.status_code == 422 and bad.json()["field"] == "ip_allowlist[0]"
    typo = _challenge(api, ann, "AEIO-0000")
    assert typo.status_code == 422 and "token-request code" in typo.json()["message"]


def _confirm_status(api: TestClient, headers: dict[str, str], code: str) -> tuple[int, str]:
    answer = _challenge(api, headers, code)
    return answer.status_code, answer.json()["error"]
