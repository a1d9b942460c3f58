"""The monitor's HTTP API with real tokens and permissions, on both databases."""

from __future__ import annotations

import json

from fastapi.testclient import TestClient
from sqlalchemy import select

from kinko.context import Context
from kinko.identity.model import ProposalState
from kinko.server import create_app
from kinko.services import Services
from kinko.store.tables.audit import AuditEntryRow
from kinko.store.tables.identity import ApiTokenRow
from kinko.store.tables.monitor import AlertRow
from tests.support.identity import bearer, make_token, make_user, owned_token, person_headers
from tests.support.services import services_of
from tests.support.votes import vote_json
from tests.unit.monitor.support import ev

RELEASE = "response_release"


def ingest_owner(ctx: Context, token: str) -> str:
    token_id = token.removeprefix("kko_").rsplit("_", 1)[0]
    with ctx.db.transaction() as s:
        row = s.get(ApiTokenRow, token_id)
        assert row is not None
        return str(row.owner_id)


def event_json(**kw: object) -> dict:
    values = {"wallet": "w1", "asset": "ETH", "amount": 5, "wallet_tier": "hot", **kw}
    return ev("chain.outflow", **values).model_dump(mode="json")


def test_batch_ingest_and_alert_lifecycle(ctx: Context) -> None:
    ingest = make_token(ctx, roles_or_permissions=["monitor:ingest"])
    triage = make_token(ctx, roles_or_permissions=["monitor:read", "alerts:write"])
    with TestClient(create_app(ctx)) as client:
        posted = client.post("/v1/events", json={"events": [event_json()]}, headers=bearer(ingest))
        assert posted.status_code == 200, posted.text
        (alert,) = posted.json()["alerts"]
        assert (alert["rule"], alert["status"]) == (
            "kinko-hot-outflow-without-withdrawal",
            "applied",
        )
        listed = client.get("/v1/alerts", headers=bearer(triage)).json()
        assert [a["id"] for a in listed] == [alert["alert"]]
        acked = client.post(f"/v1/alerts/{alert['alert']}/acknowledge", headers=bearer(triage))
        assert acked.json()["status"] == "acknowledged"
        assign = f"/v1/alerts/{alert['alert']}/assign"
        make_user(ctx, "analyst", ["security_admin"], with_authenticator=False)
        make_user(ctx, "clerk", ["requester"], with_authenticator=False)
        for who, field in (("nobody", "assignee"), ("clerk", "assignee")):
            refused = client.post(assign, json={"assignee": who}, headers=bearer(triage))
            assert (refused.status_code, refused.json()["field"]) == (422, field), refused.text
        given = client.post(assign, json={"assignee": "analyst"}, headers=bearer(triage))
        assert given.status_code == 200, given.text
        assert given.json()["assigned_to"].startswith("user:usr_")
        with ctx.db.transaction() as s:
            entry = s.execute(
                select(AuditEntryRow.entry).where(AuditEntryRow.action == "monitor.alert_assigned")
            ).scalar_one()
        audited = json.loads(entry)["details"]
        assert (audited["assignee"], audited["previous"]) == (given.json()["assigned_to"], None)
        closed = client.post(
            f"/v1/alerts/{alert['alert']}/close",
            json={"resolution": "resolved", "note": "wallet swept by attacker; frozen"},
            headers=bearer(triage),
        )
        assert closed.json()["status"] == "resolved"
        again = client.post(f"/v1/alerts/{alert['alert']}/acknowledge", headers=bearer(triage))
        assert again.status_code == 409 and again.json()["error"] == "conflict"
        late = client.post(assign, json={"assignee": "analyst"}, headers=bearer(triage))
        assert late.status_code == 409, late.text  # a closed alert is not assigned


def test_batch_is_all_or_nothing_and_names_the_index(ctx: Context) -> None:
    ingest = make_token(ctx, roles_or_permissions=["monitor:ingest"])
    reader = make_token(ctx, roles_or_permissions=["monitor:read"])
    with TestClient(create_app(ctx)) as client:
        bad = {"events": [event_json(), event_json(), {**event_json(), "amount": 1.5}]}
        refused = client.post("/v1/events", json=bad, headers=bearer(ingest))
        assert refused.status_code == 422
        body = refused.json()
        assert body["error"] == "invalid_event" and body["field"] == "events[2]: amount"
        assert client.get("/v1/alerts", headers=bearer(reader)).json() == []


def test_permissions_are_enforced(ctx: Context) -> None:
    reader = make_token(ctx, roles_or_permissions=["monitor:read"])
    with TestClient(create_app(ctx)) as client:
        assert client.post("/v1/events", json={"events": [event_json()]}).status_code == 401
        denied = client.post("/v1/events", json={"events": [event_json()]}, headers=bearer(reader))
        assert denied.status_code == 403
        assert client.get("/v1/monitor/rules", headers=bearer(reader)).status_code == 200


