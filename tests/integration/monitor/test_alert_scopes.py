"""Scopes hold on monitor alerts and responses (issue 13, point 3): an alert about a
wallet or asset outside the caller's scope is neither listed, shown, acknowledged nor
closed, and the list's limit counts what the caller sees; an alert about a person (no
wallet, no asset) is seen by whoever holds the permission; releasing a response needs
``responses:release`` for what it froze. Placed in tests/integration/test_authz_scopes.py."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from kinko.context import Context
from kinko.core.ids import new_id
from kinko.identity.model import RoleGrant
from kinko.identity.permissions import Role
from kinko.server import create_app
from kinko.store.tables.monitor import AlertRow, ResponseRow
from tests.integration.custody.exchange import Wallets, set_up
from tests.support.identity import bearer, make_token, make_user, owned_token, person_headers
from tests.support.votes import vote_json

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")
RELEASE = "response_release"


@pytest.fixture
def wallets(ctx: Context) -> Wallets:
    return set_up(ctx)


@pytest.fixture
def api(ctx: Context) -> Iterator[TestClient]:
    with TestClient(create_app(ctx), base_url="https://testserver") as client:
        yield client


def _alert(ctx: Context, n: int, **evidence: str) -> str:
    """An open alert created `n` seconds from now, fired by an event with `evidence`."""
    now = ctx.clock.now() + timedelta(seconds=n)
    alert_id = new_id("alr")
    with ctx.db.transaction() as session:
        session.add(
            AlertRow(
                id=alert_id,
                rule_id="test-rule",
                title=f"alert {n}",
                level="high",
                kind="detection",
                status="open",
                event_time=now,
                created_at=now,
                reason="",
                group={},
                evidence={"type": "chain.outflow", **evidence},
            )
        )
    return alert_id


def test_alerts_hold_to_the_wallet_or_asset_they_are_about(
    ctx: Context, wallets: Wallets, api: TestClient
) -> None:
    btc = _alert(ctx, 1, wallet=wallets.btc_hot, asset="bitcoin:BTC")
    about_a_person = _alert(ctx, 2, actor="user:someone")
    eth_both = _alert(ctx, 3, wallet=wallets.eth_hot, asset="ethereum:ETH")
    eth_wallet = _alert(ctx, 4, wallet=wallets.eth_cold)  # e.g. withdrawal.approve: no asset
    eth_asset = _alert(ctx, 5, asset="ETH")
    everything = make_token(ctx, roles_or_permissions=["monitor:read", "alerts:write"])
    btc_only = make_token(
        ctx, roles_or_permissions=["monitor:read", "alerts:write"], assets=["BTC"]
    )
    warm_id, _ = make_user(
        ctx,
        "eth-cold-ops",
        [RoleGrant(Role.SECURITY_ADMIN, wallets=(wallets.eth_cold,))],
        with_authenticator=False,
    )
    eth_cold_only = owned_token(ctx, warm_id, ["monitor:read"])

    def listed(token: str, **params: Any) -> list[str]:
        answer = api.get("/v1/alerts", params=params, headers=bearer(token))
        assert answer.status_code == 200, answer.text
        return [a["id"] for a in answer.json()]

    assert listed(everything) == [eth_asset, eth_wallet, eth_both, about_a_person, btc]
    assert listed(btc_only) == [about_a_person, btc]
    # An alert about ETH as a whole concerns every ETH wallet, the cold one included.
    assert listed(eth_cold_only) == [eth_asset, eth_wallet, about_a_person]
    # The limit counts what the caller may see: newer ETH alerts do not fill the page.
    assert listed(btc_only, limit=1) == [about_a_person]
    assert listed(btc_only, limit=2) == [about_a_person, btc]
    shown = api.get(f"/v1/alerts/{btc}", headers=bearer(btc_only)).json()
    assert shown["wallet"] == wallets.btc_hot and shown["asset"] == "bitcoin:BTC"
    for alert_id in (eth_both, eth_wallet, eth_asset):
        refused = api.get(f"/v1/alerts/{alert_id}", headers=bearer(btc_only))
        assert refused.status_code == 403, (alert_id, refused.text)
        for action, body in (
            ("acknowledge", None),
            ("assign", {"assignee": "eth-cold-ops"}),
            ("close", {"resolution": "resolved", "note": "not mine"}),
        ):
            answer = api.post(
                f"/v1/alerts/{alert_id}/{action}", json=body, headers=bearer(btc_only)
            )
            assert answer.status_code == 403, (alert_id, action, answer.text)
    assert api.get(f"/v1/alerts/{eth_both}", headers=bearer(everything)).json()["status"] == "open"
    for alert_id in (btc, about_a_person):
        done = api.post(f"/v1/alerts/{alert_id}/acknowledge", headers=bearer(btc_only))
        assert done.status_code == 200, done.text
        assert done.json()["status"] == "acknowledged"


def test_releasing_a_response_holds_to_what_it_froze(
    ctx: Context, wallets: Wallets, api: TestClient
) -> None:
    responses: dict[str, str] = {}
    for name, wallet, asset in (
        ("btc", wallets.btc_hot, "bitcoin:BTC"),
        ("eth", wallets.eth_hot, "ethereum:ETH"),
    ):
        alert_id = _alert(ctx, 1, wallet=wallet, asset=asset)
        responses[name] = new_id("rsp")
        with ctx.db.transaction() as session:
            session.add(
                ResponseRow(
                    id=responses[name],
                    alert_id=alert_id,
                    rule_id="test-rule",
                    action="freeze",
                    scope="wallet",
                    target=wallet,
                    status="applied",
                    detail="",
                    ref=None,
                    created_at=ctx.clock.now(),
                )
            )
    _, auth = make_user(ctx, "btc-admin", [RoleGrant(Role.SECURITY_ADMIN, assets=("BTC",))])
    assert auth is not None
    btc_admin = person_headers(ctx, "btc-admin", auth)

    def release(name: str) -> Any:  # each vote with a step-up bound to it
        body = vote_json(ctx, api, btc_admin, RELEASE, responses[name], reason="drill over")
        return api.post(f"/v1/responses/{responses[name]}/release", json=body, headers=btc_admin)

    refused = release("eth")  # refused for its scope, not for want of a key
    assert refused.status_code == 403, refused.text
    assert not refused.json()["error"].startswith("step_up"), refused.text
    voted = release("btc")
    assert voted.status_code == 200, voted.text
    assert voted.json()["released"] is False  # the first of two votes
