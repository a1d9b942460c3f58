"""Issue 13, "no one acts alone": the four-eyes paths for people, roles and tokens that
work, through the real API (both databases), and the service-level rules behind them.

The attacks themselves (each refused and alerted) are replayed in one place, the insider
suite, tests/integration/insider/. Here: a privileged person suspended, reinstated and
granted through a proposal a second admin approves, the bootstrap exception recorded as
the first setup's, service-account and own privileged tokens, a token shrinking with its
owner's roles, the enrolment route, a proposal whose proposer was since suspended.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from webauthn.helpers import base64url_to_bytes

from kinko.context import Context
from kinko.core.events import SecurityEvent
from kinko.identity.model import ProposalKind, UserId, UserState
from kinko.identity.service import IdentityService
from kinko.identity.softauthn import SoftAuthenticator
from kinko.server import create_app
from kinko.store.tables.audit import AuditEntryRow
from tests.support.identity import bearer, make_user, owned_token, person_headers
from tests.support.votes import vote_json


@pytest.fixture
def api(ctx: Context) -> TestClient:
    return TestClient(create_app(ctx), base_url="https://testserver")


def _admin(ctx: Context, name: str) -> tuple[UserId, SoftAuthenticator]:
    user, auth = make_user(ctx, name, ["security_admin"])
    assert auth is not None
    return user, auth


def _state(ctx: Context, user: str) -> str:
    with ctx.db.transaction() as session:
        return IdentityService(ctx).users.get(session, UserId(user)).state.value


def _events(ctx: Context) -> list[SecurityEvent]:
    events: list[SecurityEvent] = []
    ctx.bus.subscribe(events.append)
    return events


def _approve(ctx: Context, api: TestClient, proposal: str, headers: dict[str, str]) -> Any:
    """The approval of the person `headers` sign in as, with their key (a bound step-up)."""
    body = vote_json(ctx, api, headers, "proposal", proposal)
    return api.post(f"/v1/roles/proposals/{proposal}/approve", json=body, headers=headers)


# --- 1a: suspending a privileged person is four eyes ------------------------------------
def test_one_admin_cannot_suspend_another_alone(ctx: Context, api: TestClient) -> None:
    a, a_auth = _admin(ctx, "ann")
    b, b_auth = _admin(ctx, "ben")
    c, _ = _admin(ctx, "cat")
    events = _events(ctx)
    token = owned_token(ctx, a, ["users:write"])
    with_token = api.post(f"/v1/users/{c}/suspend", json={"reason": "x"}, headers=bearer(token))
    assert with_token.status_code == 403, with_token.text
    assert with_token.json()["error"] == "person_required"
    assert _state(ctx, c) == "active"

    ann = person_headers(ctx, "ann", a_auth)
    proposed = api.post(f"/v1/users/{c}/suspend", json={"reason": "left"}, headers=ann)
    assert proposed.status_code == 202, proposed.text
    body = proposed.json()
    assert body["state"] == "active" and body["proposal"]["state"] == "pending"
    assert _state(ctx, c) == "active"
    own = _approve(ctx, api, body["proposal"]["id"], ann)
    assert (own.status_code, own.json()["error"]) == (403, "self_approval")
    done = _approve(ctx, api, body["proposal"]["id"], person_headers(ctx, "ben", b_auth))
    assert done.status_code == 200, done.text
    assert _state(ctx, c) == "suspended"
    suspended = [e for e in events if e.type == "user.state" and e.outcome == "suspended"]
    assert len(suspended) == 1
    assert suspended[0].fields["security_admin"] is True
    assert suspended[0].fields["target_user"] == c
    assert suspended[0].severity == "high"
    assert b


def test_a_non_privileged_person_is_suspended_at_once(ctx: Context, api: TestClient) -> None:
    _, a_auth = _admin(ctx, "ann")
    _admin(ctx, "ben")
    req, _ = make_user(ctx, "rita", ["requester"])
    done = api.post(
        f"/v1/users/{req}/suspend", json={"reason": "x"}, headers=person_headers(ctx, "ann", a_auth)
    )
    assert done.status_code == 200, done.text
    assert done.json()["state"] == "suspended" and done.json()["proposal"]["state"] == "approved"


# --- 6: reinstating is the two-person release --------------------------------------------
def test_one_admin_cannot_reinstate_alone(ctx: Context, api: TestClient) -> None:
    _, a_auth = _admin(ctx, "ann")
    _, b_auth = _admin(ctx, "ben")
    _admin(ctx, "cat")
    c = IdentityService(ctx)
    with ctx.db.transaction() as session:
        cat = UserId(c.users.require_user(session, "cat").id)
        c.lock_user(session, cat, actor="monitor:rule", reason="five MFA failures")
    ann = person_headers(ctx, "ann", a_auth)
    proposed = api.post(f"/v1/users/{cat}/reinstate", json={"reason": "false alarm"}, headers=ann)
    assert proposed.status_code == 202, proposed.text
    assert _state(ctx, cat) == "suspended"
    done = _approve(ctx, api, proposed.json()["proposal"]["id"], person_headers(ctx, "ben", b_auth))
    assert done.status_code == 200, done.text
    assert _state(ctx, cat) == "active"


# --- 1b: the bootstrap exception belongs to the first setup -------------------------------
def test_bootstrap_cannot_be_reentered_by_suspending_people(ctx: Context) -> None:
    ids = IdentityService(ctx)
    with ctx.db.transaction() as session:
        ids.bootstrap_admin(session, "root")
        root = UserId(ids.users.require_user(session, "root").id)
        ids.users.consume_enrolment(session, ids.users.user_row(session, root))
        sec2, _ = ids.users.add_user(session, "sec2", actor="system:test")
        ids.users.consume_enrolment(session, ids.users.user_row(session, sec2))
        first = ids.roles.propose(
            session,
            actor=root,
            kind=ProposalKind.GRANT_ROLE,
            payload={"user_id": sec2, "role": "security_admin"},
            reason="second admin",
        )
    assert first.state.value == "approved"  # the first setup: nobody else could approve
    with ctx.db.transaction() as session:
        details = [
            (r.action, json.loads(r.entry)["details"])
            for r in session.execute(select(AuditEntryRow).order_by(AuditEntryRow.seq)).scalars()
            if r.action == "identity.role_bootstrap_grant"
        ]
    assert details[-1][1]["bootstrap"] == "first setup"
    with ctx.db.transaction() as session:
        ids.lock_user(session, sec2, actor="monitor:rule", reason="forged events")
        eve, _ = ids.users.add_user(session, "eve", actor="system:test")
        ids.users.consume_enrolment(session, ids.users.user_row(session, eve))
        again = ids.roles.propose(
            session,
            actor=root,
            kind=ProposalKind.GRANT_ROLE,
            payload={"user_id": eve, "role": "security_admin"},
            reason="new admin",
        )
    assert again.state.value == "pending"
    with ctx.db.transaction() as session:
        assert ids.roles_of(session, eve) == ()


# --- 1c and point 9: every grant is four eyes; nobody grants themselves ------------------
def test_a_requester_grant_waits_for_a_second_admin(ctx: Context, api: TestClient) -> None:
    _, a_auth = _admin(ctx, "ann")
    _, b_auth = _admin(ctx, "ben")
    user, _ = make_user(ctx, "rita", [])
    ann = person_headers(ctx, "ann", a_auth)
    body = {"kind": "grant_role", "user_id": user, "role": "requester", "reason": "new hire"}
    proposed = api.post("/v1/roles/proposals", json=body, headers=ann)
    assert proposed.status_code == 201 and proposed.json()["state"] == "pending", proposed.text
    with ctx.db.transaction() as session:
        assert IdentityService(ctx).roles_of(session, user) == ()
    done = _approve(ctx, api, proposed.json()["id"], person_headers(ctx, "ben", b_auth))
    assert done.status_code == 200 and done.json()["state"] == "approved"


# --- 2: tokens belong to their person -----------------------------------------------------
def test_a_service_account_token_is_four_eyes(ctx: Context, api: TestClient) -> None:
    _, a_auth = _admin(ctx, "ann")
    _, b_auth = _admin(ctx, "ben")
    svc, _ = make_user(ctx, "backend", ["requester"], with_authenticator=False)
    events = _events(ctx)
    made = api.post(
        "/v1/tokens",
        json={"name": "backend", "owner_id": svc, "permissions": ["withdrawals:create"]},
        headers=person_headers(ctx, "ann", a_auth),
    )
    assert made.status_code == 202, made.text
    token = made.json()["token"]
    proposal = made.json()["proposal"]
    assert proposal["state"] == "pending" and "secret_sha256" not in proposal["payload"]
    assert api.get("/v1/auth/me", headers=bearer(token)).status_code == 401
    done = _approve(ctx, api, proposal["id"], person_headers(ctx, "ben", b_auth))
    assert done.status_code == 200, done.text
    me = api.get("/v1/auth/me", headers=bearer(token)).json()
    assert me["username"] == "backend" and me["permissions"] == ["withdrawals:create"]
    created = [e for e in events if e.type == "token.create" and e.outcome == "created"]
    assert len(created) == 1 and created[0].fields["owner"] == svc
    assert created[0].fields["scopes"] == ["withdrawals:create"]


def test_who_may_propose_a_service_token_is_asked_before_its_terms(
    ctx: Context, api: TestClient
) -> None:
    # A person who may not propose is refused as such: nothing about the account (its
    # name, its state, what it holds) comes back, whatever the terms ask for.
    _, auth = make_user(ctx, "cleo", ["requester"])
    assert auth is not None
    svc, _ = make_user(ctx, "backend", ["requester"], with_authenticator=False)
    made = api.post(
        "/v1/tokens",
        json={"name": "backend", "owner_id": svc, "permissions": ["users:write"]},
        headers=person_headers(ctx, "cleo", auth),
    )
    assert made.status_code == 403, made.text
    assert made.json()["error"] == "forbidden" and "backend" not in made.text


def _step_up(
    api: TestClient,
    ctx: Context,
    headers: dict[str, str],
    auth: SoftAuthenticator,
    token: dict[str, Any],
) -> Any:
    """A step-up for exactly `token` (tests/integration/identity/test_token_step_up.py)."""
    begun = api.post("/v1/auth/step-up/begin", json={"token": token}, headers=headers)
    assert begun.status_code == 200, begun.text
    challenge = base64url_to_bytes(begun.json()["options"]["challenge"])
    credential = auth.assert_(challenge=challenge, origin=ctx.settings.webauthn_origin)
    return {"challenge_id": begun.json()["challenge_id"], "credential": credential}


def test_an_own_privileged_token_needs_a_fresh_webauthn_assertion(
    ctx: Context, api: TestClient
) -> None:
    a, a_auth = _admin(ctx, "ann")
    _admin(ctx, "ben")
    events = _events(ctx)
    ann = person_headers(ctx, "ann", a_auth)
    body: dict[str, Any] = {"name": "siem", "permissions": ["freeze:set"]}
    refused = api.post("/v1/tokens", json=body, headers=ann)
    assert refused.status_code == 403, refused.text
    assert refused.json()["error"] == "step_up_required"
    # Someone else's authenticator does not answer ann's step-up.
    _, ben_auth = make_user(ctx, "bea", ["auditor"])
    assert ben_auth is not None
    foreign = _step_up(api, ctx, ann, ben_auth, body)
    wrong = api.post("/v1/tokens", json={**body, "step_up": foreign}, headers=ann)
    assert wrong.status_code == 401, wrong.text
    step_up = _step_up(api, ctx, ann, a_auth, body)
    made = api.post("/v1/tokens", json={**body, "step_up": step_up}, headers=ann)
    assert made.status_code == 201, made.text
    replay = api.post("/v1/tokens", json={**body, "step_up": step_up}, headers=ann)
    assert replay.status_code == 401  # the step-up challenge is single use
    me = api.get("/v1/auth/me", headers=bearer(made.json()["token"])).json()
    assert me["user_id"] == a and me["permissions"] == ["freeze:set"]
    created = [e for e in events if e.type == "token.create"]
    assert len(created) == 1 and created[0].fields["privileged"] is True
    assert created[0].fields["step_up"] is True and created[0].severity == "high"
    # Non-privileged permissions: the session is enough.
    plain = api.post("/v1/tokens", json={"name": "r", "permissions": ["users:read"]}, headers=ann)
    assert plain.status_code == 201, plain.text


def test_a_token_never_carries_more_than_its_owner_now(ctx: Context, api: TestClient) -> None:
    _, a_auth = _admin(ctx, "ann")
    _, b_auth = _admin(ctx, "ben")
    user, _ = make_user(ctx, "ops", ["operator", "requester"])
    token = owned_token(ctx, user, ["custody:write", "withdrawals:read"])
    assert api.get("/v1/auth/me", headers=bearer(token)).json()["permissions"] == [
        "custody:write",
        "withdrawals:read",
    ]
    revoke = api.post(
        "/v1/roles/revoke",
        json={"user_id": user, "role": "operator", "reason": "moved team"},
        headers=person_headers(ctx, "ann", a_auth),
    )
    assert revoke.status_code == 202, revoke.text
    _approve(ctx, api, revoke.json()["proposal"]["id"], person_headers(ctx, "ben", b_auth))
    assert api.get("/v1/auth/me", headers=bearer(token)).json()["permissions"] == [
        "withdrawals:read"
    ]


# --- point 9: the enrolment route is reachable -------------------------------------------
def test_reissuing_an_enrolment_secret_is_routed(ctx: Context, api: TestClient) -> None:
    _, a_auth = _admin(ctx, "ann")
    ann = person_headers(ctx, "ann", a_auth)
    with ctx.db.transaction() as session:
        invited, _ = IdentityService(ctx).users.add_user(session, "newbie", actor="system:test")
    reissued = api.post(f"/v1/users/{invited}/enrolment", json={}, headers=ann)
    assert reissued.status_code == 200, reissued.text
    assert reissued.json()["enrolment_secret"].startswith("enr_")
    # Someone who can already sign in keeps their account: a second authenticator for them
    # would let the admin act as them. Their factors are reset first (four eyes).
    enrolled, _ = make_user(ctx, "rita", ["requester"])
    refused = api.post(f"/v1/users/{enrolled}/enrolment", json={}, headers=ann)
    assert (refused.status_code, refused.json()["error"]) == (409, "has_factors")
    bad = api.post(f"/v1/users/{enrolled}/promote", json={"reason": "x"}, headers=ann)
    assert bad.status_code in (404, 405)
    assert UserState.ACTIVE


def test_a_proposal_of_someone_since_suspended_cannot_be_approved(
    ctx: Context, api: TestClient
) -> None:
    _, a_auth = _admin(ctx, "ann")
    _, b_auth = _admin(ctx, "ben")
    _admin(ctx, "cat")
    user, _ = make_user(ctx, "rita", [])
    body = {"kind": "grant_role", "user_id": user, "role": "approver", "reason": "x"}
    proposed = api.post(
        "/v1/roles/proposals", json=body, headers=person_headers(ctx, "ann", a_auth)
    )
    ids = IdentityService(ctx)
    with ctx.db.transaction() as session:
        ann = UserId(ids.users.require_user(session, "ann").id)
        ids.lock_user(session, ann, actor="monitor:rule", reason="impossible travel")
    refused = _approve(ctx, api, proposed.json()["id"], person_headers(ctx, "ben", b_auth))
    assert (refused.status_code, refused.json()["error"]) == (409, "proposer_ineligible")
    with ctx.db.transaction() as session:
        assert ids.roles_of(session, user) == ()
