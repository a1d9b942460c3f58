"""`ethereum_node_url` / `ethereum_network`: validated at start, used to broadcast, and a
node that does not answer refuses execution before anything is signed."""

from __future__ import annotations

from dataclasses import replace

import pytest

from kinko.config import load_settings
from kinko.context import Context
from kinko.core.errors import ConfigError, Unavailable
from kinko.services import build_services
from kinko.withdrawals.service import WithdrawalRequest
from kinko.withdrawals.states import State
from tests.integration.withdrawals.exchange import RECIPIENT, SCREENING, Exchange
from tests.support.services import services_of

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def test_node_url_is_validated() -> None:
    with pytest.raises(ConfigError, match="ethereum_node_url"):
        load_settings(environ={"KINKO_ETHEREUM_NODE_URL": "ws://node:8546"})
    cfg = load_settings(environ={"KINKO_ETHEREUM_NODE_URL": "https://node.example:8545"})
    assert (cfg.ethereum_node_url, cfg.ethereum_network) == ("https://node.example:8545", "mainnet")


def with_node(ctx: Context, url: str, network: str) -> Context:
    settings = ctx.settings.model_copy(
        update={"ethereum_node_url": url, "ethereum_network": network}
    )
    return replace(ctx, settings=settings)


def test_unknown_network_is_refused(exchange: Exchange) -> None:
    with pytest.raises(ConfigError, match="ethereum_network"):
        build_services(with_node(exchange.ctx, "http://127.0.0.1:9", "ropsten")).stack_on()


def test_silent_node_refuses_before_signing(exchange: Exchange) -> None:
    ex = exchange
    # Requested while no node was configured: approved, not executed.
    offline = services_of(ex.ctx).stack_on()
    wd = offline.withdrawals.request(
        WithdrawalRequest(asset="ETH", amount="0.5", destination=RECIPIENT),
        requester=ex.user("alice"),
        idempotency_key="k-node-silent",
        channel="api",
    )
    assert wd.state is State.APPROVED
    # Port 9 (discard) on loopback: nothing answers JSON-RPC there.
    configured = build_services(
        with_node(ex.ctx, "http://127.0.0.1:9", "devnet"), screening_config=SCREENING
    ).stack_on()
    with pytest.raises(Unavailable, match="does not answer"):
        configured.execute(wd.id)
    assert configured.withdrawals.get(wd.id).state is State.APPROVED
