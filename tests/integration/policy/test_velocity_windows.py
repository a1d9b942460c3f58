"""The running window totals always equal the sums they replace (both databases).

Random reservations (through a decision's windows and directly), releases, windows that
appear later, and clock moves of seconds to days; after every step each window total of
every counter is compared with the sum of the ledger, added up from scratch.
"""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import timedelta

from sqlalchemy import select

from kinko.context import Context
from kinko.core.clock import FixedClock
from kinko.custody.model import WalletId
from kinko.policy import velocity
from kinko.policy.model import PolicyRequest, VelocityKey, VelocityScope
from kinko.store.tables.policy import VelocityLedgerRow, VelocityWindowRow
from tests.integration.policy.support import eth_request

WINDOWS = (600, 3600, 86_400)
KEYS: list[VelocityKey] = [(s, w) for s in VelocityScope for w in WINDOWS]


def _from_scratch(ctx: Context, request: PolicyRequest) -> dict[VelocityKey, int]:
    now = ctx.clock.now()
    keys = {k.scope: k for k in velocity.counter_keys(request)}
    result: dict[VelocityKey, int] = {}
    with ctx.db.transaction() as s:
        rows = s.execute(
            select(VelocityLedgerRow).where(VelocityLedgerRow.released_at.is_(None))
        ).scalars()
        ledger = [(r.scope, r.scope_key, r.asset, r.amount, r.at) for r in rows]
    for scope, seconds in KEYS:
        key = keys.get(scope)
        result[(scope, seconds)] = sum(
            amount
            for s_, k, a, amount, at in ledger
            if key is not None
            and (s_, k, a) == (key.scope.value, key.scope_key, key.asset)
            and at > now - timedelta(seconds=seconds)
        )
    return result


def test_running_totals_match_the_ledger(ctx: Context, clock: FixedClock) -> None:
    rng = random.Random(20261121)
    requests = [
        eth_request(wallet_id=WalletId(w), customer_ref=c)
        for w in ("w_a", "w_b")
        for c in ("c1", "c2", None)
    ]
    live: list[str] = []
    for step in range(160):
        request = rng.choice(requests)
        request = replace(request, amount=rng.randrange(1, 10**20))
        action = rng.random()
        now = clock.now()
        with ctx.db.transaction() as s:
            velocity.lock_counters(s, velocity.counter_keys(request))
            if action < 0.45:  # a decision: open the windows it needs, then reserve
                wanted = rng.sample(KEYS, rng.randrange(0, 4))
                windows = velocity.open_windows(s, request, wanted, now)
                velocity.reserve(s, request, withdrawal_id=f"wd{step}", now=now, windows=windows)
                live.append(f"wd{step}")
            elif action < 0.6:  # a reservation without a decision's windows
                velocity.reserve(s, request, withdrawal_id=f"wd{step}", now=now)
                live.append(f"wd{step}")
            elif action < 0.8 and live:
                velocity.release(s, live.pop(rng.randrange(len(live))), now)
        if rng.random() < 0.5:
            clock.advance(timedelta(seconds=rng.choice((1, 59, 601, 3599, 7200, 90_000))))
        for probe in requests:
            with ctx.db.transaction() as s:
                got = velocity.totals(s, probe, KEYS, clock.now())
            assert got == _from_scratch(ctx, probe), f"step {step}"
    with ctx.db.transaction() as s:
        stored = s.execute(select(VelocityWindowRow)).scalars().all()
    assert stored, "decisions must have stored running totals"


def test_a_release_after_the_window_moved_on_is_not_subtracted_twice(
    ctx: Context, clock: FixedClock
) -> None:
    request = eth_request(wallet_id=WalletId("w_r"), customer_ref=None, amount=500)
    key = (VelocityScope.WALLET, 600)
    with ctx.db.transaction() as s:
        windows = velocity.open_windows(s, request, [key], clock.now())
        velocity.reserve(s, request, withdrawal_id="old", now=clock.now(), windows=windows)
    clock.advance(timedelta(seconds=601))
    with ctx.db.transaction() as s:  # a decision moves the horizon past "old"
        windows = velocity.open_windows(s, request, [key], clock.now())
        assert windows.totals([key]) == {key: 0}
        velocity.reserve(s, request, withdrawal_id="new", now=clock.now(), windows=windows)
    with ctx.db.transaction() as s:
        assert velocity.release(s, "old", clock.now()) == 500
        assert velocity.totals(s, request, [key], clock.now()) == {key: 500}
        assert velocity.release(s, "new", clock.now()) == 500
        assert velocity.totals(s, request, [key], clock.now()) == {key: 0}