def test_release_by_two_security_admins(ctx: Context) -> None:
    ingest = make_token(ctx, roles_or_permissions=["monitor:ingest"])
    # Each vote is a person's own session, never an API token (issue 13).
    first_id, first_auth = make_user(ctx, "sec1", ["security_admin"])
    _, second_auth = make_user(ctx, "sec2", ["security_admin"])
    assert first_auth is not None and second_auth is not None
    first = person_headers(ctx, "sec1", first_auth)
    second = person_headers(ctx, "sec2", second_auth)
    token = owned_token(ctx, first_id, ["responses:release"])
    with TestClient(create_app(ctx)) as client:
        client.post("/v1/events", json={"events": [event_json()]}, headers=bearer(ingest))
        from sqlalchemy import select

        from kinko.store.tables.monitor import ResponseRow

        with ctx.db.transaction() as s:
            response_id = s.execute(select(ResponseRow.id)).scalar_one()
        url = f"/v1/responses/{response_id}/release"
        by_token = client.post(url, json={"reason": "explained"}, headers=bearer(token))
        assert (by_token.status_code, by_token.json()["error"]) == (403, "person_required")
        body = vote_json(ctx, client, first, RELEASE, response_id, reason="explained")
        one = client.post(url, json=body, headers=first)
        assert one.json()["message"] == "signed by 1/2 required security admins"
        twice = client.post(url, json={"reason": "explained"}, headers=first)  # no key asked
        assert (twice.status_code, twice.json()["error"]) == (403, "self_approval"), twice.text
        body = vote_json(ctx, client, second, RELEASE, response_id, reason="explained")
        two = client.post(url, json=body, headers=second)
        assert two.status_code == 200 and two.json()["released"] is True


def test_release_needs_a_step_up_bound_to_this_response(ctx: Context) -> None:
    """The deciding vote without a step-up, or with one given for another response's
    release, is refused (403) and changes nothing: the freeze stays, one vote counted."""
    from kinko.store.tables.monitor import ResponseRow

    ingest = make_token(ctx, roles_or_permissions=["monitor:ingest"])
    admins = {}
    for name in ("sec1", "sec2"):
        _, auth = make_user(ctx, name, ["security_admin"])
        assert auth is not None
        admins[name] = person_headers(ctx, name, auth)
    with TestClient(create_app(ctx)) as client:
        for wallet in ("w1", "w2"):
            events = {"events": [event_json(wallet=wallet)]}
            assert client.post("/v1/events", json=events, headers=bearer(ingest)).status_code == 200
        with ctx.db.transaction() as s:
            mine, other = s.execute(select(ResponseRow.id).order_by(ResponseRow.target)).scalars()
        url = f"/v1/responses/{mine}/release"
        for response in (mine, other):  # sec1's votes propose both releases (no key needed)
            first = client.post(
                f"/v1/responses/{response}/release",
                json={"reason": "explained"},
                headers=admins["sec1"],
            )
            assert first.json()["released"] is False, first.text

        second = admins["sec2"]
        bare = client.post(url, json={"reason": "explained"}, headers=second)
        assert (bare.status_code, bare.json()["error"]) == (403, "step_up_required"), bare.text
        body = vote_json(ctx, client, second, RELEASE, other, reason="explained")
        misbound = client.post(url, json=body, headers=second)
        assert (misbound.status_code, misbound.json()["error"]) == (403, "step_up_mismatch")
        with ctx.db.transaction() as s:
            services = services_of(ctx)
            pending = services.identity.roles.list_proposals(s, ProposalState.PENDING)
            voted = sorted(p.payload["response_id"] for p in pending)
            frozen = [f.target for f in services.freezes.active_freezes(s)]
        assert voted == sorted([mine, other]) and sorted(frozen) == ["w1", "w2"]  # nothing

        body = vote_json(ctx, client, second, RELEASE, mine, reason="explained")
        released = client.post(url, json=body, headers=second)
        assert released.status_code == 200 and released.json()["released"] is True
    with ctx.db.transaction() as s:
        assert [f.target for f in services_of(ctx).freezes.active_freezes(s)] == ["w2"]


def test_an_ingest_token_cannot_suspend_an_admin(ctx: Context, services: Services) -> None:
    """Issue #13, attack 6: five made-up MFA failures, then a success, naming an admin."""
    from kinko.identity.model import UserState

    ingest = make_token(ctx, roles_or_permissions=["monitor:ingest"])
    admin, _ = make_user(ctx, "root", ["security_admin"], with_authenticator=False)
    clerk, _ = make_user(ctx, "clerk", ["requester"], with_authenticator=False)

    def fatigue(actor: str) -> list[dict]:
        events = [ev("auth.mfa", i * 10, actor=actor, outcome="failure") for i in range(5)]
        events.append(ev("auth.mfa", 60, actor=actor, outcome="success"))
        return [e.model_dump(mode="json") for e in events]

    with TestClient(create_app(ctx)) as client:
        posted = client.post(
            "/v1/events", json={"events": fatigue(f"user:{admin}")}, headers=bearer(ingest)
        )
        assert posted.status_code == 200, posted.text
        [alert] = posted.json()["alerts"]
        assert (alert["rule"], alert["response"], alert["status"]) == (
            "kinko-mfa-fatigue",
            "lock_account",
            "withheld",
        )
        # The alert and the audit log name who posted the forged events.
        poster = f"user:{ingest_owner(ctx, ingest)}"
        with ctx.db.transaction() as s:
            evidence = s.get(AlertRow, alert["alert"]).evidence  # type: ignore[union-attr]
            audited = s.scalars(
                select(AuditEntryRow.actor).where(AuditEntryRow.action == "monitor.events_ingested")
            ).all()
        assert audited == [poster]
        assert poster in json.dumps(evidence), evidence
        # Someone without a privileged role is still locked on the same evidence.
        posted = client.post(
            "/v1/events", json={"events": fatigue(f"user:{clerk}")}, headers=bearer(ingest)
        )
        assert [a["status"] for a in posted.json()["alerts"]] == ["applied"]
    with ctx.db.transaction() as s:
        users = services.identity.users
        assert users.get(s, admin).state == UserState.ACTIVE
        assert users.get(s, clerk).state == UserState.SUSPENDED
