"""Security events over a Redis stream to one evaluator (`kinko.monitor.streams`), against
a real redis-server and the run's PostgreSQL: two contexts on one database stand for two
``kinko serve`` processes (each its own bus, engine and connections)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest
import redis
from sqlalchemy import text

from kinko.context import Context, build_context
from kinko.core.clock import FixedClock
from kinko.core.events import SecurityEvent
from kinko.monitor.factory import build_engine
from kinko.monitor.service import MonitorService
from kinko.monitor.streams import GROUP, LEASE, StreamEvaluator, StreamPublisher
from kinko.store.leases import Lease
from kinko.store.outbox import GRACE
from kinko.store.work import UnitOfWork
from tests.support.alerts import fired
from tests.support.serve import free_port
from tests.support.servers import RedisServer

STREAM = "kinko:test-events"
STUFFING = "kinko-credential-stuffing"
pytestmark = pytest.mark.parametrize("backend", ["postgresql"])


@pytest.fixture
def client() -> Iterator[redis.Redis]:
    server = RedisServer(free_port()).start()
    conn = redis.Redis.from_url(server.url)
    try:
        yield conn
    finally:
        conn.close()
        server.stop()


@pytest.fixture
def other(ctx: Context) -> Iterator[Context]:
    """A second process on the same database."""
    second = build_context(ctx.settings, clock=ctx.clock)
    yield second
    second.db.dispose()


def failed_login(ctx: Context, n: int) -> SecurityEvent:
    return SecurityEvent(
        type="auth.login",
        time=ctx.clock.now() + timedelta(seconds=n),
        actor=f"user:stuffed-{n}",
        outcome="failure",
        source_ip="203.0.113.9",
    )


Process = Callable[[Context], StreamEvaluator]


@pytest.fixture
def process(client: redis.Redis) -> Iterator[Process]:
    """What `kinko.monitor.running.start_monitoring` sets up in one process (not started:
    the tests step it); its lease is released at the end."""
    made: list[StreamEvaluator] = []

    def make(ctx: Context) -> StreamEvaluator:
        ctx.bus.subscribe_batches(StreamPublisher(client, STREAM))
        service = MonitorService(ctx, build_engine())
        evaluator = StreamEvaluator(
            client, service, Lease(ctx.db.engine, LEASE), stream=STREAM, consumer=str(id(ctx))
        )
        evaluator.ensure_group()
        made.append(evaluator)
        return evaluator

    yield make
    for evaluator in made:
        evaluator.lease.release()


def commit(ctx: Context, *events: SecurityEvent) -> None:
    with ctx.db.transaction() as session:
        for event in events:
            UnitOfWork.of(session).announce(event, ctx.bus)


def test_only_committed_events_reach_the_stream(
    ctx: Context, client: redis.Redis, process: Process
) -> None:
    process(ctx)
    with pytest.raises(RuntimeError), ctx.db.transaction() as session:
        UnitOfWork.of(session).announce(failed_login(ctx, 0), ctx.bus)
        raise RuntimeError("rolled back")
    assert client.xlen(STREAM) == 0
    commit(ctx, failed_login(ctx, 1))
    assert client.xlen(STREAM) == 1


def test_one_evaluator_sees_both_processes_events_and_fires_once(
    ctx: Context, other: Context, client: redis.Redis, process: Process
) -> None:
    first, second = process(ctx), process(other)
    commit(ctx, *(failed_login(ctx, n) for n in range(5)))
    commit(other, *(failed_login(other, n) for n in range(5, 10)))
    evaluated = first.step() + second.step()  # the first takes the lease; the second waits
    assert (first.evaluated, second.evaluated, evaluated) == (10, 0, 10)
    assert second.step() == 0 and first.step() == 0
    assert fired(ctx).count(STUFFING) == 1


def test_a_killed_evaluator_loses_nothing(
    ctx: Context, other: Context, client: redis.Redis, process: Process
) -> None:
    first, second = process(ctx), process(other)
    # The first process evaluates six failed logins, then reads four more and is killed
    # (its database session ends, as the kernel closes a SIGKILLed process's sockets)
    # before it acknowledges them.
    commit(ctx, *(failed_login(ctx, n) for n in range(6)))
    assert first.step() == 6
    commit(ctx, *(failed_login(ctx, n) for n in range(6, 10)))
    read: Any = client.xreadgroup(GROUP, first.consumer, {STREAM: ">"}, count=100)
    assert len(read[0][1]) == 4
    with other.db.engine.connect() as admin:
        key = first.lease.key & 0xFFFF_FFFF_FFFF_FFFF
        killed = admin.execute(
            text(
                "SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory' "
                "AND classid::bigint = :high AND objid::bigint = :low"
            ),
            {"high": key >> 32, "low": key & 0xFFFF_FFFF},
        ).scalars()
        assert list(killed) == [True]
    assert fired(ctx).count(STUFFING) == 0
    # The second takes the lease over, replays the six already evaluated, claims the
    # four left pending: the correlation fires, once.
    assert second.step() == 4
    assert fired(other).count(STUFFING) == 1
    assert client.xpending(STREAM, GROUP)["pending"] == 0
    # The first, back, finds the lease taken and evaluates nothing.
    assert first.step() == 0 and not first.lease.held


def test_leases_on_sqlite_are_always_held(ctx: Context) -> None:
    url = f"sqlite:///{ctx.settings.data_dir}/one.db"
    one = build_context(ctx.settings.model_copy(update={"database_url": url}))
    assert Lease(one.db.engine, LEASE).try_hold() and Lease(one.db.engine, LEASE).try_hold()
    one.db.dispose()


def test_events_committed_while_redis_was_away_reach_the_evaluator(
    ctx: Context, other: Context, client: redis.Redis, process: Process
) -> None:
    """The first process's Redis is unreachable when it publishes (its writes committed):
    the events wait in the outbox (`kinko.store.outbox`) and the second process's sweep
    relays them to the stream, where the evaluator fires on them, once."""
    away = redis.Redis(host="127.0.0.1", port=free_port(), socket_connect_timeout=0.2)
    ctx.bus.subscribe_batches(StreamPublisher(away, STREAM))
    commit(ctx, *(failed_login(ctx, n) for n in range(10)))
    assert client.xlen(STREAM) == 0
    evaluator = process(other)
    assert other.db.outbox.sweep(other.db.transaction, other.bus) == 0  # within the grace
    assert isinstance(ctx.clock, FixedClock)
    ctx.clock.advance(GRACE + timedelta(seconds=1))
    assert other.db.outbox.sweep(other.db.transaction, other.bus) == 10
    assert client.xlen(STREAM) == 10
    assert evaluator.step() == 10
    assert fired(other).count(STUFFING) == 1
    assert other.db.outbox.sweep(other.db.transaction, other.bus) == 0
