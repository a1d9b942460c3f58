"""SQLite's writers are handed over by `WriterLock`, across threads and processes.

SQLite-only on purpose: PostgreSQL has row locks and no single write lock, so
`Database` gives it no writer lock at all (the last test checks that).
"""

from __future__ import annotations

import fcntl
import multiprocessing
import os
import threading
from pathlib import Path

import pytest
from sqlalchemy import text

from kinko.store.db import Database, FileWriterLock

COUNTER = "CREATE TABLE counter (id INTEGER PRIMARY KEY, n INTEGER NOT NULL)"


def _lock_is_free(lock_path: str, answer: multiprocessing.Queue[bool]) -> None:
    fd = os.open(lock_path, os.O_RDWR | os.O_CREAT)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        answer.put(False)
    else:
        answer.put(True)
    finally:
        os.close(fd)


def _increment(url: str, times: int) -> None:
    db = Database(url)
    for _ in range(times):
        with db.transaction() as session:
            n = session.execute(text("SELECT n FROM counter WHERE id = 1")).scalar_one()
            session.execute(text("UPDATE counter SET n = :n WHERE id = 1"), {"n": n + 1})
    db.dispose()


@pytest.fixture
def url(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'kinko.db'}"
    db = Database(url)
    with db.transaction() as session:
        session.execute(text(COUNTER))
        session.execute(text("INSERT INTO counter VALUES (1, 0)"))
    db.dispose()
    return url


def test_a_writing_process_holds_the_lock_file_until_it_commits(url: str, tmp_path: Path) -> None:
    spawn = multiprocessing.get_context("spawn")
    answers: multiprocessing.Queue[bool] = spawn.Queue()
    lock_path = str((tmp_path / "kinko.db.writer-lock").resolve())
    db = Database(url)

    def probe() -> bool:
        process = spawn.Process(target=_lock_is_free, args=(lock_path, answers))
        process.start()
        process.join(30)
        return answers.get(timeout=5)

    with db.transaction() as session:
        session.execute(text("UPDATE counter SET n = n + 1"))
        assert probe() is False  # another process would wait for us, in the kernel
    assert probe() is True  # released at commit
    db.dispose()


def test_processes_and_threads_never_lose_an_update(url: str) -> None:
    spawn = multiprocessing.get_context("spawn")
    workers = [spawn.Process(target=_increment, args=(url, 40)) for _ in range(2)]
    for worker in workers:
        worker.start()
    threads = [threading.Thread(target=_increment, args=(url, 40)) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    for worker in workers:
        worker.join(120)
        assert worker.exitcode == 0
    db = Database(url)
    with db.transaction() as session:
        assert session.execute(text("SELECT n FROM counter")).scalar_one() == 5 * 40
    db.dispose()


def test_nested_transactions_on_two_databases_of_one_file_do_not_deadlock(url: str) -> None:
    first, second = Database(url), Database(url)
    assert first._writer is second._writer  # one lock per file per process
    assert isinstance(first._writer, FileWriterLock)
    # A turn taken while this thread already holds the file's lock does not wait for it.
    assert first._writer.acquire(timeout=1)
    try:
        assert second._writer.acquire(timeout=1)
        second._writer.release()
    finally:
        first._writer.release()
    first.dispose()
    second.dispose()


def test_in_memory_databases_get_a_private_lock_and_postgresql_none() -> None:
    memory = Database("sqlite://")
    assert memory._writer is not None and not isinstance(memory._writer, FileWriterLock)
    assert Database("postgresql+psycopg://u@/db?host=/nonexistent")._writer is None


def test_reading_never_waits_for_the_writer_and_cannot_write(url: str) -> None:
    from sqlalchemy.exc import OperationalError

    db = Database(url)
    with db.transaction() as writer:  # this thread holds the write lock ...
        writer.execute(text("UPDATE counter SET n = 41"))
        with db.reading() as reader:  # ... and a lookup still answers at once,
            # seeing the last committed state, not the open transaction's
            assert reader.execute(text("SELECT n FROM counter")).scalar_one() == 0
    with db.reading() as reader, pytest.raises(OperationalError, match="readonly"):
        reader.execute(text("UPDATE counter SET n = 1"))
    db.dispose()


def test_events_are_published_after_the_writers_turn(url: str, tmp_path: Path) -> None:
    """A subscriber may write, perhaps in another process (the monitor of `kinko serve
    --workers N` lives in the supervisor): when it hears, the lock file must be free, or it
    would wait for the very writer that is publishing."""
    from datetime import UTC, datetime

    from kinko.core.events import EventBus, SecurityEvent
    from kinko.store.publish import publish_after_commit
    from kinko.store.tables.outbox import OutboxEventRow

    spawn = multiprocessing.get_context("spawn")
    answers: multiprocessing.Queue[bool] = spawn.Queue()
    lock_path = str((tmp_path / "kinko.db.writer-lock").resolve())
    heard: list[tuple[str, bool]] = []

    def another_process_could_write(event: SecurityEvent) -> None:
        process = spawn.Process(target=_lock_is_free, args=(lock_path, answers))
        process.start()
        process.join(30)
        heard.append((event.type, answers.get(timeout=5)))

    bus = EventBus()
    bus.subscribe(another_process_could_write)
    db = Database(url)
    OutboxEventRow.__table__.create(db.engine)  # the events' outbox (kinko.store.outbox)
    now = datetime(2026, 11, 21, tzinfo=UTC)
    with db.transaction() as session:
        session.execute(text("UPDATE counter SET n = n + 1"))
        publish_after_commit(session, bus, SecurityEvent(type="test.committed", time=now))
    with pytest.raises(RuntimeError), db.transaction() as session:
        publish_after_commit(session, bus, SecurityEvent(type="test.rolled_back", time=now))
        raise RuntimeError("roll back")
    db.dispose()
    assert heard == [("test.committed", True)]
    assert bus.failures == 0
