"""`kinko custody delegations list|propose|revoke` and their HTTP routes, on both
databases: proposed and approved by two operators, refused past their end or when one
legal entity would reach the quorum (exit 2 / 4xx with a stable code), revoked at once by
one person, reported ``expired`` past their end."""

from __future__ import annotations

import json
from datetime import timedelta

from fastapi.testclient import TestClient

from kinko.context import Context
from kinko.core.clock import FixedClock
from kinko.custody import delegations, keys
from kinko.custody.keys import NewKeyShare
from kinko.server import create_app
from kinko.services import Services
from tests.integration.custody.exchange import ACTOR, set_up
from tests.integration.custody.test_cli_api import approved, kinko, operator  # noqa: F401
from tests.support.identity import bearer, make_token, make_user

CEREMONY = {"performed_at": "2026-11-01", "witnesses": ["a", "b"], "procedure": "KGC-7"}
DAY = timedelta(days=1)


def _share(ctx: Context, wallet: str, entity: str, n: int) -> None:
    holder = make_user(ctx, f"holder{n}", with_authenticator=False)[0]
    share = NewKeyShare(wallet, holder, f"hsm-{n}", "tokyo", entity, f"02{n:064x}", CEREMONY)
    with ctx.db.transaction() as s:
        keys.unsafe_register_share(ctx, s, share, actor=ACTOR)


def _registered_long_ago(ctx: Context, clock: FixedClock, wallet: str) -> str:
    now = clock.now()
    clock.set(now - 10 * DAY)
    try:
        new = delegations.NewDelegation(wallet, "Axie DAO", "Sky Mavis", clock.now(),
                                        clock.now() + 2 * DAY)  # fmt: skip
        with ctx.db.transaction() as s:
            return delegations.store_delegation(
                ctx, s, new, actor=ACTOR, proposal="prp_fixture", proposer=ACTOR
            )
    finally:
        clock.set(now)


def _listed(ctx: Context, wallet: str) -> list[dict[str, str]]:
    code, out = kinko(ctx, "custody", "delegations", "list", "--wallet", wallet, "--json")
    assert code == 0, out
    return list(json.loads(out))


def test_delegations_on_the_command_line(ctx: Context, clock: FixedClock) -> None:
    ids = set_up(ctx)
    _share(ctx, ids.btc_cold, "Kinko KK", 1)
    _share(ctx, ids.btc_cold, "Custodian AG", 2)
    ends = (clock.now() + 2 * DAY).isoformat()
    propose = ("custody", "delegations", "propose", "--wallet", ids.btc_cold)
    approved(ctx, kinko(ctx, *propose, "--from", "Custodian AG", "--to", "Vault Ltd",
                        "--ends", ends))  # fmt: skip
    (live,) = _listed(ctx, ids.btc_cold)
    assert (live["from_entity"], live["to_entity"], live["state"]) == (
        "Custodian AG",
        "Vault Ltd",
        "live",
    )
    # One entity would reach the 2-of-3 quorum: refused, exit 2, naming it.
    code, out = kinko(ctx, *propose, "--from", "Custodian AG", "--to", "Kinko KK", "--ends", ends)
    assert code == 2 and "'Kinko KK' would reach 2 shares" in out, out
    # Past its end, or no time zone: refused naming the field.
    past = (clock.now() - DAY).isoformat()
    code, out = kinko(ctx, *propose, "--from", "A", "--to", "B", "--ends", past)
    assert code == 2 and "ends_at" in out and "past its end" in out, out
    code, out = kinko(ctx, *propose, "--from", "A", "--to", "B", "--ends", "2099-01-01T00:00")
    assert code == 2 and "ends_at" in out and "time zone" in out, out
    # One registered ten days ago for two days: the listing (real time) says it expired.
    old = _registered_long_ago(ctx, clock, ids.btc_cold)
    code, out = kinko(ctx, "custody", "delegations", "list", "--wallet", ids.btc_cold)
    assert code == 0 and f"expired {old}" in out and "counts for nothing" in out, out
    assert f"expired {live['id']}" not in out
    # Revoked at once by one person.
    code, out = kinko(ctx, "custody", "delegations", "revoke", live["id"], "--reason", "ended")
    assert code == 0 and "revoked" in out, out
    assert [d["state"] for d in _listed(ctx, ids.btc_cold)] == ["expired", "revoked"]
    code, out = kinko(ctx, "custody", "delegations", "revoke", live["id"], "--reason", "again")
    assert code == 2 and "already revoked" in out, out


