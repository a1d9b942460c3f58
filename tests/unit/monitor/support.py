"""Building events for monitor tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from kinko.monitor.events import MonitorEvent

T0 = datetime(2026, 11, 21, 9, 0, tzinfo=UTC)
STANDARD = {
    "actor",
    "source_ip",
    "user_agent",
    "device_id",
    "geo",
    "asset",
    "amount",
    "wallet",
    "destination",
    "outcome",
    "severity",
}


def ev(type_: str, at: float = 0.0, **values: Any) -> MonitorEvent:
    """An event `at` seconds after T0; non-standard keywords become free fields."""
    fields = {k: v for k, v in values.items() if k not in STANDARD}
    std = {k: v for k, v in values.items() if k in STANDARD}
    return MonitorEvent(time=T0 + timedelta(seconds=at), type=type_, fields=fields, **std)
