"""Scopes hold on the console's pages and on the settlement steps as on the API (issue 13,
point 3): a person granted BTC only sees no ETH withdrawal awaiting approval on the home
page, and the approval page of one is refused; recording a co-signed, sent or confirmed
transaction needs the withdrawal's asset and wallet."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from kinko.identity.model import RoleGrant
from kinko.identity.permissions import Role
from kinko.server import create_app
from tests.integration.withdrawals.exchange import RECIPIENT, Exchange
from tests.support.identity import bearer, make_token, make_user, person_headers

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


@pytest.fixture
def api(exchange: Exchange) -> TestClient:
    app = create_app(exchange.ctx, services=exchange.services)
    return TestClient(app, base_url="https://testserver")


def _pending_eth(exchange: Exchange, api: TestClient, key: str) -> dict[str, Any]:
    creator = make_token(exchange.ctx, roles_or_permissions=["withdrawals:create"])
    made = api.post(
        "/v1/withdrawals",
        json={"asset": "ETH", "amount": "2", "destination": RECIPIENT},
        headers={**bearer(creator), "Idempotency-Key": key},
    )
    assert made.status_code == 201, made.text
    assert made.json()["state"] == "pending_approval"
    return dict(made.json())


def _person(exchange: Exchange, name: str, grant: RoleGrant) -> dict[str, str]:
    _, auth = make_user(exchange.ctx, name, [grant])
    assert auth is not None
    return person_headers(exchange.ctx, name, auth)


def test_console_shows_only_withdrawals_in_the_callers_scope(
    exchange: Exchange, api: TestClient
) -> None:
    wd = _pending_eth(exchange, api, "console-scopes")
    btc_only = _person(exchange, "btc-approver", RoleGrant(Role.APPROVER, assets=("BTC",)))
    eth_only = _person(exchange, "eth-approver", RoleGrant(Role.APPROVER, assets=("ETH",)))
    warm_only = _person(exchange, "warm-approver", RoleGrant(Role.APPROVER, wallets=("w_warm",)))
    page = f"/console/withdrawals/{wd['id']}"
    for headers in (btc_only, warm_only):
        home = api.get("/console/", headers=headers)
        assert home.status_code == 200, home.text
        assert wd["id"] not in home.text and "<li>none</li>" in home.text
        refused = api.get(page, headers=headers)
        assert refused.status_code == 403, refused.text
        assert wd["digest"] not in refused.text and RECIPIENT not in refused.text
    home = api.get("/console/", headers=eth_only)
    assert home.status_code == 200 and f"/console/withdrawals/{wd['id']}" in home.text
    shown = api.get(page, headers=eth_only)
    assert shown.status_code == 200 and wd["digest"] in shown.text
    assert "data-approve" in shown.text  # in scope: the approve button is offered


def test_settlement_steps_hold_to_the_withdrawal_scope(exchange: Exchange, api: TestClient) -> None:
    wd = _pending_eth(exchange, api, "settle-scopes")
    btc_only = make_token(
        exchange.ctx, roles_or_permissions=["withdrawals:approve"], assets=["BTC"]
    )
    base = f"/v1/withdrawals/{wd['id']}"
    for step, body in (
        ("signed", {"signed": "00"}),
        ("sent", None),
        ("confirmed", {"txid": "0x" + "00" * 32}),
    ):
        refused = api.post(f"{base}/{step}", json=body, headers=bearer(btc_only))
        assert refused.status_code == 403, (step, refused.text)
        assert "ETH" in refused.json()["message"], (step, refused.text)
    # The rebalancing plan spans every wallet: a scoped requester may not submit it.
    scoped = make_token(exchange.ctx, roles_or_permissions=["withdrawals:create"], assets=["BTC"])
    plan = api.post("/v1/withdrawals/rebalance", json={}, headers=bearer(scoped))
    assert plan.status_code == 403 and "every asset and wallet" in plan.json()["message"]
