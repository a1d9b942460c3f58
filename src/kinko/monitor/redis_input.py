"""Scale-out input: Redis Streams, one stream per partition, consumer groups per stream.

An event goes to partition ``SHA-256(key) mod P`` where the key is its wallet, else its
actor, else its source address. Worker *i* of *W* owns the partitions ``p ≡ i (mod W)``,
so every event of one wallet or account reaches the same engine, in order, and the
correlation state for it lives in one place. Consumer groups give at-least-once delivery:
an entry is acknowledged only after the handler returned. A malformed entry is moved to
the dead-letter stream with the reason (never silently dropped) and acknowledged.

Known limit: a correlation grouped by a field other than the partition key (credential
stuffing groups failed logins by source address) only sees the events of its partition.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from typing import Any

import structlog

from kinko.core.errors import InputError
from kinko.monitor.events import MonitorEvent, parse_event

log = structlog.get_logger("kinko.monitor.redis")

DEFAULT_PREFIX = "kinko:events"
DEFAULT_GROUP = "kinko-monitor"
Handler = Callable[[list[MonitorEvent]], Any]


def partition_key(event: MonitorEvent) -> str:
    return event.wallet or event.actor or event.source_ip or event.type


def partition_of(key: str, partitions: int) -> int:
    digest = hashlib.sha256(key.encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") % partitions


def owned_partitions(worker: int, workers: int, partitions: int) -> list[int]:
    if not 0 <= worker < workers:
        raise InputError("worker", f"must be between 0 and {workers - 1}")
    return [p for p in range(partitions) if p % workers == worker]


def stream_name(prefix: str, partition: int) -> str:
    return f"{prefix}:{partition}"


class RedisEventPublisher:
    def __init__(
        self,
        client: Any,
        *,
        partitions: int,
        prefix: str = DEFAULT_PREFIX,
        maxlen: int = 1_000_000,
    ) -> None:
        if partitions < 1:
            raise InputError("partitions", "must be at least 1")
        self.client = client
        self.partitions = partitions
        self.prefix = prefix
        self.maxlen = maxlen

    def publish(self, events: Sequence[MonitorEvent]) -> None:
        pipe = self.client.pipeline(transaction=False)
        for event in events:
            stream = stream_name(self.prefix, partition_of(partition_key(event), self.partitions))
            body = event.model_dump_json()
            pipe.xadd(stream, {"event": body}, maxlen=self.maxlen, approximate=True)
        pipe.execute()


class RedisPartitionWorker:
    """Reads the partitions it owns and hands each batch to `handler` (an engine/service)."""

    def __init__(
        self,
        client: Any,
        handler: Handler,
        *,
        partitions: Sequence[int],
        consumer: str,
        prefix: str = DEFAULT_PREFIX,
        group: str = DEFAULT_GROUP,
    ) -> None:
        if not partitions:
            raise InputError("partitions", "a worker must own at least one partition")
        self.client = client
        self.handler = handler
        self.streams = [stream_name(prefix, p) for p in partitions]
        self.dead_letter = f"{prefix}:dead"
        self.consumer = consumer
        self.group = group
        self.processed = 0
        self.rejected = 0

    def ensure_groups(self) -> None:
        import redis

        for stream in self.streams:
            try:
                self.client.xgroup_create(stream, self.group, id="0", mkstream=True)
            except redis.ResponseError as exc:
                if "BUSYGROUP" not in str(exc):
                    raise

    def poll(self, *, count: int = 500, block_ms: int | None = None) -> int:
        """Read, handle and acknowledge one round; returns how many entries it consumed."""
        replies = self.client.xreadgroup(
            self.group,
            self.consumer,
            dict.fromkeys(self.streams, ">"),
            count=count,
            block=block_ms,
        )
        consumed = 0
        for stream, entries in replies or []:
            name = stream.decode() if isinstance(stream, bytes) else str(stream)
            events: list[MonitorEvent] = []
            ids = []
            for entry_id, fields in entries:
                ids.append(entry_id)
                event = self._parse(name, entry_id, fields)
                if event is not None:
                    events.append(event)
            if events:
                self.handler(events)
                self.processed += len(events)
            if ids:
                self.client.xack(name, self.group, *ids)
            consumed += len(ids)
        return consumed

    def drain(self, *, count: int = 500) -> int:
        total = 0
        while (got := self.poll(count=count)) > 0:
            total += got
        return total

    def _parse(self, stream: str, entry_id: Any, fields: dict[Any, Any]) -> MonitorEvent | None:
        """An entry is ``{"event": <Kinko event JSON>}`` or, from a log shipper,
        ``{"source": <name>, "record": <the vendor's record>}`` (JSON, or an auditd line):
        mapped by `kinko.monitor.sources`. A bad entry goes to the dead letter."""
        raw = _field(fields, "event")
        vendor = _field(fields, "source")
        where = f"{stream} entry {entry_id.decode() if isinstance(entry_id, bytes) else entry_id}"
        try:
            if vendor is not None:
                raw = _field(fields, "record")
                return _vendor_event(vendor, raw, where)
            if raw is None:
                raise InputError(where, "has no 'event' field (or 'source' and 'record')")
            return parse_event(json.loads(raw), where=where)
        except (InputError, ValueError) as exc:
            reason = exc.message if isinstance(exc, InputError) else f"{where}: not JSON"
            self.rejected += 1
            log.error("malformed event moved to dead letter", reason=reason)
            dead = {"reason": reason, "event": raw or b""}
            if vendor is not None:
                dead["source"] = vendor
            self.client.xadd(self.dead_letter, dead)
            return None


def _field(fields: dict[Any, Any], name: str) -> Any:
    return fields.get(name.encode(), fields.get(name))


def _vendor_event(vendor: Any, raw: Any, where: str) -> MonitorEvent:
    from kinko.monitor.sources import parse_record, source_named

    name = vendor.decode() if isinstance(vendor, bytes) else str(vendor)
    source = source_named(name, field=f"{where}: source")
    if raw is None:
        raise InputError(where, "has a 'source' but no 'record' field")
    text = raw.decode() if isinstance(raw, bytes) else str(raw)
    record = text if source.text_lines else json.loads(text)
    return parse_record(source, record, where=where)
