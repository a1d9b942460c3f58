"""Is a worker of ``kinko serve --workers N`` still serving? Its event loop says so.

A worker that dies is replaced at once. One that hangs (a blocked event loop, a
deadlock, a stopped process) would keep its share of new connections and answer none.
So each worker's event loop ticks every second (`ticking`), a thread of the worker
answers the supervisor's pings with the age of the last tick (`answer_pings`), and the
supervisor kills a worker whose loop has not ticked, or that has not answered at all,
for `timeout` seconds (`Heartbeat`); it is then replaced like any dead worker.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from multiprocessing.connection import Connection
from typing import Any

TICK_S = 1.0
STARTUP_GRACE_S = 120.0  # spawning, importing and building the app
_last_tick: list[float] = []  # empty until the event loop has started ticking


def answer_pings(conn: Connection) -> None:
    """In the worker: answer each ping with the seconds since the loop last ticked
    (None while it starts). Ends when the supervisor's end closes."""

    def serve() -> None:
        while True:
            try:
                conn.recv()
                conn.send(None if not _last_tick else time.monotonic() - _last_tick[-1])
            except (EOFError, OSError):
                return

    threading.Thread(target=serve, name="heartbeat", daemon=True).start()


Lifespan = Callable[[Any], AbstractAsyncContextManager[Any]]


def ticking(lifespan: Lifespan) -> Lifespan:
    """`lifespan`, with a task that records a tick every second while the app runs."""

    async def tick() -> None:
        while True:
            _last_tick[:] = [time.monotonic()]
            await asyncio.sleep(TICK_S)

    @asynccontextmanager
    async def wrapped(app: Any) -> AsyncIterator[Any]:
        task = asyncio.create_task(tick(), name="heartbeat-tick")
        try:
            async with lifespan(app) as state:
                yield state
        finally:
            task.cancel()

    return wrapped


class Heartbeat:
    """In the supervisor: one worker's end of the pipe, and when it was last healthy."""

    def __init__(self, conn: Connection, timeout: float) -> None:
        self.conn = conn
        self.timeout = timeout
        # Healthy until then: the start-up grace, then `timeout` after each good answer.
        self.deadline = time.monotonic() + STARTUP_GRACE_S

    def check(self) -> bool:
        """Read the answers so far, send the next ping; False once the worker has been
        silent or stuck for `timeout` seconds (after start-up)."""
        now = time.monotonic()
        try:
            while self.conn.poll():
                age = self.conn.recv()
                if age is not None and age < self.timeout:
                    self.deadline = now + self.timeout
            self.conn.send(b"ping")
        except (EOFError, OSError):
            return False
        return now < self.deadline

    def close(self) -> None:
        self.conn.close()
