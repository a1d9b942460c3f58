"""The monitor a ``kinko serve`` process runs (docs/serving.md, ADR 0003):

- no ``redis_url`` (SQLite, or PostgreSQL served by one process): the monitor runs in
  this process, subscribed to its bus; a service's events are evaluated before its
  request is answered;
- ``redis_url`` (PostgreSQL, any number of processes): this process's bus appends its
  events to the Redis stream (`kinko.monitor.streams.StreamPublisher`), and its
  evaluator reads the stream whenever this process holds the evaluator's lease: one
  process at a time evaluates everyone's events.
"""

from __future__ import annotations

from collections.abc import Callable

from kinko.context import Context
from kinko.core.errors import ConfigError
from kinko.monitor.factory import build_engine, start_monitor
from kinko.monitor.service import Hands, MonitorPort


def start_monitoring(
    ctx: Context, hands: Hands | None = None
) -> tuple[MonitorPort, Callable[[], None]]:
    """This process's monitor, already listening, and how to stop it. `hands`: what its
    responses act through (the composition root, kinko.services, gives them)."""
    if not ctx.settings.redis_url:
        return start_monitor(ctx, hands=hands), lambda: None
    import redis

    from kinko.monitor.lazy import mark_monitored
    from kinko.monitor.streams import (
        LEASE,
        StreamEvaluator,
        StreamMonitor,
        StreamPublisher,
        redis_client,
    )
    from kinko.store.leases import Lease

    client = redis_client(ctx.settings.redis_url)
    try:
        client.ping()
    except redis.RedisError as exc:
        raise ConfigError(
            "redis_url", f"cannot reach Redis at {ctx.settings.redis_url}: {exc}"
        ) from None
    stream = ctx.settings.redis_stream
    publisher = StreamPublisher(client, stream)
    ctx.bus.subscribe_batches(publisher)
    mark_monitored(ctx.bus)
    service = (hands or Hands()).monitor(ctx, build_engine())
    evaluator = StreamEvaluator(client, service, Lease(ctx.db.engine, LEASE), stream=stream)
    evaluator.ensure_group()  # before the first event: the group reads from the start
    evaluator.start()

    def stop() -> None:
        evaluator.stop()
        client.close()

    return StreamMonitor(publisher, service), stop
