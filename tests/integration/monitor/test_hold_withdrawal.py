"""A monitor hold against the real withdrawal flow (in-process Ethereum via eth-tester)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from kinko.context import Context
from kinko.monitor.engine import Engine
from kinko.monitor.rules import default_pack
from kinko.withdrawals.service import WithdrawalRequest
from kinko.withdrawals.states import State
from tests.integration.withdrawals.exchange import RECIPIENT, Exchange, build_exchange
from tests.unit.monitor.support import ev

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


@pytest.fixture(scope="module")
def w3() -> Iterator[Any]:
    from web3 import EthereumTesterProvider, Web3

    yield Web3(EthereumTesterProvider())


def test_sanctions_hit_holds_the_pending_withdrawal(ctx: Context, w3: Any) -> None:
    ex: Exchange = build_exchange(ctx, w3)
    wd = ex.withdrawals.request(
        WithdrawalRequest(asset="ETH", amount="2", destination=RECIPIENT.lower()),
        requester=ex.user("alice"),
        idempotency_key="k-monitor-hold",
        channel="api",
    )
    assert wd.state is State.PENDING_APPROVAL
    event = ev("withdrawal.request", screening="hit", withdrawal=wd.id, wallet=ex.wallet_id)
    (recorded,) = ex.services.monitor(Engine(default_pack())).ingest([event])
    assert (recorded.rule_id, recorded.status) == ("kinko-sanctions-hit", "applied")
    assert ex.withdrawals.get(wd.id).state is State.HELD
    again = ex.services.monitor(Engine(default_pack())).ingest([event])
    assert again[0].status == "applied"  # holding a held withdrawal is a no-op, not an error
