"""Column types that keep money exact and time in UTC on both databases."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from kinko.context import Context
from kinko.store.tables.custody import WalletRow

WEI_50_ETH = 50 * 10**18
HUGE = 10**77  # still fits NUMERIC(78, 0)


def _wallet(cap: int | None, floor: int | None, created: datetime) -> WalletRow:
    return WalletRow(
        id="w1",
        name="hot-eth",
        chain="ethereum",
        assets=["ETH"],
        tier="hot",
        owner_class="customer",
        purpose="operational",
        quorum_m=1,
        quorum_n=1,
        eligible_roles=["approver"],
        limits={},
        cap_base_units=cap,
        floor_base_units=floor,
        created_at=created,
    )


def test_base_units_round_trip_exactly_and_order_in_sql(ctx: Context) -> None:
    created = datetime(2026, 1, 2, 3, 4, 5, 678901, tzinfo=timezone(timedelta(hours=9)))
    with ctx.db.transaction() as s:
        s.add(_wallet(HUGE, WEI_50_ETH, created))
    with ctx.db.transaction() as s:
        row = s.execute(select(WalletRow)).scalar_one()
        assert row.cap_base_units == HUGE
        assert row.floor_base_units == WEI_50_ETH
        assert row.created_at == created
        assert row.created_at.tzinfo is not None and row.created_at.utcoffset() == timedelta(0)
        # Ordering in SQL matches integer order (zero-padded on SQLite, NUMERIC on PostgreSQL).
        hit = s.execute(
            select(WalletRow.id).where(WalletRow.floor_base_units < 6 * 10**19)
        ).scalar_one_or_none()
        assert hit == "w1"
        miss = s.execute(
            select(WalletRow.id).where(WalletRow.floor_base_units < 9 * 10**18)
        ).scalar_one_or_none()
        assert miss is None


@pytest.mark.parametrize("bad", [-1, 1.5, True])
def test_base_units_refuse_non_integers_and_negatives(ctx: Context, bad: object) -> None:
    with (
        pytest.raises(Exception, match="base units must be a non-negative int"),
        ctx.db.transaction() as s,
    ):
        s.add(_wallet(bad, None, datetime.now(UTC)))  # type: ignore[arg-type]
    with ctx.db.transaction() as s:
        assert s.execute(select(WalletRow)).first() is None


def test_naive_datetimes_are_refused(ctx: Context) -> None:
    with pytest.raises(Exception, match="naive datetime"), ctx.db.transaction() as s:
        s.add(_wallet(None, None, datetime(2026, 1, 1)))
