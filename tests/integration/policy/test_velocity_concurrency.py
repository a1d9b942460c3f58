"""Invariant 3: N parallel requests never exceed a velocity limit (both databases)."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

from sqlalchemy import select

from kinko.context import Context
from kinko.custody.model import WalletId
from kinko.policy.loader import load_policy
from kinko.policy.model import Decision, Outcome, ScreeningVerdict
from kinko.policy.service import PolicyService
from kinko.store.tables.policy import VelocityLedgerRow
from tests.integration.policy.support import HOT_POLICY, eth_request

PARALLEL = 100
AMOUNT = 30
LIMIT = 1000  # eth-wallet-1h in HOT_POLICY


def test_hundred_parallel_requests_never_exceed_the_limit(ctx: Context) -> None:
    service = PolicyService(ctx, load_policy(HOT_POLICY, source="test"))
    with ctx.db.transaction() as s:  # at start-up, as `kinko serve` does
        service.record_version(s)
    start = threading.Barrier(PARALLEL)

    def one(i: int) -> Decision:
        # distinct customers, so only the wallet window (1000 per hour) can bind
        request = eth_request(amount=AMOUNT, customer_ref=f"c{i}", wallet_id=WalletId("w_race"))
        start.wait()
        with ctx.db.transaction() as s:
            return service.evaluate_and_reserve(
                s, request, withdrawal_id=f"wd_{i}", screening=ScreeningVerdict.CLEAR
            )

    with ThreadPoolExecutor(max_workers=PARALLEL) as pool:
        decisions = list(pool.map(one, range(PARALLEL)))

    allowed = [d for d in decisions if d.outcome is Outcome.ALLOW]
    denied = [d for d in decisions if d.outcome is Outcome.DENY]
    assert len(allowed) + len(denied) == PARALLEL
    assert len(allowed) == LIMIT // AMOUNT  # 33 fit; the 34th would make 1020
    assert all("over the limit 1000" in d.summary() for d in denied)
    with ctx.db.transaction() as s:
        reserved = (
            s.execute(
                select(VelocityLedgerRow.amount).where(
                    VelocityLedgerRow.scope == "wallet",
                    VelocityLedgerRow.scope_key == "w_race",
                    VelocityLedgerRow.released_at.is_(None),
                )
            )
            .scalars()
            .all()
        )
    assert sum(reserved) == len(allowed) * AMOUNT <= LIMIT
