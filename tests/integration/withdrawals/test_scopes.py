"""Asset and wallet scopes hold on every withdrawal route, reads included (issue 13,
attack 3: a requester granted only the warm wallet requested from the hot one and was
auto-approved; a BTC-only token listed ETH withdrawals)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from kinko.demo.exchange import devnet_eth_wallet
from kinko.identity.model import RoleGrant
from kinko.identity.permissions import Role
from kinko.server import create_app
from tests.integration.withdrawals.exchange import RECIPIENT, Exchange
from tests.support.identity import bearer, make_token, make_user, owned_token, person_headers

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")
WARM = "wal_eth_warm"
BODY: dict[str, Any] = {"asset": "ETH", "amount": "2", "destination": RECIPIENT}


@pytest.fixture
def api(exchange: Exchange) -> TestClient:
    with exchange.ctx.db.transaction() as session:
        session.add(
            devnet_eth_wallet(
                WARM,
                name="ETH warm",
                tier="warm",
                purpose="operational",
                address=exchange.w3.eth.accounts[1],
                created_at=exchange.ctx.clock.now(),
            )
        )
    app = create_app(exchange.ctx, services=exchange.services)
    return TestClient(app, base_url="https://testserver")


def _key(headers: dict[str, str], key: str) -> dict[str, str]:
    return {**headers, "Idempotency-Key": key}


def test_a_requester_scoped_to_one_wallet_cannot_spend_from_another(
    exchange: Exchange, api: TestClient
) -> None:
    warm_only, _ = make_user(
        exchange.ctx,
        "wendy",
        [RoleGrant(Role.REQUESTER, wallets=(WARM,))],
        with_authenticator=False,
    )
    token = owned_token(exchange.ctx, warm_only, ["withdrawals:create", "withdrawals:read"])
    # No source wallet: the default is the hot wallet, outside wendy's scope.
    refused = api.post("/v1/withdrawals", json=BODY, headers=_key(bearer(token), "w1"))
    assert refused.status_code == 403, refused.text
    assert refused.json()["error"] == "forbidden" and "wal_eth_hot" in refused.json()["message"]
    named = {**BODY, "source_wallet": "wal_eth_hot"}
    assert (
        api.post("/v1/withdrawals", json=named, headers=_key(bearer(token), "w2")).status_code
        == 403
    )
    listed = api.get("/v1/withdrawals", headers=bearer(token)).json()["withdrawals"]
    assert listed == []  # nothing was written
    allowed = {**BODY, "source_wallet": WARM}
    made = api.post("/v1/withdrawals", json=allowed, headers=_key(bearer(token), "w3"))
    assert made.status_code == 201, made.text
    assert made.json()["wallet"] == WARM


def test_reads_and_approvals_hold_to_asset_and_wallet_scopes(
    exchange: Exchange, api: TestClient
) -> None:
    creator = make_token(exchange.ctx, roles_or_permissions=["withdrawals:create"])
    made = api.post("/v1/withdrawals", json=BODY, headers=_key(bearer(creator), "k1")).json()
    assert made["wallet"] == "wal_eth_hot"
    btc_only = make_token(exchange.ctx, roles_or_permissions=["withdrawals:read"], assets=["BTC"])
    assert api.get("/v1/withdrawals", headers=bearer(btc_only)).json()["withdrawals"] == []
    shown = api.get(f"/v1/withdrawals/{made['id']}", headers=bearer(btc_only))
    assert shown.status_code == 403 and "ETH" in shown.json()["message"]
    bundle = api.get(f"/v1/withdrawals/{made['id']}/bundle", headers=bearer(btc_only))
    assert bundle.status_code == 403
    everything = make_token(exchange.ctx, roles_or_permissions=["withdrawals:read"])
    listed = api.get("/v1/withdrawals", headers=bearer(everything)).json()["withdrawals"]
    assert [w["id"] for w in listed] == [made["id"]]
    # An approver scoped to the warm wallet neither approves nor rejects a hot withdrawal.
    _, auth = make_user(exchange.ctx, "erin", [RoleGrant(Role.APPROVER, wallets=(WARM,))])
    assert auth is not None
    erin = person_headers(exchange.ctx, "erin", auth)
    for action, body in (("reject", {"reason": "no"}), ("execute", None)):
        answer = api.post(f"/v1/withdrawals/{made['id']}/{action}", json=body, headers=erin)
        assert answer.status_code == 403, (action, answer.text)
    assert (
        api.get(f"/v1/withdrawals/{made['id']}", headers=bearer(everything)).json()["state"]
        == "pending_approval"
    )


def test_a_scoped_list_fills_its_limit_from_what_the_caller_may_read(
    exchange: Exchange, api: TestClient
) -> None:
    """The limit counts visible withdrawals: newer ones outside the caller's scope do not
    push the caller's own out of the page."""
    warm_user, _ = make_user(
        exchange.ctx,
        "wanda",
        [RoleGrant(Role.REQUESTER, wallets=(WARM,))],
        with_authenticator=False,
    )
    warm = owned_token(exchange.ctx, warm_user, ["withdrawals:create", "withdrawals:read"])
    mine = api.post(
        "/v1/withdrawals", json={**BODY, "source_wallet": WARM}, headers=_key(bearer(warm), "own")
    )
    assert mine.status_code == 201, mine.text
    creator = make_token(exchange.ctx, roles_or_permissions=["withdrawals:create"])
    for n in range(3):
        exchange.ctx.clock.advance(timedelta(seconds=1))
        hot = api.post("/v1/withdrawals", json=BODY, headers=_key(bearer(creator), f"hot{n}"))
        assert hot.status_code == 201 and hot.json()["wallet"] == "wal_eth_hot"
    page = api.get("/v1/withdrawals", params={"limit": 1}, headers=bearer(warm)).json()
    assert [w["id"] for w in page["withdrawals"]] == [mine.json()["id"]]
