"""Security events: what every component tells the monitor, in process.

The monitor maps these onto its own schema; producers only need this small value and the
bus. Publishing never raises into the producer: a failing subscriber is logged and counted,
because the audit log (not the bus) is the system of record.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from types import MappingProxyType
from typing import Any

import structlog

log = structlog.get_logger("kinko.events")


@dataclass(frozen=True, slots=True)
class SecurityEvent:
    """One thing that happened. `type` is dotted, e.g. ``auth.login`` or ``chain.outflow``."""

    type: str
    time: datetime
    actor: str | None = None
    outcome: str | None = None
    source_ip: str | None = None
    wallet: str | None = None
    asset: str | None = None
    amount: int | None = None
    destination: str | None = None
    severity: str = "info"
    fields: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))


Subscriber = Callable[[SecurityEvent], None]
BatchSubscriber = Callable[[Sequence[SecurityEvent]], None]


class EventBus:
    """Subscribers take one event at a time, or (`subscribe_batches`) every event that one
    `publish_all` call carries: the monitor in another process then costs one round trip
    per committed transaction, not one per event."""

    def __init__(self) -> None:
        self._subscribers: list[Subscriber] = []
        self._batch_subscribers: list[BatchSubscriber] = []
        self.failures = 0

    def subscribe(self, subscriber: Subscriber) -> None:
        self._subscribers.append(subscriber)

    def subscribe_batches(self, subscriber: BatchSubscriber) -> None:
        self._batch_subscribers.append(subscriber)

    def publish(self, event: SecurityEvent) -> None:
        self.publish_all((event,))

    def publish_all(self, events: Sequence[SecurityEvent]) -> bool:
        """Every subscriber sees `events`, in order; a failing subscriber misses nothing
        of the others'. True when every subscriber took them (the outbox then forgets
        them, `kinko.store.outbox`)."""
        if not events:
            return True
        delivered = True
        for subscriber in list(self._subscribers):
            for event in events:
                try:
                    subscriber(event)
                except Exception:
                    self.failures += 1
                    delivered = False
                    log.exception("event subscriber failed", event_type=event.type)
        for batch_subscriber in list(self._batch_subscribers):
            try:
                batch_subscriber(events)
            except Exception:
                self.failures += 1
                delivered = False
                log.exception(
                    "event subscriber failed", event_types=sorted({e.type for e in events})
                )
        return delivered


def encode_event(event: SecurityEvent) -> str:
    """`event` as JSON text (the outbox keeps it so): `time` in ISO 8601, values of
    `fields` that JSON has no type for as their text."""
    body = {
        "type": event.type,
        "time": event.time.isoformat(),
        "actor": event.actor,
        "outcome": event.outcome,
        "source_ip": event.source_ip,
        "wallet": event.wallet,
        "asset": event.asset,
        "amount": event.amount,
        "destination": event.destination,
        "severity": event.severity,
        "fields": dict(event.fields),
    }
    return json.dumps(body, default=_text, separators=(",", ":"), sort_keys=True)


def decode_event(text: str) -> SecurityEvent:
    """The event `encode_event` wrote."""
    body = json.loads(text)
    body["time"] = datetime.fromisoformat(body["time"])
    body["fields"] = MappingProxyType(body.get("fields") or {})
    return SecurityEvent(**body)


def _text(value: Any) -> str:
    return value.isoformat() if isinstance(value, datetime) else str(value)
