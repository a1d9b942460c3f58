"""Issue 13's insider against withdrawals, replayed through the real API on SQLite and
PostgreSQL (a hot ETH wallet on an in-process chain): nobody gets anything signed alone
(attack 1d), scopes hold (attack 3), and an old approval does not count again (attack 8).
Each refused step answers a stable error code and the monitor alerts naming the person.
"""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from kinko.identity.model import RoleGrant
from kinko.identity.permissions import Role
from tests.integration.insider.steps import Watch
from tests.integration.withdrawals.exchange import RECIPIENT, Exchange
from tests.support.alerts import fired
from tests.support.identity import bearer, make_token, make_user, owned_token, person_headers

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")
BODY: dict[str, Any] = {"asset": "ETH", "amount": "3", "destination": RECIPIENT}


def session_of(ex: Exchange, name: str) -> dict[str, str]:
    key = ex.users[name][1]
    assert key is not None
    return person_headers(ex.ctx, name, key)


def request(api: TestClient, headers: dict[str, str], key: str) -> dict[str, Any]:
    made = api.post("/v1/withdrawals", json=BODY, headers={**headers, "Idempotency-Key": key})
    assert made.status_code == 201, made.text
    assert made.json()["state"] == "pending_approval"
    return dict(made.json())


def assertion(ex: Exchange, api: TestClient, name: str, wd: str, headers: dict[str, str]) -> Any:
    """`name`'s assertion over the challenge the API issues them for `wd`."""
    issued = api.post(f"/v1/withdrawals/{wd}/approval-challenge", headers=headers)
    assert issued.status_code == 200, issued.text
    return ex.sign(name, bytes.fromhex(issued.json()["challenge_hex"]))


def approve(api: TestClient, wd: str, signed: Any, headers: dict[str, str]) -> Any:
    return api.post(f"/v1/withdrawals/{wd}/approve", json={"assertion": signed}, headers=headers)


def state(api: TestClient, ex: Exchange, wd: str) -> str:
    reader = bearer(make_token(ex.ctx, roles_or_permissions=["withdrawals:read"]))
    return str(api.get(f"/v1/withdrawals/{wd}", headers=reader).json()["state"])


def test_1d_one_person_gets_nothing_signed(
    exchange: Exchange, api: TestClient, watch: Watch
) -> None:
    ex = exchange
    alice, bob = session_of(ex, "alice"), session_of(ex, "bob")
    wd = request(api, alice, "k-alone")["id"]
    # The requester approves her own withdrawal: she holds no approving role.
    watch.refused(
        api.post(f"/v1/withdrawals/{wd}/approval-challenge", headers=alice),
        403,
        "missing_permission",
        ex.user("alice"),
    )
    # One approver counts once: bob's second vote is refused.
    first = approve(api, wd, assertion(ex, api, "bob", wd, bob), bob)
    assert first.status_code == 200 and first.json()["state"] == "pending_approval", first.text
    again = api.post(f"/v1/withdrawals/{wd}/approval-challenge", headers=bob)
    watch.refused(again, 403, "duplicate_approver", ex.user("bob"))
    assert state(api, ex, wd) == "pending_approval"
    # Someone who may both request and approve cannot approve what they requested.
    both, key = make_user(ex.ctx, "bea", ["requester", "senior_approver"])
    assert key is not None
    bea = person_headers(ex.ctx, "bea", key)
    own = request(api, bea, "k-own")["id"]
    watch.refused(
        api.post(f"/v1/withdrawals/{own}/approval-challenge", headers=bea),
        403,
        "requester_approved",
        both,
    )
    # The default pack's requester-approves-own rule holds that withdrawal too.
    assert "kinko-requester-approves-own" in fired(ex.ctx)
    assert state(api, ex, own) == "held"


def test_3_scopes_hold_on_requests_reads_and_votes(
    exchange: Exchange, api: TestClient, watch: Watch
) -> None:
    ex = exchange
    warm = RoleGrant(Role.REQUESTER, wallets=("wal_eth_warm",))
    wendy, _ = make_user(ex.ctx, "wendy", [warm], with_authenticator=False)
    token = bearer(owned_token(ex.ctx, wendy, ["withdrawals:create"]))
    hot = api.post("/v1/withdrawals", json=BODY, headers={**token, "Idempotency-Key": "w1"})
    alert = watch.refused(hot, 403, "forbidden", wendy)
    assert (alert["credential"], alert["route"]) == ("token", "/v1/withdrawals")
    wd = request(api, session_of(ex, "alice"), "k-hot")["id"]
    btc, _ = make_user(ex.ctx, "bill", ["auditor"], with_authenticator=False)
    btc_only = bearer(owned_token(ex.ctx, btc, ["withdrawals:read"], assets=["BTC"]))
    watch.refused(api.get(f"/v1/withdrawals/{wd}", headers=btc_only), 403, "forbidden", btc)
    erin, key = make_user(ex.ctx, "erin", [RoleGrant(Role.APPROVER, wallets=("wal_eth_warm",))])
    assert key is not None
    refuse = {"reason": "no"}
    erin_session = person_headers(ex.ctx, "erin", key)
    rejected = api.post(f"/v1/withdrawals/{wd}/reject", json=refuse, headers=erin_session)
    watch.refused(rejected, 403, "forbidden", erin)
    assert state(api, ex, wd) == "pending_approval"


def test_8_an_old_approval_does_not_count_on_a_new_withdrawal(
    exchange: Exchange, api: TestClient, watch: Watch
) -> None:
    """Bob's passkey reports signature counter 0 (a synced passkey). His approval of a
    withdrawal carol then rejects is replayed on the same transfer requested again (same
    digest): refused, and bob is named."""
    ex = exchange
    key = ex.users["bob"][1]
    assert key is not None
    key.counter_in_use = False
    alice, bob, carol = (session_of(ex, n) for n in ("alice", "bob", "carol"))
    first = request(api, alice, "k-first")
    captured = assertion(ex, api, "bob", first["id"], bob)
    assert approve(api, first["id"], captured, bob).status_code == 200
    denied = api.post(f"/v1/withdrawals/{first['id']}/reject", json={"reason": "x"}, headers=carol)
    assert denied.status_code == 200 and denied.json()["state"] == "denied", denied.text
    second = request(api, alice, "k-second")
    assert second["digest"] == first["digest"] and key.sign_count == 0
    replay = approve(api, second["id"], captured, bob)
    watch.refused(replay, 403, "challenge_unknown", ex.user("bob"))
    assert state(api, ex, second["id"]) == "pending_approval"
