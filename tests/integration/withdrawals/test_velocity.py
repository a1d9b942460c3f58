"""Velocity holds under concurrency end to end: parallel requests through the service
never reserve more than the sample policy's 100 ETH per customer per 24 h."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from kinko.withdrawals.service import WithdrawalRequest
from kinko.withdrawals.states import State
from tests.integration.withdrawals.exchange import RECIPIENT, Exchange

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")
PARALLEL = 16


def test_parallel_requests_never_exceed_the_customer_window(exchange: Exchange) -> None:
    ex = exchange

    def one(i: int) -> State:
        return ex.withdrawals.request(
            WithdrawalRequest(
                asset="ETH", amount="15", destination=RECIPIENT, customer_ref="cust-7"
            ),
            requester=ex.user("alice"),
            idempotency_key=f"k-par-{i}",
            channel="api",
        ).state

    with ThreadPoolExecutor(max_workers=8) as pool:
        states = list(pool.map(one, range(PARALLEL)))
    accepted = [s for s in states if s is State.PENDING_APPROVAL]
    # 100 ETH / 15 ETH: six fit, the seventh would reach 105 ETH.
    assert len(accepted) == 6
    assert all(s in {State.PENDING_APPROVAL, State.DENIED, State.HELD} for s in states)
    reserved = sum(v.amount for v in ex.withdrawals.list() if v.state is State.PENDING_APPROVAL)
    assert reserved <= 100 * 10**18
    nonces = [
        v.intent["details"]["nonce"]
        for v in ex.withdrawals.list()
        if v.state is State.PENDING_APPROVAL and v.intent is not None
    ]
    assert len(set(nonces)) == len(nonces) == 6  # one account nonce per built transaction
