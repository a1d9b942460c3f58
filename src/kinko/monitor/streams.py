"""Security events between ``kinko serve`` processes: one Redis stream, one evaluator.

Past one process (PostgreSQL + Redis, docs/serving.md, ADR 0003) every process publishes
the events its services announce to one Redis stream, after the writer's turn (the unit
of work hands them to the bus, `StreamPublisher` is a batch subscriber of the bus), and
before the request that caused them is answered. The monitor reads that stream through a
consumer group.

**One evaluator at a time.** Correlations are keyed on many things (credential stuffing
by source address, the Upbit pattern by wallet, an address-book change then a withdrawal
by destination), so splitting the stream by any one key would hide events from the
others. Instead exactly one process evaluates: the holder of a PostgreSQL advisory lock
(`kinko.store.leases.Lease`); the others' evaluators wait for it. Every event meets one
correlation state, whichever process served it.

**Nothing lost to a killed process.** An event reaches the stream from the outbox it was
committed in (`kinko.store.outbox`): a process killed between its commit and the append,
or a Redis unreachable then, leaves it there for another process's sweep. An entry is
acknowledged (``XACK``) only once the
monitor has recorded what it raised. The lock ends with its holder's connection, so a
process killed with SIGKILL hands the lease on; the next evaluator claims the entries
its predecessor read and did not acknowledge (``XAUTOCLAIM``) and evaluates them, and
first replays the acknowledged entries of the last correlation window into its engine
(alerts discarded: they were recorded), so a correlation half-seen by the dead evaluator
still fires, once. Delivery is at least once: an entry whose alerts were recorded just
before its evaluator died is evaluated again.

Entries carry their origin (``kinko`` for a service's own event, ``ingest`` for a posted
one): Redis is inside the trust boundary, like the database.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Sequence
from typing import Any

import structlog

from kinko.core.errors import InputError
from kinko.core.events import SecurityEvent
from kinko.monitor.engine import INGESTED, OWN, Engine, RuleInfo
from kinko.monitor.events import MonitorEvent, from_security_event, parse_event
from kinko.monitor.service import MonitorService, Recorded
from kinko.store.leases import Lease

log = structlog.get_logger("kinko.monitor.streams")

GROUP = "kinko-monitor"
LEASE = "monitor-evaluator"
MAXLEN = 1_000_000
PUBLISH_ATTEMPTS = 3
RETRY_IDLE_MS = 5_000  # an entry whose evaluation failed is tried again after this


def redis_client(url: str) -> Any:
    import redis

    return redis.Redis.from_url(url)


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _origins(origin: str) -> str:
    if origin not in (OWN, INGESTED):
        raise InputError("origin", f"must be {OWN} or {INGESTED}")
    return origin


class StreamPublisher:
    """Appends events to the stream: a batch subscriber of the bus (own events), and the
    route that takes posted events. A failed append is retried, then logged at critical
    (``monitor.stream_unreachable``): the write it follows has committed already."""

    def __init__(self, client: Any, stream: str) -> None:
        self.client = client
        self.stream = stream

    def __call__(self, events: Sequence[SecurityEvent]) -> None:
        self.publish([from_security_event(e) for e in events], origin=OWN)

    def publish(self, events: Sequence[MonitorEvent], *, origin: str) -> None:
        import redis

        if not events:
            return
        _origins(origin)
        for attempt in range(1, PUBLISH_ATTEMPTS + 1):
            try:
                pipe = self.client.pipeline(transaction=False)
                for event in events:
                    body = {"event": event.model_dump_json(), "origin": origin}
                    pipe.xadd(self.stream, body, maxlen=MAXLEN, approximate=True)
                pipe.execute()
                return
            except redis.RedisError as exc:
                if attempt == PUBLISH_ATTEMPTS:
                    log.critical(
                        "monitor.stream_unreachable",
                        error=str(exc),
                        types=sorted({e.type for e in events}),
                    )
                    raise
                time.sleep(0.1 * attempt)


class StreamMonitor:
    """The API's monitor (`MonitorPort`) in a multi-process deployment: posted events go
    to the stream (the evaluator records their alerts, shown by ``GET /v1/alerts``); the
    rules are this process's copy of the same pack."""

    def __init__(self, publisher: StreamPublisher, service: MonitorService) -> None:
        self.publisher = publisher
        self.service = service

    def ingest(self, events: Sequence[MonitorEvent], *, origin: str = INGESTED) -> list[Recorded]:
        self.publisher.publish(events, origin=origin)
        return []

    def describe_rules(self) -> list[RuleInfo]:
        return self.service.describe_rules()


