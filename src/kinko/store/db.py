"""Engines and transactions for SQLite (embedded default) and PostgreSQL (production)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

WRITER_WAIT = 30.0
"""Seconds a SQLite writer waits for this process's writer lock (as busy_timeout)."""


def make_engine(url: str, **kwargs: Any) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(url, **kwargs)
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin_immediate)
        return engine
    kwargs.setdefault("pool_size", 20)
    kwargs.setdefault("max_overflow", 20)
    kwargs.setdefault("pool_pre_ping", True)
    return create_engine(url, **kwargs)


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    # Let SQLAlchemy, not pysqlite, emit BEGIN (so we can make it IMMEDIATE).
    dbapi_conn.isolation_level = None
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=FULL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.close()


def _sqlite_begin_immediate(conn: Any) -> None:
    # Writers serialise at BEGIN, so read-then-write checks (limits, sequences) cannot race.
    conn.exec_driver_sql("BEGIN IMMEDIATE")


def is_postgres(engine: Engine) -> bool:
    return engine.dialect.name == "postgresql"


class Database:
    """An engine plus a session factory; `transaction()` is the unit of work."""

    def __init__(self, url: str, **kwargs: Any) -> None:
        self.url = url
        self.engine = make_engine(url, **kwargs)
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)
        # SQLite has one writer at a time; `BEGIN IMMEDIATE` waits for it in SQLite's busy
        # handler, which sleeps (1, 2, 5 ... 100 ms) and polls, so under concurrency a
        # waiting thread wakes up late and often loses to a newcomer: p99 latency grows
        # to seconds. Writers of this process queue on a lock instead and are handed the
        # database the moment the previous one commits. Other processes still meet
        # `BEGIN IMMEDIATE` and the busy timeout: the lock only orders this process's
        # writers, it adds no guarantee of its own. Re-entrant, so a nested transaction on
        # the same thread behaves as before (it waits for SQLite, not for itself), and
        # bounded: after WRITER_WAIT seconds a writer goes on to SQLite's own busy timeout.
        self._writer: threading.RLock | None = (
            threading.RLock() if self.engine.dialect.name == "sqlite" else None
        )

    @contextmanager
    def _writer_turn(self) -> Iterator[None]:
        writer = self._writer
        if writer is None or not writer.acquire(timeout=WRITER_WAIT):
            yield
            return
        try:
            yield
        finally:
            writer.release()

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """A session whose work commits together at the end, or not at all."""
        with self._writer_turn(), self.sessions() as session, session.begin():
            yield session

    def dispose(self) -> None:
        self.engine.dispose()
