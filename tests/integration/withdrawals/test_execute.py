"""Executing approved withdrawals: the in-process signer then broadcast, on both databases.

Hot wallets are signed and broadcast as soon as the quorum is reached (or policy allowed
them), by the withdrawal services themselves; `POST /v1/withdrawals/{id}/execute` and
`kinko withdraw execute` are the operator's retry; warm and cold wallets are never signed
online; without a node nothing is signed.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from kinko.core.errors import Unavailable
from kinko.identity.sessions import COOKIE_NAME, CSRF_HEADER
from kinko.server import create_app
from kinko.store.tables.audit import AuditEntryRow
from kinko.store.tables.custody import WalletRow
from kinko.withdrawals.service import WithdrawalRequest
from kinko.withdrawals.stack import WithdrawalStack
from kinko.withdrawals.states import State
from kinko.withdrawals.wiring import EthereumGateway, WalletFreezes
from tests.integration.withdrawals.exchange import RECIPIENT, Exchange
from tests.integration.withdrawals.test_cli import kinko
from tests.support.cli_api import route_cli_to_api
from tests.support.identity import make_token, sign_in
from tests.support.services import services_of

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def online_stack(ex: Exchange) -> WithdrawalStack:
    return services_of(ex.ctx).stack_on(network="devnet", web3=ex.w3)


def app_for(stack: WithdrawalStack) -> TestClient:
    app = create_app(stack.ctx)
    app.state.withdrawal_stack = stack
    return TestClient(app, base_url="https://testserver")


def create(api: TestClient, ex: Exchange, amount: str, key: str) -> dict[str, Any]:
    token = make_token(ex.ctx, roles_or_permissions=["withdrawals:create"])
    response = api.post(
        "/v1/withdrawals",
        json={"asset": "ETH", "amount": amount, "destination": RECIPIENT},
        headers={"Authorization": f"Bearer {token}", "Idempotency-Key": key},
    )
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def approve(api: TestClient, ex: Exchange, name: str, wd: dict[str, Any]) -> dict[str, Any]:
    authenticator = ex.users[name][1]
    assert authenticator is not None
    cookie, csrf = sign_in(ex.ctx, name, authenticator)
    api.cookies.set(COOKIE_NAME, cookie)
    try:
        response = api.post(
            f"/v1/withdrawals/{wd['id']}/approve",
            json={"assertion": ex.assert_digest(name, wd["digest"])},
            headers={CSRF_HEADER: csrf},
        )
    finally:
        api.cookies.clear()
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def audit_actions(ex: Exchange, subject: str) -> list[str]:
    with ex.ctx.db.transaction() as session:
        return list(
            session.execute(
                select(AuditEntryRow.action)
                .where(AuditEntryRow.subject == subject)
                .order_by(AuditEntryRow.seq)
            ).scalars()
        )


def test_quorum_signs_and_broadcasts_at_once(exchange: Exchange) -> None:
    ex = exchange
    api = app_for(online_stack(ex))
    before = ex.w3.eth.get_balance(RECIPIENT)
    wd = create(api, ex, "2", "k-exec-quorum")
    assert wd["state"] == "pending_approval"
    assert approve(api, ex, "bob", wd)["state"] == "pending_approval"
    done = approve(api, ex, "carol", wd)
    assert done["state"] == "broadcast" and done["txid"]
    assert ex.w3.eth.wait_for_transaction_receipt(done["txid"])["status"] == 1
    assert ex.w3.eth.get_balance(RECIPIENT) - before == 2 * 10**18
    actions = audit_actions(ex, wd["id"])
    assert actions.count("signer.signed") == 1
    assert actions[-3:] == ["signer.signed", "withdrawal.signed", "withdrawal.broadcast"]
    # Executing again resumes nothing: same txid, the signer is not asked again.
    approver = make_token(ex.ctx, roles_or_permissions=["withdrawals:approve"])
    again = api.post(
        f"/v1/withdrawals/{wd['id']}/execute", headers={"Authorization": f"Bearer {approver}"}
    )
    assert again.status_code == 200 and again.json()["txid"] == done["txid"]
    assert audit_actions(ex, wd["id"]).count("signer.signed") == 1


def test_signatures_made_online_feed_the_nonce_self_test(exchange: Exchange) -> None:
    from kinko.store.tables.custody import SignatureLogRow

    ex = exchange
    api = app_for(online_stack(ex))
    first = create(api, ex, "0.5", "k-nonce-1")
    second = create(api, ex, "0.25", "k-nonce-2")
    assert first["state"] == second["state"] == "broadcast"
    with ex.ctx.db.transaction() as session:
        logged = session.execute(select(SignatureLogRow)).scalars().all()
        refs = sorted(row.txid for row in logged)
        r_values = {row.r for row in logged}
    assert refs == sorted([f"withdrawal:{first['id']}", f"withdrawal:{second['id']}"])
    assert len(r_values) == 2  # RFC 6979: distinct digests, distinct nonces
    report = services_of(ex.ctx).nonce_check("auditor")
    assert report.scanned == 2 and report.findings == ()


def test_policy_allowed_hot_withdrawal_is_broadcast_on_request(exchange: Exchange) -> None:
    ex = exchange
    api = app_for(online_stack(ex))
    wd = create(api, ex, "0.5", "k-exec-small")
    assert wd["state"] == "broadcast"
    assert ex.w3.eth.wait_for_transaction_receipt(wd["txid"])["status"] == 1


def test_without_a_node_nothing_is_signed(
    exchange: Exchange, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from web3 import EthereumTesterProvider, Web3

    ex = exchange
    assert ex.ctx.settings.ethereum_node_url == ""
    offline = services_of(ex.ctx).stack_on()  # no node configured
    # The node configured later: a fresh chain, where the account's next nonce is the one
    # Kinko took from its own records (docs/withdrawals.md: configure it before requesting).
    online = services_of(ex.ctx).stack_on(network="devnet", web3=Web3(EthereumTesterProvider()))
    wd = offline.withdrawals.request(
        WithdrawalRequest(asset="ETH", amount="0.5", destination=RECIPIENT),
        requester=ex.user("alice"),
        idempotency_key="k-exec-nonode",
        channel="api",
    ).to_json()
    assert wd["state"] == "approved" and wd["txid"] is None  # executed later
    # Not even the start-up pass tries without a node.
    assert offline.executor.resume() == []
    api = app_for(offline)
    approver = make_token(ex.ctx, roles_or_permissions=["withdrawals:approve"])
    reader = make_token(ex.ctx, roles_or_permissions=["withdrawals:read"])
    url = f"/v1/withdrawals/{wd['id']}/execute"
    assert api.post(url, headers={"Authorization": f"Bearer {reader}"}).status_code == 403
    refused = api.post(url, headers={"Authorization": f"Bearer {approver}"})
    assert refused.status_code == 503, refused.text
    assert refused.json()["error"] == "unavailable"
    assert "ethereum_node_url" in refused.json()["message"]
    assert "signer.signed" not in audit_actions(ex, wd["id"])
    route_cli_to_api(ex.ctx, monkeypatch, tmp_path / "config", withdrawal_stack=offline)
    code, out = kinko(ex, "withdraw", "execute", wd["id"], as_="bob")
    assert code == 1 and "ethereum_node_url" in out and "Traceback" not in out
    assert offline.withdrawals.get(wd["id"]).state is State.APPROVED
    # Once a node is there, the same withdrawal goes out.
    done = app_for(online).post(url, headers={"Authorization": f"Bearer {approver}"})
    assert done.status_code == 200, done.text
    assert done.json()["state"] == "broadcast"


def test_warm_wallet_is_never_signed_online(exchange: Exchange) -> None:
    ex = exchange
    stack = online_stack(ex)
    wd = stack.withdrawals.request(
        WithdrawalRequest(asset="ETH", amount="2", destination=RECIPIENT),
        requester=ex.user("alice"),
        idempotency_key="k-exec-warm",
        channel="api",
    )
    assert wd.digest is not None
    stack.approvals.approve(
        wd.id, approver=ex.user("bob"), assertion=ex.assert_digest("bob", wd.digest)
    )
    with ex.ctx.db.transaction() as session:  # reclassified before the quorum completes
        wallet = session.get(WalletRow, ex.wallet_id)
        assert wallet is not None
        wallet.tier = "warm"
    approved = stack.approvals.approve(
        wd.id, approver=ex.user("carol"), assertion=ex.assert_digest("carol", wd.digest)
    )
    assert approved.state is State.APPROVED  # waits for kinko cosign
    assert stack.executor.resume() == []  # and so does the start-up pass
    api = app_for(stack)
    approver = make_token(ex.ctx, roles_or_permissions=["withdrawals:approve"])
    refused = api.post(
        f"/v1/withdrawals/{wd.id}/execute", headers={"Authorization": f"Bearer {approver}"}
    )
    assert (refused.status_code, refused.json()["error"]) == (409, "offline_signing_required")
    assert "kinko cosign" in refused.json()["message"]
    assert "signer.signed" not in audit_actions(ex, wd.id)
    with ex.ctx.db.transaction() as session:  # a refusal before the signer freezes nothing
        assert (
            WalletFreezes(services_of(ex.ctx).freezes).frozen_reason_for_wallet(
                session, ex.wallet_id
            )
            is None
        )


def test_node_on_another_chain_is_refused(exchange: Exchange) -> None:
    wallet = WalletRow(id="wal_sepolia", network="sepolia")
    with pytest.raises(Unavailable, match="chain id"):
        EthereumGateway("sepolia", web3=exchange.w3).require_broadcast(wallet)
