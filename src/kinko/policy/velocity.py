"""Velocity state in the store: lock, total, reserve and release, safely under concurrency.

Every reservation is recorded against three counters: the wallet, the asset (all wallets)
and the customer (when there is one), each within one asset. Before a request is decided,
its counter rows are locked with ``SELECT ... FOR UPDATE`` in a fixed order (so two
requests never deadlock), so concurrent requests against the same limit are decided one
at a time on PostgreSQL; on SQLite ``BEGIN IMMEDIATE`` already serialises writers. The
counter rows exist only to be locked.

The amounts live in the ledger (one row per reservation and counter). Adding up a 24-hour
window of a busy hot wallet on every decision would cost more with every request, so each
(counter, window length) also keeps a running total (`VelocityWindowRow`): the unreleased
reservations later than its `horizon`. A decision moves the horizon up to ``now - window``
and subtracts only what fell out since the last one; a reservation adds to it, a release
subtracts from it unless it had already fallen out. Every change to the ledger goes
through this module and updates the totals in the same transaction, so a total always
equals the sum it replaces (tests/integration/policy/test_velocity_windows.py checks this
against the ledger after random reservations, releases and clock moves).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import Table, bindparam, select, tuple_, update
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import Session

from kinko.core.errors import IntegrityError
from kinko.policy.model import PolicyRequest, VelocityKey, VelocityScope
from kinko.store.dialect import locks_rows
from kinko.store.tables.policy import VelocityCounterRow, VelocityLedgerRow, VelocityWindowRow
from kinko.store.work import LockStep, UnitOfWork


@dataclass(frozen=True, slots=True, order=True)
class CounterKey:
    scope: VelocityScope
    scope_key: str
    asset: str

    def columns(self) -> tuple[str, str, str]:
        """(scope, scope_key, asset): the key as the counter, window and ledger rows hold it."""
        return (self.scope.value, self.scope_key, self.asset)


def counter_keys(request: PolicyRequest) -> list[CounterKey]:
    """The counters a request reserves against, in lock order."""
    keys = [
        CounterKey(VelocityScope.WALLET, request.wallet_id, request.asset_key),
        CounterKey(VelocityScope.ASSET, request.asset_key, request.asset_key),
    ]
    if request.customer_ref:
        keys.append(CounterKey(VelocityScope.CUSTOMER, request.customer_ref, request.asset_key))
    return sorted(keys)


_COUNTERS = cast(Table, VelocityCounterRow.__table__)
_NAMES = ("scope", "scope_key", "asset")
_COUNTER_KEY = tuple(_COUNTERS.c[name] for name in _NAMES)
_CREATE_COUNTERS = postgresql.insert(_COUNTERS).on_conflict_do_nothing()
_LOCK_COUNTERS = (
    select(*_COUNTER_KEY)
    .where(tuple_(*_COUNTER_KEY).in_(bindparam("wanted", expanding=True)))
    .order_by(*_COUNTER_KEY)
    .with_for_update()
)


def lock_counters(session: Session, keys: Iterable[CounterKey]) -> None:
    """Create missing counter rows, then lock them all, in sorted order (PostgreSQL).

    On SQLite there is nothing to do: ``BEGIN IMMEDIATE`` (see `kinko.store.db`) already
    gave this transaction the database's single write lock.
    """
    UnitOfWork.of(session).took(LockStep.VELOCITY_COUNTERS)
    if not locks_rows(session):
        return
    ordered = sorted(set(keys))
    if not ordered:
        return
    wanted = [k.columns() for k in ordered]
    # Two prebuilt Core statements (every decision runs them): the rows are inserted in
    # this sorted order, and locked in the ORDER BY order (PostgreSQL locks rows as the
    # sort returns them), the same order in every transaction, so two requests never
    # deadlock.
    connection = session.connection()
    connection.execute(_CREATE_COUNTERS, [dict(zip(_NAMES, key, strict=True)) for key in wanted])
    locked = connection.execute(_LOCK_COUNTERS, {"wanted": wanted}).all()
    if len(locked) != len(ordered):
        raise IntegrityError(f"velocity counters missing: locked {len(locked)} of {len(ordered)}")


LEDGER = cast(Table, VelocityLedgerRow.__table__)
WINDOWS = cast(Table, VelocityWindowRow.__table__)
_COUNTER = tuple(WINDOWS.c[name] for name in _NAMES)
_UPDATE_WINDOW = (
    update(WINDOWS)
    .where(
        WINDOWS.c.scope == bindparam("k_scope"),
        WINDOWS.c.scope_key == bindparam("k_key"),
        WINDOWS.c.asset == bindparam("k_asset"),
        WINDOWS.c.seconds == bindparam("k_seconds"),
    )
    .values(total=bindparam("total"), horizon=bindparam("horizon"))
)


@dataclass(slots=True)
class _Window:
    key: CounterKey
    seconds: int
    total: int
    horizon: datetime
    stored: bool
    changed: bool = False

    def counts(self, at: datetime) -> bool:
        return at > self.horizon

    def params(self) -> dict[str, Any]:
        return {
            "k_scope": self.key.scope.value,
            "k_key": self.key.scope_key,
            "k_asset": self.key.asset,
            "k_seconds": self.seconds,
            "total": self.total,
            "horizon": self.horizon,
        }


@dataclass(slots=True)
class Windows:
    """The running totals of one request's counters, brought up to `now` in memory.

    Read with `open_windows`; `totals` answers the engine; `reserve(..., windows=...)`
    writes them back with the new reservation (nothing is written before)."""

    request: PolicyRequest
    windows: list[_Window]

    def totals(self, wanted: Iterable[VelocityKey]) -> dict[VelocityKey, int]:
        by_key = {(w.key.scope, w.seconds): w.total for w in self.windows}
        return {key: by_key.get(key, 0) for key in wanted}


_STORED = select(WINDOWS).where(tuple_(*_COUNTER).in_(bindparam("wanted", expanding=True)))


def _stored(session: Session, keys: Iterable[CounterKey]) -> list[_Window]:
    wanted = [k.columns() for k in keys]
    if not wanted:
        return []
    rows = session.connection().execute(_STORED, {"wanted": wanted})
    return [
        _Window(
            CounterKey(VelocityScope(r.scope), r.scope_key, r.asset),
            int(r.seconds),
            int(r.total),
            r.horizon,
            stored=True,
        )
        for r in rows
    ]


def open_windows(
    session: Session, request: PolicyRequest, wanted: Iterable[VelocityKey], now: datetime
) -> Windows:
    """The stored totals of `request`'s counters, plus those of the `wanted` windows not
    stored yet (added up from the ledger once), all moved up to `now`. Writes nothing."""
    keys = counter_keys(request)
    windows = _stored(session, keys)
    have = {(w.key, w.seconds) for w in windows}
    by_scope = {k.scope: k for k in keys}
    fresh: list[_Window] = []
    for scope, seconds in sorted(set(wanted)):
        key = by_scope.get(scope)
        if key is not None and (key, seconds) not in have:
            cut = now - timedelta(seconds=seconds)
            fresh.append(_Window(key, seconds, 0, cut, stored=False, changed=True))
    # What fell out of each stored window since its horizon; what is inside each new one.
    for window in windows:
        cut = now - timedelta(seconds=window.seconds)
        if cut > window.horizon:
            window.total -= _sum_between(session, window.key, window.horizon, cut)
            window.horizon, window.changed = cut, True
            if window.total < 0:
                raise IntegrityError(
                    f"velocity window {window.key} {window.seconds}s went negative: the "
                    "running totals no longer match the ledger"
                )
    for window in fresh:
        window.total = _sum_between(session, window.key, window.horizon, None)
    return Windows(request, windows + fresh)


_IN_RANGE = select(LEDGER.c.amount, LEDGER.c.at).where(
    LEDGER.c.scope == bindparam("scope"),
    LEDGER.c.scope_key == bindparam("key"),
    LEDGER.c.asset == bindparam("asset"),
    LEDGER.c.released_at.is_(None),
    LEDGER.c.at > bindparam("low"),
)
_FELL_OUT = _IN_RANGE.where(LEDGER.c.at <= bindparam("high"))


def _sum_between(session: Session, key: CounterKey, low: datetime, high: datetime | None) -> int:
    """Unreleased amounts reserved against `key` with low < at (<= high, if given).

    One prebuilt statement per shape (compiled once): an index range scan each."""
    params: dict[str, Any] = {
        "scope": key.scope.value,
        "key": key.scope_key,
        "asset": key.asset,
        "low": low,
    }
    if high is not None:
        params["high"] = high
    rows = session.connection().execute(_IN_RANGE if high is None else _FELL_OUT, params)
    return sum(int(amount) for amount, _ in rows)


def totals(
    session: Session,
    request: PolicyRequest,
    wanted: Iterable[VelocityKey],
    now: datetime,
) -> dict[VelocityKey, int]:
    """Unreleased amounts reserved within each wanted (scope, window) for `request`'s keys
    (a customer-less request counts 0 against a customer). Writes nothing."""
    wanted = set(wanted)
    if not wanted:
        return {}
    return open_windows(session, request, wanted, now).totals(wanted)


def reserve(
    session: Session,
    request: PolicyRequest,
    *,
    withdrawal_id: str,
    now: datetime,
    windows: Windows | None = None,
) -> None:
    """Record `request.amount` against each of its counters (call with the counters locked)
    and add it to their running totals; `windows`: as opened for this decision."""
    if windows is None:
        windows = open_windows(session, request, (), now)
    connection = session.connection()
    connection.execute(
        LEDGER.insert(),
        [
            {
                "withdrawal_id": withdrawal_id,
                "scope": key.scope.value,
                "scope_key": key.scope_key,
                "asset": key.asset,
                "amount": request.amount,
                "at": now,
                "released_at": None,
            }
            for key in counter_keys(request)
        ],
    )
    for window in windows.windows:
        if window.counts(now):
            window.total += request.amount
            window.changed = True
    _write(session, windows.windows)


def _write(session: Session, windows: list[_Window]) -> None:
    connection = session.connection()
    updates = [w.params() for w in windows if w.stored and w.changed]
    inserts = [w for w in windows if not w.stored]
    if updates:
        connection.execute(_UPDATE_WINDOW, updates)
    if inserts:
        connection.execute(
            WINDOWS.insert(),
            [
                {
                    "scope": w.key.scope.value,
                    "scope_key": w.key.scope_key,
                    "asset": w.key.asset,
                    "seconds": w.seconds,
                    "total": w.total,
                    "horizon": w.horizon,
                }
                for w in inserts
            ],
        )
    for window in windows:
        window.stored, window.changed = True, False


def release(session: Session, withdrawal_id: str, now: datetime) -> int:
    """Stop counting `withdrawal_id`'s reservations; returns the amount released (per
    counter, i.e. the withdrawal's amount), 0 if nothing was reserved."""
    connection = session.connection()
    unreleased = (LEDGER.c.withdrawal_id == withdrawal_id, LEDGER.c.released_at.is_(None))
    rows = connection.execute(
        select(
            LEDGER.c.scope, LEDGER.c.scope_key, LEDGER.c.asset, LEDGER.c.amount, LEDGER.c.at
        ).where(*unreleased)
    ).all()
    if not rows:
        return 0
    keys = sorted({CounterKey(VelocityScope(r.scope), r.scope_key, r.asset) for r in rows})
    lock_counters(session, keys)
    connection.execute(update(LEDGER).where(*unreleased).values(released_at=now))
    windows = _stored(session, keys)
    for row in rows:
        row_key = (row.scope, row.scope_key, row.asset)
        for window in windows:
            if window.key.columns() != row_key or not window.counts(row.at):
                continue
            window.total -= int(row.amount)
            window.changed = True
            if window.total < 0:
                raise IntegrityError(
                    f"velocity window {window.key} {window.seconds}s went negative"
                )
    _write(session, windows)
    return int(max(int(r.amount) for r in rows))