class StreamEvaluator:
    """Reads the stream for `service` while this process holds the evaluator's lease."""

    def __init__(
        self,
        client: Any,
        service: MonitorService,
        lease: Lease,
        *,
        stream: str,
        consumer: str | None = None,
        idle_s: float = 1.0,
    ) -> None:
        self.client = client
        self.service = service
        self.lease = lease
        self.stream = stream
        self.dead_letter = f"{stream}:dead"
        self.consumer = consumer or f"{socket.gethostname()}:{os.getpid()}"
        self.idle_s = idle_s
        self.evaluated = 0
        self._leading = False
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # -- one round -------------------------------------------------------------------------

    def ensure_group(self) -> None:
        import redis

        try:
            self.client.xgroup_create(self.stream, GROUP, id="0", mkstream=True)
        except redis.ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise

    def step(self, *, block_ms: int | None = None) -> int:
        """One round: hold the lease or wait for it; when it is newly ours, replay the last
        window and claim what the previous evaluator left; then read new entries. Returns
        how many entries were evaluated."""
        if not self.lease.try_hold():
            self._leading = False
            return 0
        done = 0
        if not self._leading:
            self.ensure_group()
            self._warm_up()
            self._leading = True
            done += self._claim(min_idle_ms=0)  # the lease says its reader is gone
        else:
            done += self._claim(min_idle_ms=RETRY_IDLE_MS)  # our own failed rounds
        replies = self.client.xreadgroup(
            GROUP, self.consumer, {self.stream: ">"}, count=500, block=block_ms
        )
        for _stream, entries in replies or []:
            done += self._evaluate(entries)
        return done

    def _claim(self, *, min_idle_ms: int) -> int:
        done, start = 0, "0-0"
        while True:
            reply = self.client.xautoclaim(
                self.stream, GROUP, self.consumer, min_idle_ms, start_id=start, count=500
            )
            start, entries = _text(reply[0]), [e for e in reply[1] if e[1] is not None]
            done += self._evaluate(entries)
            if start == "0-0":
                return done

    def _evaluate(self, entries: Sequence[Any]) -> int:
        """Record what `entries` raise, then acknowledge them (not before: if this process
        dies in between, the next evaluator claims them)."""
        if not entries:
            return 0
        batch: list[MonitorEvent] = []
        origin = OWN
        for entry_id, fields in entries:
            parsed = self._parse(entry_id, fields)
            if parsed is None:
                continue
            event, event_origin = parsed
            if batch and event_origin != origin:
                self.service.ingest(batch, origin=origin)
                batch = []
            batch.append(event)
            origin = event_origin
        if batch:
            self.service.ingest(batch, origin=origin)
        self.client.xack(self.stream, GROUP, *[entry_id for entry_id, _ in entries])
        self.evaluated += len(entries)
        return len(entries)

    def _warm_up(self) -> None:
        """Feed the engine the entries already evaluated within the longest correlation
        window (alerts discarded: the previous evaluator recorded them), starting from
        empty correlation state."""
        engine = self.service.engine
        self.service.engine = Engine(engine.rules, engine.baselines)
        window_s = max((c.timespan_s for c in self.service.engine.rules.correlations), default=0)
        if window_s <= 0:
            return
        last = self._last_delivered()
        if last is None:
            return
        pending = {
            _text(p["message_id"])
            for p in self.client.xpending_range(self.stream, GROUP, "-", last, 10_000)
        }
        now_s, _us = self.client.time()
        start = f"{max(0, int(now_s) - int(window_s)) * 1000}-0"
        replayed = 0
        for entry_id, fields in self.client.xrange(self.stream, start, last):
            if _text(entry_id) in pending:
                continue
            parsed = self._parse(entry_id, fields, quiet=True)
            if parsed is not None:
                self.service.engine.process_many([parsed[0]], origin=parsed[1])
                replayed += 1
        if replayed:
            log.info("monitor.stream_replayed", entries=replayed, window_s=window_s)

    def _last_delivered(self) -> str | None:
        for group in self.client.xinfo_groups(self.stream):
            if _text(group["name"]) == GROUP:
                last = _text(group["last-delivered-id"])
                return None if last == "0-0" else last
        return None

    def _parse(
        self, entry_id: Any, fields: dict[Any, Any], *, quiet: bool = False
    ) -> tuple[MonitorEvent, str] | None:
        raw = fields.get(b"event", fields.get("event"))
        origin = _text(fields.get(b"origin", fields.get("origin", INGESTED)))
        where = f"{self.stream} entry {_text(entry_id)}"
        try:
            if raw is None:
                raise InputError(where, "has no 'event' field")
            import json

            return parse_event(json.loads(raw), where=where), _origins(origin)
        except (InputError, ValueError) as exc:
            if not quiet:
                reason = exc.message if isinstance(exc, InputError) else f"{where}: not JSON"
                log.error("malformed event moved to dead letter", reason=reason)
                self.client.xadd(self.dead_letter, {"reason": reason, "event": raw or b""})
            return None

    # -- a thread of its own -----------------------------------------------------------------

    def start(self) -> StreamEvaluator:
        self._thread = threading.Thread(target=self._run, name="monitor-stream", daemon=True)
        self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.step(block_ms=int(self.idle_s * 1000))
                if self._leading:
                    continue
            except Exception as exc:  # Redis or the database briefly away: try again
                log.error("monitor.stream_failed", error=f"{type(exc).__name__}: {exc}")
            self._stop.wait(self.idle_s)

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(10)
        self.lease.release()
