from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from kinko.context import Context
from tests.integration.withdrawals.exchange import Exchange, build_exchange


@pytest.fixture(scope="module")
def w3() -> Iterator[Any]:
    from web3 import EthereumTesterProvider, Web3

    yield Web3(EthereumTesterProvider())


@pytest.fixture
def exchange(ctx: Context, w3: Any) -> Exchange:
    return build_exchange(ctx, w3)
