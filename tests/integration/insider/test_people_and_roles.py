"""Issue 13's insider, replayed through the real API on SQLite and PostgreSQL: who may do
what. Every step one person tries alone is refused with a stable error code, and the
monitor alerts naming that person (``kinko-insider-refused``).

Attacks (issue 13, "Why"): 1a one admin takes the others away, 1b the bootstrap exception
re-entered once the others are gone, 1c a grant applied by its proposer alone, 2 tokens
for someone else and tokens casting the second vote, 6 a lone reinstatement or release,
9 a security_admin granting itself a role and taking over someone's account through a new
enrolment secret.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select

from kinko.context import Context
from kinko.identity.model import UserId, UserState
from kinko.identity.service import IdentityService
from kinko.identity.softauthn import SoftAuthenticator
from kinko.policy.freeze import FreezeService
from kinko.store.tables.monitor import ResponseRow
from tests.integration.insider.steps import Watch
from tests.support.identity import bearer, make_token, make_user, owned_token, person_headers
from tests.support.votes import vote_json


def admin(ctx: Context, name: str) -> tuple[UserId, dict[str, str]]:
    """A security admin with their own authenticator, and their signed-in session."""
    user, key = make_user(ctx, name, ["security_admin"])
    assert isinstance(key, SoftAuthenticator)
    return user, person_headers(ctx, name, key)


def state(ctx: Context, user: str) -> UserState:
    with ctx.db.reading() as session:
        return IdentityService(ctx).users.get(session, UserId(user)).state


def roles(ctx: Context, user: str) -> list[str]:
    with ctx.db.reading() as session:
        return [g.role.value for g in IdentityService(ctx).roles_of(session, UserId(user))]


def approve(api: TestClient, proposal: str, headers: dict[str, str]) -> Any:
    return api.post(f"/v1/roles/proposals/{proposal}/approve", json={}, headers=headers)


def lock(ctx: Context, user: str, reason: str) -> None:
    """What the monitor's lock_account response does (Kinko's own evidence)."""
    with ctx.db.transaction() as session:
        IdentityService(ctx).lock_user(session, UserId(user), actor="monitor:rule", reason=reason)


def test_1a_one_admin_cannot_take_the_other_admin_away(
    ctx: Context, api: TestClient, watch: Watch
) -> None:
    ann, ann_session = admin(ctx, "ann")
    ben, _ = admin(ctx, "ben")
    with_token = bearer(owned_token(ctx, ann, ["users:write", "roles:propose"]))
    suspend = {"reason": "left"}
    watch.refused(
        api.post(f"/v1/users/{ben}/suspend", json=suspend, headers=with_token),
        403,
        "person_required",
        ann,
    )
    for action in ("suspend", "remove"):
        watch.refused(
            api.post(f"/v1/users/{ben}/{action}", json=suspend, headers=ann_session),
            409,
            "last_two_admins",
            ann,
        )
    revoke = {"user_id": ben, "role": "security_admin", "reason": "x"}
    watch.refused(
        api.post("/v1/roles/revoke", json=revoke, headers=ann_session), 409, "last_two_admins", ann
    )
    assert state(ctx, ben) is UserState.ACTIVE and roles(ctx, ben) == ["security_admin"]


def test_1b_1c_with_the_others_gone_nothing_applies_at_once(
    ctx: Context, api: TestClient, watch: Watch
) -> None:
    """Ann is the last active admin (ben and cat were locked by the monitor): the first
    setup's exception does not come back, every grant waits, and she cannot approve her
    own proposals; nor can the person a grant is for."""
    ann, ann_session = admin(ctx, "ann")
    ben, _ = admin(ctx, "ben")
    cat, _ = admin(ctx, "cat")
    lock(ctx, ben, "impossible travel")
    lock(ctx, cat, "impossible travel")
    eve, _ = make_user(ctx, "eve", [])
    proposals = {}
    for person, role in ((eve, "security_admin"), (eve, "approver")):
        body = {"kind": "grant_role", "user_id": person, "role": role, "reason": "new hire"}
        made = api.post("/v1/roles/proposals", json=body, headers=ann_session)
        assert made.status_code == 201 and made.json()["state"] == "pending", made.text
        proposals[role] = made.json()["id"]
        watch.refused(approve(api, proposals[role], ann_session), 403, "self_approval", ann)
    assert roles(ctx, eve) == []
    # The person a grant is for cannot approve it, admin or not.
    dan, dan_session = admin(ctx, "dan")
    body = {"kind": "grant_role", "user_id": dan, "role": "requester", "reason": "x"}
    made = api.post("/v1/roles/proposals", json=body, headers=ann_session).json()
    watch.refused(approve(api, made["id"], dan_session), 403, "self_approval", dan)
    assert roles(ctx, dan) == ["security_admin"]


def test_2_tokens_belong_to_their_person_and_never_cast_a_vote(
    ctx: Context, api: TestClient, watch: Watch
) -> None:
    ann, ann_session = admin(ctx, "ann")
    ben, _ = admin(ctx, "ben")
    # A token owned by the other admin, to lift a freeze "as" them: refused.
    minted = {"name": "x", "owner_id": ben, "permissions": ["freeze:release"]}
    watch.refused(
        api.post("/v1/tokens", json=minted, headers=ann_session), 403, "not_a_service_account", ann
    )
    # Her own privileged token needs a fresh WebAuthn step-up, not a session alone.
    privileged = {"name": "siem", "permissions": ["freeze:set"]}
    watch.refused(
        api.post("/v1/tokens", json=privileged, headers=ann_session),
        403,
        "step_up_required",
        ann,
    )
    # Ben's own token (stolen, or ben colluding with nobody): no tokens, no second vote.
    ben_token = bearer(owned_token(ctx, ben, ["tokens:write", "freeze:release"]))
    own = {"name": "x", "permissions": ["users:read"]}
    watch.refused(api.post("/v1/tokens", json=own, headers=ben_token), 403, "person_required", ben)
    freeze = {"scope": "chain", "target": "ethereum", "reason": "drill"}
    frozen = api.post("/v1/freezes", json=freeze, headers=ann_session).json()
    lift = api.post(
        f"/v1/freezes/{frozen['id']}/unfreeze", json={"reason": "over"}, headers=ann_session
    ).json()
    vote = f"/v1/unfreeze-proposals/{lift['id']}/approve"
    watch.refused(api.post(vote, headers=ben_token), 403, "person_required", ben)
    watch.refused(api.post(vote, headers=ann_session), 403, "self_approval", ann)
    with ctx.db.reading() as session:
        assert [f.id for f in FreezeService(ctx).active_freezes(session)] == [frozen["id"]]


def test_6_forged_events_suspend_nobody_and_one_admin_reinstates_nobody(
    ctx: Context, api: TestClient, watch: Watch
) -> None:
    ann, ann_session = admin(ctx, "ann")
    ben, _ = admin(ctx, "ben")
    cat, _ = admin(ctx, "cat")
    # Five made-up MFA failures and a success naming ben, posted with an ingest token.
    now = ctx.clock.now()
    forged = [
        {
            "time": (now + timedelta(seconds=10 * i)).isoformat(),
            "type": "auth.mfa",
            "actor": f"user:{ben}",
            "outcome": "failure" if i < 5 else "success",
        }
        for i in range(6)
    ]
    ingest = bearer(make_token(ctx, roles_or_permissions=["monitor:ingest"]))
    posted = api.post("/v1/events", json={"events": forged}, headers=ingest)
    assert posted.status_code == 200, posted.text
    [alert] = posted.json()["alerts"]
    assert (alert["rule"], alert["response"], alert["status"]) == (
        "kinko-mfa-fatigue",
        "lock_account",
        "withheld",  # the lock is refused on ingested evidence; the alert names ben
    )
    assert alert["target"] == f"user:{ben}" and state(ctx, ben) is UserState.ACTIVE
    # Cat is locked on Kinko's own evidence; ann alone reinstates nobody.
    lock(ctx, cat, "five MFA failures")
    proposed = api.post(f"/v1/users/{cat}/reinstate", json={"reason": "x"}, headers=ann_session)
    assert proposed.status_code == 202, proposed.text
    watch.refused(
        approve(api, proposed.json()["proposal"]["id"], ann_session), 403, "self_approval", ann
    )
    assert state(ctx, cat) is UserState.SUSPENDED
    # Nor does she release a monitor response alone: her second vote is refused.
    clerk, _ = make_user(ctx, "clerk", ["requester"], with_authenticator=False)
    for event in forged:
        event["actor"] = f"user:{clerk}"
    [applied] = api.post("/v1/events", json={"events": forged}, headers=ingest).json()["alerts"]
    assert applied["status"] == "applied" and state(ctx, clerk) is UserState.SUSPENDED
    with ctx.db.reading() as session:
        response = session.execute(
            select(ResponseRow.id).where(ResponseRow.alert_id == applied["alert"])
        ).scalar_one()
    release = f"/v1/responses/{response}/release"
    first = vote_json(ctx, api, ann_session, "response_release", response, reason="ok")
    assert api.post(release, json=first, headers=ann_session).status_code == 200
    watch.refused(
        api.post(release, json={"reason": "ok"}, headers=ann_session), 403, "self_approval", ann
    )
    assert state(ctx, clerk) is UserState.SUSPENDED


def test_9_no_self_grant_and_no_take_over_by_enrolment(
    ctx: Context, api: TestClient, watch: Watch
) -> None:
    ann, ann_session = admin(ctx, "ann")
    admin(ctx, "ben")
    body = {"kind": "grant_role", "user_id": ann, "role": "requester", "reason": "me"}
    watch.refused(
        api.post("/v1/roles/proposals", json=body, headers=ann_session), 403, "self_grant", ann
    )
    assert roles(ctx, ann) == ["security_admin"]
    # A second authenticator for bob, who can sign in, would let ann act as bob.
    bob, _ = make_user(ctx, "bob", ["approver"])
    watch.refused(
        api.post(f"/v1/users/{bob}/enrolment", json={}, headers=ann_session),
        409,
        "has_factors",
        ann,
    )
