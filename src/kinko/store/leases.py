"""Leases: "at most one process at a time does this" (ADR 0003).

On PostgreSQL a lease is a session-level advisory lock (``pg_try_advisory_lock``) held on
a connection of its own: whichever ``kinko serve`` process takes it first runs the
periodic jobs or evaluates the monitor's stream; the others try again later. The server
releases the lock when that connection ends, so a process killed with SIGKILL (its
socket closed by the kernel) hands the lease on without anyone's help.

On SQLite there is one ``kinko serve`` process (docs/serving.md): a lease is always
granted.
"""

from __future__ import annotations

import contextlib
import hashlib
import threading

import structlog
from sqlalchemy import Connection, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError

log = structlog.get_logger("kinko.store.leases")


def lease_key(name: str) -> int:
    """A stable signed 64-bit advisory-lock key for `name` (``kinko:`` namespaced)."""
    digest = hashlib.sha256(f"kinko:{name}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


class Lease:
    """One named lease. `try_hold()` is cheap to call often: it takes the lease when free,
    and checks that a lease already held is still held (its connection alive)."""

    def __init__(self, engine: Engine, name: str) -> None:
        self.engine = engine
        self.name = name
        self.key = lease_key(name)
        self._shared = engine.dialect.name != "postgresql"  # SQLite: one process
        self._conn: Connection | None = None
        self._guard = threading.Lock()

    @property
    def held(self) -> bool:
        return self._shared or self._conn is not None

    def try_hold(self) -> bool:
        """True while this process holds the lease (taking it if it is free)."""
        if self._shared:
            return True
        with self._guard:
            try:
                if self._conn is not None:
                    self._conn.execute(text("SELECT 1"))  # the lock lives as long as this
                    return True
                conn = self.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
                got = conn.execute(
                    text("SELECT pg_try_advisory_lock(:key)"), {"key": self.key}
                ).scalar()
                if got:
                    self._conn = conn
                    log.info("lease.taken", lease=self.name)
                    return True
                conn.close()
                return False
            except DBAPIError as exc:
                self._drop(f"{type(exc).__name__}: {exc}")
                return False

    def release(self) -> None:
        """Give the lease up (at shutdown): another process may take it at once."""
        with self._guard:
            if self._conn is None:
                return
            with contextlib.suppress(DBAPIError):  # a connection gone took the lock along
                self._conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": self.key})
            self._drop("released")

    def _drop(self, why: str) -> None:
        if self._conn is None:
            return
        log.warning("lease.lost", lease=self.name, reason=why)
        with contextlib.suppress(DBAPIError):
            self._conn.invalidate()
            self._conn.close()
        self._conn = None
