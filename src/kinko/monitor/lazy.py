"""A monitor for the processes that do not run one: every ``kinko`` command.

A command that changes something (``kinko role approve``, ``kinko custody keys
compromised``, ``kinko lists load``...) publishes its security events on its own bus; with
nobody listening they would reach no rule. `attach_lazy_monitor` subscribes a monitor that
is built on the first event (commands that publish none never load the rule pack) and
records alerts and responses in the shared database like the one ``kinko serve`` runs.
It stands aside when a monitor of the process's own listens on the same bus (``kinko
serve``, ``kinko monitor watch``): every event is evaluated once.

With ``redis_url`` set, a command's events go to the serving processes' Redis stream
instead (`attach_lazy_monitor`).

Light on purpose: importing this module loads no rule engine.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Sequence
from typing import TYPE_CHECKING

from kinko.core.events import EventBus, SecurityEvent

if TYPE_CHECKING:
    from kinko.context import Context
    from kinko.monitor.service import Hands, MonitorService

_listened: weakref.WeakSet[EventBus] = weakref.WeakSet()


def mark_monitored(bus: EventBus) -> None:
    """A monitor of this process listens to `bus` (`MonitorService.attach`, `RemoteMonitor`)."""
    _listened.add(bus)


def is_monitored(bus: EventBus) -> bool:
    return bus in _listened


class LazyMonitor:
    def __init__(self, ctx: Context, hands: Hands | None = None) -> None:
        self.ctx = ctx
        self.hands = hands
        self._service: MonitorService | None = None
        self._lock = threading.Lock()

    def __call__(self, events: Sequence[SecurityEvent]) -> None:
        if is_monitored(self.ctx.bus):
            return
        with self._lock:
            if self._service is None:
                from kinko.monitor.factory import build_engine
                from kinko.monitor.service import Hands

                self._service = (self.hands or Hands()).monitor(self.ctx, build_engine())
        self._service.on_security_events(events)


def attach_lazy_monitor(ctx: Context, hands: Hands | None = None) -> None:
    """With ``redis_url`` (several ``kinko serve`` processes on PostgreSQL), a command's
    events go to the stream the serving processes' monitor reads, so that they meet the
    same correlation state (`kinko.monitor.streams`); otherwise a lazy monitor here."""
    if ctx.settings.redis_url:
        from kinko.monitor.streams import StreamPublisher, redis_client

        ctx.bus.subscribe_batches(
            StreamPublisher(redis_client(ctx.settings.redis_url), ctx.settings.redis_stream)
        )
        mark_monitored(ctx.bus)
        return
    ctx.bus.subscribe_batches(LazyMonitor(ctx, hands))
