"""Velocity state in the store: lock, sum, reserve and release, safely under concurrency.

Every reservation is recorded against three counters: the wallet, the asset (all wallets)
and the customer (when there is one), each within one asset. Before a request is decided,
its counter rows are locked with ``SELECT ... FOR UPDATE`` in a fixed order (so two
requests never deadlock), so concurrent requests against the same limit are decided one
at a time on PostgreSQL; on SQLite ``BEGIN IMMEDIATE`` already serialises writers. The
counter rows exist only to be locked; the amounts live in the ledger.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import Integer, String, Table, func, select, tuple_, type_coerce, update
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import Session

from kinko.core.errors import IntegrityError
from kinko.policy.model import PolicyRequest, VelocityKey, VelocityScope
from kinko.store.tables.policy import VelocityCounterRow, VelocityLedgerRow


@dataclass(frozen=True, slots=True, order=True)
class CounterKey:
    scope: VelocityScope
    scope_key: str
    asset: str


def counter_keys(request: PolicyRequest) -> list[CounterKey]:
    """The counters a request reserves against, in lock order."""
    keys = [
        CounterKey(VelocityScope.WALLET, request.wallet_id, request.asset_key),
        CounterKey(VelocityScope.ASSET, request.asset_key, request.asset_key),
    ]
    if request.customer_ref:
        keys.append(CounterKey(VelocityScope.CUSTOMER, request.customer_ref, request.asset_key))
    return sorted(keys)


def lock_counters(session: Session, keys: Iterable[CounterKey]) -> None:
    """Create missing counter rows, then lock them all, in sorted order (PostgreSQL).

    On SQLite there is nothing to do: ``BEGIN IMMEDIATE`` (see `kinko.store.db`) already
    gave this transaction the database's single write lock.
    """
    if session.get_bind().dialect.name != "postgresql":
        return
    ordered = sorted(set(keys))
    if not ordered:
        return
    values = [{"scope": k.scope.value, "scope_key": k.scope_key, "asset": k.asset} for k in ordered]
    # One statement each (was one per key): the rows are inserted in this sorted order, and
    # locked in the ORDER BY order (PostgreSQL locks rows as the sort returns them), the
    # same order in every transaction, so two requests never deadlock.
    session.execute(postgresql.insert(VelocityCounterRow).values(values).on_conflict_do_nothing())
    columns = (VelocityCounterRow.scope, VelocityCounterRow.scope_key, VelocityCounterRow.asset)
    locked = session.execute(
        select(*columns)
        .where(tuple_(*columns).in_([(v["scope"], v["scope_key"], v["asset"]) for v in values]))
        .order_by(*columns)
        .with_for_update()
    ).all()
    if len(locked) != len(ordered):
        raise IntegrityError(f"velocity counters missing: locked {len(locked)} of {len(ordered)}")


def totals(
    session: Session,
    request: PolicyRequest,
    wanted: Iterable[VelocityKey],
    now: datetime,
) -> dict[VelocityKey, int]:
    """Unreleased amounts reserved within each wanted (scope, window) for `request`'s keys."""
    wanted = set(wanted)
    if not wanted:
        return {}
    by_scope = {k.scope: k for k in counter_keys(request)}
    result: dict[VelocityKey, int] = {}
    for scope in {scope for scope, _ in wanted}:
        key = by_scope.get(scope)
        windows = sorted(seconds for s, seconds in wanted if s is scope)
        if key is None:  # no customer on this request: nothing counts against a customer
            result.update({(scope, w): 0 for w in windows})
            continue
        where = (
            VelocityLedgerRow.scope == key.scope.value,
            VelocityLedgerRow.scope_key == key.scope_key,
            VelocityLedgerRow.asset == key.asset,
            VelocityLedgerRow.at > now - timedelta(seconds=windows[-1]),
            VelocityLedgerRow.released_at.is_(None),
        )
        if session.get_bind().dialect.name == "postgresql":
            # NUMERIC sums are exact; one row back whatever the traffic.
            sums = [
                func.coalesce(
                    func.sum(VelocityLedgerRow.amount).filter(
                        VelocityLedgerRow.at > now - timedelta(seconds=w)
                    ),
                    0,
                )
                for w in windows
            ]
            row = session.execute(select(*sums).where(*where)).one()
            result.update({(scope, w): int(total) for w, total in zip(windows, row, strict=True)})
            continue
        found = _sqlite_sums(session, where, windows, now)
        result.update({(scope, w): total for w, total in zip(windows, found, strict=True)})
    return result


def _sqlite_sums(
    session: Session, where: tuple[Any, ...], windows: list[int], now: datetime
) -> list[int]:
    """Exact per-window sums on SQLite, which stores base units as zero-padded strings
    (wei overflows its 64-bit integers), so the big-integer sum is taken here. SQLite says
    which window each row falls in, and the rows come back raw (no ORM objects, no
    datetime parsing): the cost per row is one `int()`."""
    columns: list[Any] = [type_coerce(VelocityLedgerRow.amount, String)]
    columns.extend(
        type_coerce(VelocityLedgerRow.at > now - timedelta(seconds=window), Integer)
        for window in windows
    )
    sums = [0] * len(windows)
    for amount, *inside in session.execute(select(*columns).where(*where)):
        value = int(amount)
        for i, flag in enumerate(inside):
            if flag:
                sums[i] += value
    return sums


LEDGER = cast(Table, VelocityLedgerRow.__table__)


def reserve(session: Session, request: PolicyRequest, *, withdrawal_id: str, now: datetime) -> None:
    """Record `request.amount` against each of its counters (call with the counters locked).

    One Core executemany: these rows are never read back as objects in this session."""
    session.connection().execute(
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


def release(session: Session, withdrawal_id: str, now: datetime) -> int:
    """Stop counting `withdrawal_id`'s reservations; returns the amount released (per
    counter, i.e. the withdrawal's amount), 0 if nothing was reserved."""
    connection = session.connection()
    unreleased = (
        LEDGER.c.withdrawal_id == withdrawal_id,
        LEDGER.c.released_at.is_(None),
    )
    amounts = connection.execute(select(LEDGER.c.amount).where(*unreleased)).scalars().all()
    if not amounts:
        return 0
    connection.execute(update(LEDGER).where(*unreleased).values(released_at=now))
    return int(max(amounts))
