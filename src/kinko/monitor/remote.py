"""The monitor hub seen from an HTTP worker (see `kinko.monitor.hub`).

`RemoteMonitor` offers what the API needs of a `MonitorService` (`ingest`,
`describe_rules`), and `attach(bus)` forwards every security event the worker publishes.
Each thread keeps its own connection, so concurrent requests do not queue on one socket.

Fail closed: a worker whose events cannot reach the monitor is serving blind. The first
failed exchange raises `Unavailable` (an API call answers 503) and calls `on_lost`, which
``kinko serve`` uses to stop the worker; its supervisor decides what happens next.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import structlog

from kinko.core.errors import KinkoError, Unavailable
from kinko.core.events import EventBus, SecurityEvent
from kinko.monitor import wire
from kinko.monitor.engine import INGESTED, OWN, RuleInfo
from kinko.monitor.events import MonitorEvent, from_security_event
from kinko.monitor.lazy import mark_monitored
from kinko.monitor.service import Recorded

log = structlog.get_logger("kinko.monitor.remote")

# Beyond the writer lock's own wait (kinko.store.db.WRITER_WAIT, 30 s): a hub that waits
# for a busy database is slow, not gone.
DEFAULT_TIMEOUT_S = 60.0
CONNECT_RETRY_S = 2.0


class RemoteMonitor:
    def __init__(
        self,
        path: Path,
        *,
        timeout: float = DEFAULT_TIMEOUT_S,
        on_lost: Callable[[str], None] | None = None,
    ) -> None:
        self.path = path
        self.timeout = timeout
        self.on_lost = on_lost
        self._local = threading.local()
        self._guard = threading.Lock()
        self._open: set[socket.socket] = set()

    def _socket(self) -> socket.socket:
        sock: socket.socket | None = getattr(self._local, "sock", None)
        if sock is None or sock.fileno() < 0:  # none yet, or closed by `close()`
            sock = self._connect()
            self._local.sock = sock
            with self._guard:
                self._open.add(sock)
        return sock

    def _connect(self) -> socket.socket:
        """Connect, retrying briefly while the hub's backlog is full: nothing was sent
        yet, so trying again cannot repeat anything."""
        deadline = time.monotonic() + CONNECT_RETRY_S
        while True:
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            sock.settimeout(self.timeout)
            try:
                sock.connect(str(self.path))
                return sock
            except (BlockingIOError, InterruptedError):
                sock.close()
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.01)
            except OSError:
                sock.close()
                raise

    def _forget_socket(self) -> None:
        sock: socket.socket | None = getattr(self._local, "sock", None)
        self._local.sock = None
        if sock is not None:
            with self._guard:
                self._open.discard(sock)
            sock.close()

    def call(self, message: dict[str, Any]) -> dict[str, Any]:
        """`exchange`, and an error reply raised as `Unavailable`."""
        reply = self.exchange(message)
        if not reply.get("ok"):
            raise Unavailable(
                f"the monitor could not take the request: "
                f"{reply.get('error', 'error')}: {reply.get('message', '')}"
            )
        return reply

    def exchange(self, message: dict[str, Any]) -> dict[str, Any]:
        """Send one request and return its reply, an error reply included. No retry: a
        request the hub may have acted on is never sent twice (an alert must not be
        raised twice, a withdrawal not requested twice)."""
        frame = wire.encode(message)  # too large is this request's fault, not a lost hub
        try:
            sock = self._socket()
            sock.sendall(frame)
            reply = wire.read_frame(sock)
        except (OSError, KinkoError) as exc:
            self._forget_socket()
            reason = f"the monitor hub at {self.path} did not answer ({exc})"
            log.critical("monitor.hub_lost", reason=reason)
            if self.on_lost is not None:
                self.on_lost(reason)
            raise Unavailable(f"{reason}; security events cannot be monitored") from None
        return reply

    def ping(self) -> int:
        """The hub's process id; raises `Unavailable` when there is no hub."""
        return int(self.call({"op": "ping"})["pid"])

    def ingest(self, events: Sequence[MonitorEvent], *, origin: str = INGESTED) -> list[Recorded]:
        """`origin` travels with the batch: the hub trusts it (its socket admits only this
        user's processes), so a worker's own bus events are Kinko's, API batches are not."""
        payload = [event.model_dump(mode="json", exclude_none=True) for event in events]
        reply = self.call({"op": "ingest", "events": payload, "origin": origin})
        return wire.recorded_from_json(reply["recorded"])

    def describe_rules(self) -> list[RuleInfo]:
        return wire.rules_from_json(self.call({"op": "rules"})["rules"])

    def forward(self, events: Sequence[SecurityEvent]) -> None:
        self.ingest([from_security_event(event) for event in events], origin=OWN)

    def attach(self, bus: EventBus) -> None:
        """Forward every event published on `bus` (a batch per `publish_all`)."""
        bus.subscribe_batches(self.forward)
        mark_monitored(bus)

    def close(self) -> None:
        """Close every thread's connection; a later call opens a new one."""
        with self._guard:
            sockets, self._open = self._open, set()
        for sock in sockets:
            sock.close()
