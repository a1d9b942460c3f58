"""The unit of work (kinko.store.work): what a transaction queues happens after its commit
and the writer's turn, or not at all."""

from __future__ import annotations

import pytest

from kinko.context import Context
from kinko.core.events import SecurityEvent
from kinko.store.publish import publish_after_commit
from kinko.store.work import UnitOfWork
from kinko.withdrawals.records import defer_event, unit_of_work


def _event(ctx: Context, name: str) -> SecurityEvent:
    return SecurityEvent(type=f"test.{name}", time=ctx.clock.now())


def _seen(ctx: Context) -> list[str]:
    seen: list[str] = []
    ctx.bus.subscribe(lambda e: seen.append(e.type))
    return seen


def test_events_reach_the_bus_after_the_commit_in_order(ctx: Context) -> None:
    seen = _seen(ctx)
    with ctx.db.transaction() as session:
        publish_after_commit(session, ctx.bus, _event(ctx, "one"))
        publish_after_commit(session, ctx.bus, _event(ctx, "two"))
        assert seen == []  # not before the commit
    assert seen == ["test.one", "test.two"]


def test_a_rolled_back_transaction_publishes_nothing(ctx: Context) -> None:
    seen = _seen(ctx)
    with pytest.raises(RuntimeError, match="boom"), ctx.db.transaction() as session:
        publish_after_commit(session, ctx.bus, _event(ctx, "lost"))
        raise RuntimeError("boom")
    with ctx.db.transaction():
        pass
    assert seen == []


def test_both_ways_of_announcing_share_one_queue(ctx: Context) -> None:
    seen = _seen(ctx)
    with unit_of_work(ctx) as session:
        defer_event(session, _event(ctx, "deferred"))
        publish_after_commit(session, ctx.bus, _event(ctx, "published"))
    assert seen == ["test.deferred", "test.published"]


def test_an_owner_that_keeps_its_events_publishes_them_itself(ctx: Context) -> None:
    seen = _seen(ctx)
    with unit_of_work(ctx, publish=False) as session:
        work = UnitOfWork.of(session)
        defer_event(session, _event(ctx, "kept"))
    assert seen == []
    assert [e.type for e in work.take_events()[0]] == ["test.kept"]


def test_the_sole_writer_memo_exists_only_where_one_writer_holds_the_database(
    ctx: Context,
) -> None:
    with ctx.db.transaction() as session:
        memo = UnitOfWork.of(session).sole_writer_memo("x")
    sqlite = ctx.db.engine.dialect.name == "sqlite"
    assert (memo is not None) is sqlite
    with ctx.db.reading() as session:
        assert UnitOfWork.of(session).sole_writer_memo("x") is None
        assert not UnitOfWork.of(session).managed


def test_the_lock_order_is_enforced_on_every_engine(ctx: Context) -> None:
    """The audit head before velocity counters: the other way round deadlocks two writers
    on PostgreSQL, so it is refused everywhere (a SQLite test run finds it too)."""
    from kinko.policy import velocity

    with ctx.db.transaction() as session:
        ctx.audit.hold_head(session)
        velocity.lock_counters(session, [])
        ctx.audit.append(session, actor="test", action="test.ordered", subject="x")
    refused = pytest.raises(RuntimeError, match="lock order: AUDIT_HEAD taken after")
    with refused, ctx.db.transaction() as session:
        velocity.lock_counters(session, [])
        ctx.audit.append(session, actor="test", action="test.unordered", subject="x")