def test_delegation_routes_answer_stable_codes(
    ctx: Context, services: Services, clock: FixedClock
) -> None:
    ids = set_up(ctx)
    _share(ctx, ids.btc_cold, "Kinko KK", 1)
    _share(ctx, ids.btc_cold, "Custodian AG", 2)
    api = TestClient(create_app(ctx, services=services), base_url="https://testserver")
    writer = bearer(make_token(ctx, roles_or_permissions=["custody:write", "custody:read"]))
    body = {"wallet_id": ids.btc_cold, "from_entity": "Custodian AG", "to_entity": "Kinko KK"}
    ends = (clock.now() + DAY).isoformat()
    answer = api.post("/v1/custody/delegations", json={**body, "ends_at": ends}, headers=writer)
    assert (answer.status_code, answer.json()["error"]) == (409, "quorum_within_one_entity")
    past = (clock.now() - DAY).isoformat()
    answer = api.post("/v1/custody/delegations", json={**body, "ends_at": past}, headers=writer)
    assert answer.status_code == 422, answer.text
    assert (answer.json()["error"], answer.json()["field"]) == ("delegation_expired", "ends_at")
    answer = api.post(
        "/v1/custody/delegations",
        json={**body, "to_entity": "Vault Ltd", "ends_at": ends},
        headers=writer,
    )
    assert answer.status_code == 202 and answer.json()["kind"] == "register_delegation"
    assert api.get("/v1/custody/delegations", headers=writer).json() == []  # not yet approved
    answer = api.post("/v1/custody/delegations/dlg_nope/revoke", json={"reason": "x"},
                      headers=writer)  # fmt: skip
    assert (answer.status_code, answer.json()["error"]) == (404, "not_found")


def test_delegations_hold_to_their_wallet(
    ctx: Context, services: Services, clock: FixedClock
) -> None:
    """A token limited to BTC reaches only the BTC wallets' delegations: it lists, proposes
    and revokes nothing of an ETH wallet's."""
    ids = set_up(ctx)
    api = TestClient(create_app(ctx, services=services), base_url="https://testserver")
    writer = bearer(make_token(ctx, roles_or_permissions=["custody:write", "custody:read"]))
    btc_only = bearer(
        make_token(ctx, roles_or_permissions=["custody:write", "custody:read"], assets=["BTC"])
    )
    made = {}
    for wallet in (ids.eth_cold, ids.btc_cold):
        new = delegations.NewDelegation(wallet, "A", "B", clock.now(), clock.now() + DAY)
        with ctx.db.transaction() as s:
            made[wallet] = delegations.store_delegation(
                ctx, s, new, actor=ACTOR, proposal="prp_fixture", proposer=ACTOR
            )
    every = api.get("/v1/custody/delegations", headers=writer).json()
    assert {d["id"] for d in every} == set(made.values())
    listed = api.get("/v1/custody/delegations", headers=btc_only).json()
    assert [d["id"] for d in listed] == [made[ids.btc_cold]]
    ends = (clock.now() + DAY).isoformat()
    body = {"wallet_id": ids.eth_cold, "from_entity": "C", "to_entity": "D", "ends_at": ends}
    assert api.post("/v1/custody/delegations", json=body, headers=btc_only).status_code == 403
    revoke = {"reason": "ended"}
    path = "/v1/custody/delegations/{}/revoke"
    answer = api.post(path.format(made[ids.eth_cold]), json=revoke, headers=btc_only)
    assert answer.status_code == 403, answer.text
    answer = api.post(path.format(made[ids.btc_cold]), json=revoke, headers=btc_only)
    assert answer.status_code == 200 and answer.json()["state"] == "revoked", answer.text
