"""The insider suite's fixtures: the monitor `kinko serve` runs, listening on the test's
context (both databases), and the real API on that context, called from an address."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from kinko.context import Context
from kinko.server import create_app
from kinko.services import Services
from tests.integration.insider.steps import INSIDER_IP, Watch
from tests.integration.withdrawals.exchange import Exchange, build_exchange


@pytest.fixture
def watch(ctx: Context, services: Services) -> Watch:
    """`ctx` watched by the default pack, as `kinko serve` watches it."""
    return Watch(ctx, services.start_monitor())


@pytest.fixture
def api(ctx: Context, services: Services, watch: Watch) -> TestClient:
    """The whole API on `ctx` (every route, dependency and service as served)."""
    app = create_app(ctx, services=services)
    app.state.monitor = watch.monitor  # one monitor, as in `kinko serve`
    return TestClient(app, base_url="https://testserver", client=(INSIDER_IP, 50000))


@pytest.fixture(scope="module")
def w3() -> Iterator[Any]:
    from web3 import EthereumTesterProvider, Web3

    yield Web3(EthereumTesterProvider())


@pytest.fixture
def exchange(ctx: Context, w3: Any, api: TestClient) -> Exchange:
    """The withdrawal tests' exchange (alice requests; bob and carol approve; a hot ETH
    wallet on an in-process chain), served by `api` with its chain."""
    ex = build_exchange(ctx, w3)
    api.app.state.withdrawal_stack = ex.services.withdrawal_stack()  # type: ignore[attr-defined]
    return ex
