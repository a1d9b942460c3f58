"""Invariant 3: N parallel requests never exceed a velocity limit (both databases)."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

from sqlalchemy import select

from kinko.context import Context
from kinko.custody.model import WalletId
from kinko.policy import velocity
from kinko.policy.loader import load_policy
from kinko.policy.model import Decision, Outcome, ScreeningVerdict, VelocityScope
from kinko.store.tables.policy import VelocityLedgerRow
from tests.integration.policy.support import HOT_POLICY, eth_request
from tests.support.services import services_of

PARALLEL = 100
AMOUNT = 30
LIMIT = 1000  # eth-wallet-1h in HOT_POLICY


def test_hundred_parallel_requests_never_exceed_the_limit(ctx: Context) -> None:
    service = services_of(ctx).policy.deciding_with(load_policy(HOT_POLICY, source="test"))
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


def test_counter_locks_alone_keep_the_limit(ctx: Context) -> None:
    """The velocity module's own guarantee, without the audit log's global lock."""
    threads = 40
    start = threading.Barrier(threads)
    window = (VelocityScope.WALLET, 3600)

    def one(i: int) -> bool:
        request = eth_request(amount=AMOUNT, customer_ref=f"c{i}", wallet_id=WalletId("w_lock"))
        start.wait()
        with ctx.db.transaction() as s:
            velocity.lock_counters(s, velocity.counter_keys(request))
            used = velocity.totals(s, request, [window], ctx.clock.now())[window]
            if used + AMOUNT > 600:
                return False
            time.sleep(0.005)  # widen the race window between read and write
            velocity.reserve(s, request, withdrawal_id=f"wd_{i}", now=ctx.clock.now())
            return True

    with ThreadPoolExecutor(max_workers=threads) as pool:
        reserved = sum(pool.map(one, range(threads)))
    assert reserved == 600 // AMOUNT
