"""Issue 13: the second vote of a four-eyes step is the approver's own security key, now,
bound to that vote (`kinko.identity.step_ups`), never a session alone, on both databases
through the real API. Each refusal is alerted naming the person (``kinko-insider-refused``).

A session says who signed in and how (perhaps with TOTP, hours ago); a stolen session
cookie, a page in another tab or a phished assertion for one proposal must not approve
another one.
"""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from kinko.context import Context
from kinko.identity.model import ProposalState, UserId
from kinko.identity.service import IdentityService
from kinko.identity.sessions import csrf_token_for
from kinko.server import create_app
from tests.integration.insider.steps import Watch
from tests.support.cli_api import session_of
from tests.support.identity import make_user, person_headers
from tests.support.votes import key_of, step_up

APPROVE = "/v1/roles/proposals/{}/approve"


def admin(ctx: Context, name: str) -> tuple[UserId, dict[str, str]]:
    user, key = make_user(ctx, name, ["security_admin"])
    assert key is not None
    return user, person_headers(ctx, name, key)


def grant(api: TestClient, headers: dict[str, str], user: str, role: str) -> str:
    body = {"kind": "grant_role", "user_id": user, "role": role, "reason": "new hire"}
    proposed = api.post("/v1/roles/proposals", json=body, headers=headers)
    assert proposed.status_code == 201, proposed.text
    return str(proposed.json()["id"])


def state(ctx: Context, proposal: str) -> ProposalState:
    with ctx.db.reading() as session:
        [found] = [
            p for p in IdentityService(ctx).roles.list_proposals(session) if p.id == proposal
        ]
        return found.state


def approve(api: TestClient, proposal: str, headers: dict[str, str], **body: Any) -> Any:
    return api.post(APPROVE.format(proposal), json=body, headers=headers)


def test_a_session_alone_casts_no_second_vote(ctx: Context, api: TestClient, watch: Watch) -> None:
    _, ann = admin(ctx, "ann")
    ben, ben_session = admin(ctx, "ben")
    carl, _ = make_user(ctx, "carl")
    proposal = grant(api, ann, carl, "approver")
    watch.refused(approve(api, proposal, ben_session), 403, "step_up_required", ben)
    assert state(ctx, proposal) is ProposalState.PENDING
    # Who may not vote is told why before touching a key: ann proposed it.
    begin = {"purpose": "approve", "approval": {"kind": "proposal", "subject": proposal}}
    ann_id = api.get("/v1/auth/me", headers=ann).json()["user_id"]
    watch.refused(
        api.post("/v1/auth/step-up/begin", json=begin, headers=ann), 403, "self_approval", ann_id
    )
    vote = step_up(ctx, api, ben_session, "proposal", proposal)
    done = approve(api, proposal, ben_session, step_up=vote)
    assert done.status_code == 200 and done.json()["state"] == "approved", done.text
    watch.quiet()


