"""Engines and transactions for SQLite (embedded default) and PostgreSQL (production)."""

from __future__ import annotations

import fcntl
import os
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

from kinko.store.outbox import Outbox
from kinko.store.work import UnitOfWork

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


def _query_only_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA busy_timeout=30000")
    cur.execute("PRAGMA query_only=ON")
    cur.close()


def _sqlite_begin_immediate(conn: Any) -> None:
    # Writers serialise at BEGIN, so read-then-write checks (limits, sequences) cannot race.
    conn.exec_driver_sql("BEGIN IMMEDIATE")


class WriterLock:
    """Hands SQLite's single write lock from one writer to the next, in this process.

    Re-entrant (a nested transaction on the same thread does not wait for itself) and
    bounded: `acquire` gives up after `timeout` seconds."""

    def __init__(self) -> None:
        self._owner = threading.RLock()
        self._depth = 0  # nested turns of the holding thread

    def acquire(self, timeout: float) -> bool:
        if not self._owner.acquire(timeout=timeout):
            return False
        self._depth += 1
        if self._depth == 1:
            try:
                self._first_turn()
            except BaseException:
                self._depth -= 1
                self._owner.release()
                raise
        return True

    def release(self) -> None:
        self._depth -= 1
        if self._depth == 0:
            self._last_turn()
        self._owner.release()

    def _first_turn(self) -> None:
        """Hook: the holder has just come in (not nested)."""

    def _last_turn(self) -> None:
        """Hook: the holder is about to leave (not nested)."""


class FileWriterLock(WriterLock):
    """The same, across processes (several `kinko serve` workers on one SQLite file): the
    holder also takes an exclusive `flock` on ``<database>.writer-lock``.

    One per database file per process, shared by every `Database` on that file (so two of
    them in one process cannot wait for each other). The waiting thread sleeps in the
    kernel without the interpreter lock and wakes as soon as the holder unlocks, which
    SQLite's polling busy handler cannot do; the kernel releases the lock when its holder
    exits, however it exits."""

    def __init__(self, path: Path) -> None:
        super().__init__()
        self.path = path
        self._fd: int | None = None

    def _first_turn(self) -> None:
        # Opened per turn (a few microseconds): no descriptor outlives its use, and a
        # database file that was replaced gets a lock file of its own.
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
        except BaseException:
            os.close(fd)
            raise
        self._fd = fd

    def _last_turn(self) -> None:
        fd, self._fd = self._fd, None
        if fd is not None:
            os.close(fd)  # closing the last descriptor releases the lock


_file_locks: dict[Path, FileWriterLock] = {}
_file_locks_guard = threading.Lock()


def writer_lock_for(engine: Engine) -> WriterLock:
    """This process's writer lock for a SQLite engine's database."""
    name = engine.url.database
    if not name or name == ":memory:" or name.startswith("file:"):
        return WriterLock()  # a private database: nobody else can write to it
    path = Path(f"{Path(name).resolve()}.writer-lock")
    with _file_locks_guard:
        lock = _file_locks.get(path)
        if lock is None:
            lock = _file_locks[path] = FileWriterLock(path)
        return lock


def sole_writer_memo(session: Session, name: str) -> dict[Any, Any] | None:
    """A memo for reads that, in this transaction, only this transaction can change
    (`UnitOfWork.sole_writer_memo`)."""
    return UnitOfWork.of(session).sole_writer_memo(name)


def after_transaction(session: Session, callback: Callable[[], None]) -> None:
    """Run `callback` once `session`'s transaction has committed and, on SQLite, the
    writer's turn is over; never if it rolled back (`UnitOfWork.after_turn`)."""
    UnitOfWork.of(session).after_turn(callback)


def in_unit_of_work(session: Session) -> bool:
    """`session` is a `Database.transaction()`'s: what it queues with `after_transaction`
    runs once the writer's turn is over (a `reading()` session never commits)."""
    return UnitOfWork.of(session).managed


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
        # waiting thread wakes up late and often loses to a newcomer: p99 latency grows to
        # seconds. Writers instead queue on a `WriterLock` (threads of this process, and
        # processes on the same file) and are handed the database the moment the previous
        # one commits. It only orders writers: `BEGIN IMMEDIATE` still takes SQLite's lock
        # (a process without it, e.g. the sqlite3 shell, meets the busy timeout), and after
        # WRITER_WAIT seconds a writer goes on to SQLite's own wait.
        self._writer = (
            writer_lock_for(self.engine) if self.engine.dialect.name == "sqlite" else None
        )
        self._reader: Engine | None = None
        self._reader_guard = threading.Lock()
        # Security events are kept here with their transaction until delivered
        # (kinko.store.outbox); the context gives it its clock.
        self.outbox = Outbox(lambda: datetime.now(UTC))

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
    def reading(self) -> Iterator[Session]:
        """A session for lookups only, outside the writers' queue.

        On SQLite every `transaction()` starts with ``BEGIN IMMEDIATE`` and so waits for
        the single writer; lookups that every request makes (API tokens, sessions) and the
        checks a withdrawal request can make before it writes use this instead: a second,
        query-only engine (in WAL mode readers never block and are never blocked;
        anything it would write is refused by SQLite). On PostgreSQL, an ordinary session.
        """
        if self._writer is None:
            with self.sessions() as session:
                yield session
            return
        with self._reader_guard:
            if self._reader is None:
                # Sized like the request thread pool, so lookups do not queue for one.
                self._reader = create_engine(self.url, pool_size=20, max_overflow=30)
                event.listen(self._reader, "connect", _query_only_pragmas)
            reader = self._reader
        with Session(reader) as session:
            yield session

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """A session whose work commits together at the end, or not at all; then, with
        the writer's turn over, what its unit of work (kinko.store.work) queued runs."""
        with self._writer_turn(), self.sessions() as session, session.begin():
            work = UnitOfWork.begin(
                session, sole_writer=self._writer is not None, outbox=self.outbox
            )
            yield session
            work.before_commit()
        work.finish()

    def dispose(self) -> None:
        self.engine.dispose()
        if self._reader is not None:
            self._reader.dispose()
