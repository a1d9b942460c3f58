"""A step-up authorises exactly one token (issue 13, point 3), over the real API on both
databases: an assertion obtained for token A — phished, or by a page in another tab —
cannot mint token B, whichever field differs, nor be replayed; a failed attempt uses the
challenge up. (The browser confirmation of `kinko token create`: test_token_requests.py.)
"""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from webauthn.helpers import base64url_to_bytes

from kinko.context import Context
from kinko.identity.model import UserId
from kinko.identity.softauthn import SoftAuthenticator
from kinko.server import create_app
from kinko.store.tables.audit import AuditEntryRow
from tests.support.identity import bearer, make_user, person_headers

A: dict[str, Any] = {
    "name": "siem",
    "permissions": ["users:write", "freeze:set"],
    "assets": ["ETH"],
    "ip_allowlist": ["10.0.0.0/8"],
    "ttl_days": 30,
}
# Token B: A with one field changed (each a way to get more than was authorised).
VARIANTS = [
    ("name", {"name": "siem-2"}),
    ("permissions", {"permissions": ["users:write", "freeze:set", "freeze:release"]}),
    ("permissions", {"permissions": ["freeze:set"]}),
    ("ttl_seconds", {"ttl_days": 365}),
    ("ip_allowlist", {"ip_allowlist": ["0.0.0.0/0"]}),
    ("ip_allowlist", {"ip_allowlist": []}),
    ("assets", {"assets": []}),
]


@pytest.fixture
def api(ctx: Context) -> TestClient:
    return TestClient(create_app(ctx), base_url="https://testserver")


def _admin(ctx: Context, name: str) -> tuple[UserId, SoftAuthenticator]:
    user, auth = make_user(ctx, name, ["security_admin"])
    assert auth is not None
    return user, auth


def step_up_for(
    api: TestClient,
    ctx: Context,
    headers: dict[str, str],
    auth: SoftAuthenticator,
    token: dict[str, Any],
) -> dict[str, Any]:
    """The person's authenticator's answer to a step-up challenge for exactly `token`."""
    begun = api.post("/v1/auth/step-up/begin", json={"token": token}, headers=headers)
    assert begun.status_code == 200, begun.text
    challenge = base64url_to_bytes(begun.json()["options"]["challenge"])
    credential = auth.assert_(challenge=challenge, origin=ctx.settings.webauthn_origin)
    return {"challenge_id": begun.json()["challenge_id"], "credential": credential}


def test_the_step_up_challenge_commits_to_the_token(ctx: Context, api: TestClient) -> None:
    ann, a_auth = _admin(ctx, "ann")
    headers = person_headers(ctx, "ann", a_auth)
    begun = api.post("/v1/auth/step-up/begin", json={"token": A}, headers=headers)
    assert begun.status_code == 200, begun.text
    assert begun.json()["terms"] == {
        "owner": ann,
        "name": "siem",
        "permissions": ["freeze:set", "users:write"],
        "assets": ["ETH"],
        "ip_allowlist": ["10.0.0.0/8"],
        "ttl_seconds": 30 * 86400,
        "request": None,
    }
    again = api.post("/v1/auth/step-up/begin", json={"token": A}, headers=headers)
    assert again.json()["options"]["challenge"] != begun.json()["options"]["challenge"]
    # A step-up is asked for a token, named: not a blank cheque.
    blank = api.post("/v1/auth/step-up/begin", json={}, headers=headers)
    assert blank.status_code == 422 and blank.json()["field"] == "token"
    # Terms its owner could not hold are refused before any key is touched.
    more = api.post(
        "/v1/auth/step-up/begin",
        json={"token": {**A, "permissions": ["withdrawals:approve"]}},
        headers=headers,
    )
    assert (more.status_code, more.json()["error"]) == (403, "token_escalation")


@pytest.mark.parametrize(("field", "change"), VARIANTS)
def test_an_assertion_for_token_a_cannot_create_token_b(
    ctx: Context, api: TestClient, field: str, change: dict[str, Any]
) -> None:
    _admin(ctx, "ann")
    _, a_auth = _admin(ctx, "ann2")
    headers = person_headers(ctx, "ann2", a_auth)
    step_up = step_up_for(api, ctx, headers, a_auth, A)
    b = {**A, **change}
    refused = api.post("/v1/tokens", json={**b, "step_up": step_up}, headers=headers)
    assert refused.status_code == 403, refused.text
    assert refused.json()["error"] == "step_up_mismatch"
    assert f"({field} differ)" in refused.json()["message"]
    # The failed attempt used the challenge up: not even token A comes out of it now.
    after = api.post("/v1/tokens", json={**A, "step_up": step_up}, headers=headers)
    assert (after.status_code, after.json()["error"]) == (401, "webauthn_challenge_invalid")
    with ctx.db.transaction() as session:
        actions = list(session.execute(select(AuditEntryRow.action)).scalars())
    assert "identity.token_step_up_refused" in actions
    assert "identity.token_create" not in actions


def test_the_right_assertion_creates_exactly_that_token_once(ctx: Context, api: TestClient) -> None:
    ann, a_auth = _admin(ctx, "ann")
    _, b_auth = _admin(ctx, "ben")
    headers = person_headers(ctx, "ann", a_auth)
    step_up = step_up_for(api, ctx, headers, a_auth, A)
    # Another person's session cannot spend ann's assertion, even for the same terms.
    ben = person_headers(ctx, "ben", b_auth)
    stolen = api.post("/v1/tokens", json={**A, "step_up": step_up}, headers=ben)
    assert (stolen.status_code, stolen.json()["error"]) == (401, "step_up_refused")
    step_up = step_up_for(api, ctx, headers, a_auth, A)
    # The same terms in another order and spelling are the same token.
    same = {**A, "permissions": ["freeze:set", "users:write", "freeze:set"]}
    made = api.post("/v1/tokens", json={**same, "step_up": step_up}, headers=headers)
    assert made.status_code == 201, made.text
    me = api.get("/v1/auth/me", headers=bearer(made.json()["token"]))
    assert me.status_code == 401  # its allowlist holds: the test client is not in 10.0.0.0/8
    replay = api.post("/v1/tokens", json={**A, "step_up": step_up}, headers=headers)
    assert (replay.status_code, replay.json()["error"]) == (401, "webauthn_challenge_invalid")
    listed = {t["name"]: t for t in api.get("/v1/tokens", headers=headers).json()}
    token = listed["siem"]
    assert (token["owner_id"], token["permissions"]) == (ann, ["freeze:set", "users:write"])
    assert (token["assets"], token["ip_allowlist"]) == (["ETH"], ["10.0.0.0/8"])


def test_a_device_login_challenge_is_no_token_step_up(ctx: Context, api: TestClient) -> None:
    _, a_auth = _admin(ctx, "ann")
    headers = person_headers(ctx, "ann", a_auth)
    code = api.post("/v1/auth/device/begin", json={"client": "kinko-cli on host"}).json()
    issued = api.post(
        "/v1/auth/device/challenge", json={"user_code": code["user_code"]}, headers=headers
    ).json()
    credential = a_auth.assert_(
        challenge=base64url_to_bytes(issued["options"]["challenge"]),
        origin=ctx.settings.webauthn_origin,
    )
    step_up = {"challenge_id": issued["challenge_id"], "credential": credential}
    refused = api.post("/v1/tokens", json={**A, "step_up": step_up}, headers=headers)
    assert (refused.status_code, refused.json()["error"]) == (401, "webauthn_challenge_invalid")