def test_a_step_up_is_good_for_one_vote_by_one_person(
    ctx: Context, api: TestClient, watch: Watch
) -> None:
    _, ann = admin(ctx, "ann")
    ben, ben_session = admin(ctx, "ben")
    _, cat_session = admin(ctx, "cat")
    carl, _ = make_user(ctx, "carl")
    dora, _ = make_user(ctx, "dora")
    for_carl = grant(api, ann, carl, "approver")
    for_dora = grant(api, ann, dora, "security_admin")
    # Ben's key said yes to carl's grant; it does not approve dora's.
    phished = step_up(ctx, api, ben_session, "proposal", for_carl)
    refused = watch.refused(
        approve(api, for_dora, ben_session, step_up=phished), 403, "step_up_mismatch", ben
    )
    assert refused["route"] == "/v1/roles/proposals/{proposal_id}/approve"
    # Cat's assertion (her challenge, her key) is not ben's vote.
    cats = step_up(ctx, api, cat_session, "proposal", for_dora)
    watch.refused(approve(api, for_dora, ben_session, step_up=cats), 401, "step_up_refused", ben)
    # Nor is ben's key over cat's challenge.
    begun = api.post(
        "/v1/auth/step-up/begin",
        json={"purpose": "approve", "approval": {"kind": "proposal", "subject": for_dora}},
        headers=cat_session,
    ).json()
    forged = key_of(ctx, ben).assert_(
        challenge=_challenge(begun["options"]), origin=ctx.settings.webauthn_origin
    )
    borrowed = {"challenge_id": begun["challenge_id"], "credential": forged}
    watch.refused(
        approve(api, for_dora, ben_session, step_up=borrowed), 401, "step_up_refused", ben
    )
    # A token step-up (another purpose) is no vote either.
    token_terms = {"name": "t", "permissions": ["freeze:set"]}
    token_begun = api.post(
        "/v1/auth/step-up/begin", json={"token": token_terms}, headers=ben_session
    ).json()
    answer = key_of(ctx, ben).assert_(
        challenge=_challenge(token_begun["options"]), origin=ctx.settings.webauthn_origin
    )
    as_vote = {"challenge_id": token_begun["challenge_id"], "credential": answer}
    watch.refused(
        approve(api, for_dora, ben_session, step_up=as_vote), 401, "webauthn_challenge_invalid", ben
    )
    assert state(ctx, for_dora) is ProposalState.PENDING
    # Ben's own step-up for dora's grant, once.
    vote = step_up(ctx, api, ben_session, "proposal", for_dora)
    assert approve(api, for_dora, ben_session, step_up=vote).status_code == 200


def test_a_person_without_a_security_key_cannot_vote(
    ctx: Context, api: TestClient, watch: Watch
) -> None:
    """A session, however it was signed in, is not a vote: without a security key there
    is no step-up to give."""
    _, ann = admin(ctx, "ann")
    olga, _ = make_user(ctx, "olga", ["security_admin"], with_authenticator=False)
    carl, _ = make_user(ctx, "carl")
    proposal = grant(api, ann, carl, "approver")
    cookie = session_of(ctx, "olga")
    olga_session = {
        "Cookie": f"__Host-kinko_session={cookie}",
        "X-CSRF-Token": csrf_token_for(cookie),
    }
    begin = {"purpose": "approve", "approval": {"kind": "proposal", "subject": proposal}}
    refused = api.post("/v1/auth/step-up/begin", json=begin, headers=olga_session)
    assert refused.status_code == 403 and refused.json()["error"] == "webauthn_required"
    watch.alerted_once("webauthn_required", olga)
    assert state(ctx, proposal) is ProposalState.PENDING


def _challenge(options: dict[str, Any]) -> bytes:
    from webauthn.helpers import base64url_to_bytes

    return base64url_to_bytes(str(options["challenge"]))


def test_every_four_eyes_vote_route_takes_a_bound_step_up(ctx: Context) -> None:
    """A new approve or release route cannot forget the step-up: each one's body has
    ``step_up`` (withdrawal approvals bind their own digest; browser confirmations of a
    login or a token are an assertion themselves)."""
    schema = create_app(ctx).openapi()
    exempt = {
        "/v1/withdrawals/{withdrawal_id}/approve",
        "/v1/auth/device/approve",
        "/v1/tokens/requests/approve",
    }
    votes = {
        path: item["post"]
        for path, item in schema["paths"].items()
        if path.rsplit("/", 1)[-1] in {"approve", "release"} and path not in exempt
    }
    assert len(votes) == 4, sorted(votes)
    for path, operation in votes.items():
        body = operation["requestBody"]["content"]["application/json"]["schema"]
        ref = next(s["$ref"] for s in body.get("anyOf", [body]) if "$ref" in s)
        model = schema["components"]["schemas"][ref.rsplit("/", 1)[-1]]
        assert "step_up" in model["properties"], path
