"""The same Idempotency-Key sent in parallel makes one withdrawal (both databases).

A request checks its key before it takes the write lock, so two copies of one request can
both find the key unused; the unique index then lets one insert win and the other answers
with the winner's withdrawal."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import func, select

from kinko.store.tables.audit import AuditEntryRow
from kinko.store.tables.withdrawals import WithdrawalRow
from kinko.withdrawals.service import WithdrawalRequest
from tests.integration.withdrawals.exchange import RECIPIENT, Exchange

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")
PARALLEL = 8


def test_parallel_copies_of_one_request_make_one_withdrawal(exchange: Exchange) -> None:
    ex = exchange
    start = threading.Barrier(PARALLEL)
    body = WithdrawalRequest(asset="ETH", amount="0.5", destination=RECIPIENT)

    def one(_: int) -> str:
        start.wait()
        return ex.withdrawals.request(
            body, requester=ex.user("alice"), idempotency_key="k-race", channel="api"
        ).id

    with ThreadPoolExecutor(max_workers=PARALLEL) as pool:
        ids = set(pool.map(one, range(PARALLEL)))
    assert len(ids) == 1
    with ex.ctx.db.transaction() as session:
        rows = session.execute(
            select(func.count())
            .select_from(WithdrawalRow)
            .where(WithdrawalRow.idempotency_key == "k-race")
        ).scalar_one()
        requested = session.execute(
            select(func.count())
            .select_from(AuditEntryRow)
            .where(AuditEntryRow.action == "withdrawal.requested")
        ).scalar_one()
    assert rows == 1
    assert requested == 1  # the losers' audit entries rolled back with their inserts
