"""Freeze and address-book HTTP routes: permissions, four eyes, stable error codes."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from kinko.context import Context
from kinko.server import create_app
from tests.integration.policy.support import COLD_ADDR, HOT_DEST
from tests.support.identity import bearer, make_token, make_user, owned_token, person_headers
from tests.support.votes import vote_json

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


@pytest.fixture
def api(ctx: Context) -> TestClient:
    return TestClient(create_app(ctx), base_url="https://testserver")


def test_freeze_and_two_person_unfreeze(ctx: Context, api: TestClient) -> None:
    # Unfreezing takes two security_admins (issue 6); a ciso may reach the route but not
    # approve, because the freeze service checks the role itself.
    # The approving vote needs the person's own session, never a token (issue 13).
    sec1_id, sec1_auth = make_user(ctx, "sec1", ["security_admin"])
    _, sec2_auth = make_user(ctx, "sec2", ["security_admin"])
    _, ciso_auth = make_user(ctx, "ciso", ["ciso"])
    assert sec1_auth is not None and sec2_auth is not None and ciso_auth is not None
    sec1 = owned_token(ctx, sec1_id, ["freeze:set", "freeze:release"])
    reader = make_token(ctx, roles_or_permissions=["custody:read"])
    body = {"scope": "chain", "target": "ethereum", "reason": "outflow alert"}
    assert api.post("/v1/freezes", json=body).status_code == 401
    assert api.post("/v1/freezes", json=body, headers=bearer(reader)).status_code == 403
    created = api.post("/v1/freezes", json=body, headers=bearer(sec1))
    assert created.status_code == 201, created.text
    freeze_id = created.json()["id"]
    listed = api.get("/v1/freezes", headers=bearer(reader)).json()
    assert [f["id"] for f in listed["freezes"]] == [freeze_id]
    proposal = api.post(
        f"/v1/freezes/{freeze_id}/unfreeze", json={"reason": "resolved"}, headers=bearer(sec1)
    )
    assert proposal.status_code == 201, proposal.text
    approve = f"/v1/unfreeze-proposals/{proposal.json()['id']}/approve"
    not_admin = api.post(approve, headers=person_headers(ctx, "ciso", ciso_auth))
    assert not_admin.status_code == 403 and "security_admin" in not_admin.json()["message"]
    own = api.post(approve, headers=person_headers(ctx, "sec1", sec1_auth))
    assert (own.status_code, own.json()["error"]) == (403, "self_approval")  # before any key
    sec2 = person_headers(ctx, "sec2", sec2_auth)
    body = vote_json(ctx, api, sec2, "proposal", proposal.json()["id"])
    done = api.post(approve, json=body, headers=sec2)
    assert done.status_code == 200 and done.json()["released"] is True
    assert api.get("/v1/freezes", headers=bearer(reader)).json()["freezes"] == []


def test_bad_freeze_is_422_naming_the_field(ctx: Context, api: TestClient) -> None:
    sec = make_token(ctx, roles_or_permissions=["freeze:set"])
    bad = api.post(
        "/v1/freezes", json={"scope": "asset", "target": "ETH", "reason": "x"}, headers=bearer(sec)
    )
    assert (bad.status_code, bad.json()["field"]) == (422, "target")
    unknown = api.post("/v1/freezes", json={"scope": "planet", "reason": "x"}, headers=bearer(sec))
    assert (unknown.status_code, unknown.json()["field"]) == (422, "scope")


def test_addressbook_propose_approve_remove(ctx: Context, api: TestClient) -> None:
    proposer = make_token(ctx, roles_or_permissions=["addressbook:propose", "custody:read"])
    approver_id, approver_auth = make_user(ctx, "senior", ["senior_approver"])
    assert approver_auth is not None
    approver = owned_token(ctx, approver_id, ["addressbook:approve"])
    approver_session = person_headers(ctx, "senior", approver_auth)
    body = {
        "chain": "ethereum",
        "address": COLD_ADDR.lower(),
        "label": "cold storage",
        "owner_kind": "own_wallet",
        "tiers": ["cold"],
    }
    assert (
        api.post("/v1/addressbook/proposals", json=body, headers=bearer(approver)).status_code
        == 403
    )
    made = api.post("/v1/addressbook/proposals", json=body, headers=bearer(proposer))
    assert made.status_code == 201, made.text
    assert made.json()["address"] == COLD_ADDR
    approve = f"/v1/addressbook/proposals/{made.json()['id']}/approve"
    with_token = api.post(approve, headers=bearer(approver))
    assert (with_token.status_code, with_token.json()["error"]) == (403, "person_required")
    vote = vote_json(ctx, api, approver_session, "proposal", made.json()["id"])
    approved = api.post(approve, json=vote, headers=approver_session)
    assert approved.status_code == 200, approved.text
    again = api.post(approve, headers=approver_session)
    assert (again.status_code, again.json()["error"]) == (409, "conflict")
    listed = api.get("/v1/addressbook", headers=bearer(proposer)).json()
    assert [e["address"] for e in listed["entries"]] == [COLD_ADDR]
    bad = api.post(
        "/v1/addressbook/proposals", json={**body, "address": "0x1234"}, headers=bearer(proposer)
    )
    assert (bad.status_code, bad.json()["field"]) == (422, "address")
    removed = api.post(
        "/v1/addressbook/remove",
        json={"chain": "ethereum", "address": COLD_ADDR, "reason": "retired"},
        headers=bearer(proposer),
    )
    assert removed.status_code == 200, removed.text
    assert api.get("/v1/addressbook", headers=bearer(proposer)).json()["entries"] == []


def test_an_approval_needs_a_step_up_bound_to_that_very_proposal(
    ctx: Context, api: TestClient
) -> None:
    """Without a step-up, or with one given for another proposal, an unfreeze or an
    address-book approval is refused (403) and nothing is applied."""
    sec1_id, _ = make_user(ctx, "sec1", ["security_admin"])
    _, sec2_auth = make_user(ctx, "sec2", ["security_admin"])
    _, senior_auth = make_user(ctx, "senior", ["senior_approver"])
    assert sec2_auth is not None and senior_auth is not None
    sec1 = owned_token(ctx, sec1_id, ["freeze:set", "freeze:release"])
    proposer = make_token(ctx, roles_or_permissions=["addressbook:propose", "custody:read"])
    unfreezes = []
    for chain in ("ethereum", "bitcoin"):
        body = {"scope": "chain", "target": chain, "reason": "outflow alert"}
        frozen = api.post("/v1/freezes", json=body, headers=bearer(sec1)).json()["id"]
        made = api.post(
            f"/v1/freezes/{frozen}/unfreeze", json={"reason": "resolved"}, headers=bearer(sec1)
        )
        unfreezes.append(made.json()["id"])
    entries = []
    for address in (COLD_ADDR, HOT_DEST):
        body = {"chain": "ethereum", "address": address, "label": "x", "owner_kind": "own_wallet"}
        made = api.post(
            "/v1/addressbook/proposals", json={**body, "tiers": ["cold"]}, headers=bearer(proposer)
        )
        entries.append(made.json()["id"])
    sec2 = person_headers(ctx, "sec2", sec2_auth)
    senior = person_headers(ctx, "senior", senior_auth)
    cases = [
        ("proposal", f"/v1/unfreeze-proposals/{unfreezes[0]}/approve", unfreezes, sec2),
        ("proposal", f"/v1/addressbook/proposals/{entries[0]}/approve", entries, senior),
    ]
    for kind, url, (_, other), person in cases:
        bare = api.post(url, headers=person)
        assert (bare.status_code, bare.json()["error"]) == (403, "step_up_required"), bare.text
        assert "/v1/auth/step-up/begin" in bare.json()["message"], bare.text
        misbound = api.post(url, json=vote_json(ctx, api, person, kind, other), headers=person)
        assert (misbound.status_code, misbound.json()["error"]) == (403, "step_up_mismatch")
    reader = make_token(ctx, roles_or_permissions=["custody:read"])
    assert len(api.get("/v1/freezes", headers=bearer(reader)).json()["freezes"]) == 2
    listed = api.get("/v1/addressbook", headers=bearer(proposer)).json()
    assert listed["entries"] == [] and len(listed["proposals"]) == 2  # nothing applied
    for kind, url, (mine, _), person in cases:
        done = api.post(url, json=vote_json(ctx, api, person, kind, mine), headers=person)
        assert done.status_code == 200, done.text
    [left] = api.get("/v1/freezes", headers=bearer(reader)).json()["freezes"]
    assert left["target"] == "bitcoin"
    listed = api.get("/v1/addressbook", headers=bearer(proposer)).json()
    assert [e["address"] for e in listed["entries"]] == [COLD_ADDR]
