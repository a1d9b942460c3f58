"""`kinko signer serve`'s app: bearer secret, signs a genuine bundle, refuses an altered one."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from kinko.api.signer_server import MAX_BUNDLE_BYTES, create_signer_app, signer_token
from kinko.chains.ethereum.adapter import EthereumAdapter
from kinko.withdrawals.wiring import WalletFreezes
from tests.integration.signer.test_signer import ATTACKER, altered, approved_bundle
from tests.integration.withdrawals.exchange import RECIPIENT, Exchange
from tests.support.services import services_of

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def test_signer_server(exchange: Exchange) -> None:
    token = signer_token(exchange.ctx.settings.data_dir / "signer.token")
    assert len(token) >= 32
    client = TestClient(create_signer_app(exchange.signer, token))
    bundle = approved_bundle(exchange)
    assert client.post("/v1/sign", content=bundle.to_bytes()).status_code == 401
    wrong = client.post(
        "/v1/sign", content=bundle.to_bytes(), headers={"Authorization": "Bearer x"}
    )
    assert wrong.status_code == 401
    auth = {"Authorization": f"Bearer {token}"}
    ok = client.post("/v1/sign", content=bundle.to_bytes(), headers=auth)
    assert ok.status_code == 200, ok.text
    assert (
        EthereumAdapter("devnet").decode(bytes.fromhex(ok.json()["signed_tx"])).destination
        == RECIPIENT
    )
    bad = client.post(
        "/v1/sign", content=altered(exchange, bundle, destination=ATTACKER).to_bytes(), headers=auth
    )
    assert bad.status_code == 409 and bad.json()["error"] == "digest_mismatch"
    with exchange.ctx.db.transaction() as session:
        assert WalletFreezes(services_of(exchange.ctx).freezes).frozen_reason_for_wallet(
            session, exchange.wallet_id
        )
    garbage = client.post("/v1/sign", content=b"{}", headers=auth)
    assert garbage.status_code == 422 and garbage.json()["field"] == "bundle.format"
    huge = client.post(
        "/v1/sign", content=b" " * (MAX_BUNDLE_BYTES + 1), headers={"Authorization": "x"}
    )
    assert huge.status_code == 413 and huge.json()["error"] == "body_too_large"
