"""Group commit: the write phases of concurrent withdrawal requests share one transaction.

A decision's write phase is short, but each transaction also pays for itself: the writer
lock hand-over, ``BEGIN IMMEDIATE``, the audit head read and write, the commit and its
fsync. Under load, requests queue for the single writer anyway (SQLite), so whoever gets
the lock takes every request waiting at that moment and runs them one after another in one
transaction:

* a request that fails (bad input, a duplicate idempotency key, anything) rolls the whole
  transaction back; it gets its error, and the others run again, without it, in a new
  transaction. A failure is rare (the checks that usually fail run before the write
  phase), and this costs nothing when nothing fails, where a savepoint per request cost
  two statements and the ORM's nested-transaction bookkeeping every time. Each request
  still runs after the same predecessors as it would have in a savepoint of its own;
* all the requests' audit entries are appended together just before the commit, and their
  events are published after it, while the next batch may already run;
* every caller learns its outcome only after the commit (or its failure), so nobody acts
  on a decision that might still be rolled back.

No thread of its own: the first caller to find no batch running leads (runs one batch,
then hands over to the first request still waiting); the others wait for their result
(leader/follower group commit). With one request at a time a batch is that one request.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from sqlalchemy.orm import Session

from kinko.context import Context
from kinko.core.events import SecurityEvent
from kinko.store.work import UnitOfWork
from kinko.withdrawals.records import unit_of_work

T = TypeVar("T")
Job = Callable[[Session], T]
MAX_BATCH = 64


@dataclass(slots=True)
class _Pending(Generic[T]):
    job: Job[T]
    future: Future[T] = field(default_factory=Future)
    # Set once: when the outcome is known, or when this request's thread is to lead.
    wake: threading.Event = field(default_factory=threading.Event)

    def succeed(self, result: T) -> None:
        self.future.set_result(result)
        self.wake.set()

    def fail(self, error: BaseException) -> None:
        if not self.future.done():
            self.future.set_exception(error)
        self.wake.set()


class _Failed(Exception):
    """One request of a batch failed: roll the batch back, then go on without it."""

    def __init__(self, pending: _Pending[Any], error: Exception) -> None:
        super().__init__(str(error))
        self.pending = pending
        self.error = error


@dataclass(slots=True)
class _Committed(Generic[T]):
    results: list[tuple[_Pending[T], T]]
    events: tuple[list[SecurityEvent], str | None]  # and their outbox row


class GroupCommit(Generic[T]):
    """Each waiting request sleeps on its own event and is woken once: with its outcome,
    or to lead the next batch. (A shared condition woke every waiting thread at each
    hand-over, only for all but one to sleep again; each wake-up competes with the
    writing leader for the interpreter lock.)"""

    def __init__(self, ctx: Context, *, max_batch: int = MAX_BATCH) -> None:
        self.ctx = ctx
        self.max_batch = max_batch
        self._lock = threading.Lock()
        self._queue: list[_Pending[T]] = []
        self._leading = False

    def run(self, job: Job[T]) -> T:
        """Run `job(session)` in a shared unit of work; its result once that committed."""
        pending: _Pending[T] = _Pending(job)
        with self._lock:
            self._queue.append(pending)
            lead = not self._leading
            self._leading = True
        while True:
            if not lead:
                pending.wake.wait()
                if pending.future.done():
                    return pending.future.result()
                pending.wake.clear()  # woken to lead
            self._lead()
            if pending.future.done():
                return pending.future.result()
            lead = False  # ours was not in that batch (more than max_batch waiting)

    def _lead(self) -> None:
        """Commit one batch, hand the lead to the next waiting request, then publish the
        batch's events and answer its callers (the next batch may already be writing):
        when a caller hears, the monitor has seen its events."""
        with self._lock:
            batch, self._queue = self._queue[: self.max_batch], self._queue[self.max_batch :]
        committed: _Committed[T] | None = None
        try:
            committed = self._commit(batch)
        except BaseException as exc:  # a bug here must not leave anyone waiting
            for waiting in batch:
                waiting.fail(exc)
        finally:
            with self._lock:
                if self._queue:
                    self._queue[0].wake.set()  # it leads next
                else:
                    self._leading = False
        if committed is not None:
            events, staged = committed.events
            if self.ctx.db.outbox.publish(self.ctx.bus, events, staged):
                self.ctx.db.outbox.delivered(staged)
            for done, result in committed.results:
                done.succeed(result)

    def _commit(self, batch: list[_Pending[T]]) -> _Committed[T] | None:
        """Commit what `batch` does; None if nothing was committed. A request that fails
        gets its error at once and the others run again without it."""
        jobs = list(batch)
        while jobs:
            results: list[T] = []
            try:
                with unit_of_work(self.ctx, publish=False) as session, session.no_autoflush:
                    work = UnitOfWork.of(session)
                    for pending in jobs:
                        try:
                            results.append(pending.job(session))
                            if len(jobs) > 1:
                                session.flush()  # a constraint violation names its request
                        except Exception as exc:
                            raise _Failed(pending, exc) from exc
            except _Failed as failed:
                failed.pending.fail(failed.error)
                jobs.remove(failed.pending)
                continue
            except BaseException as exc:  # the commit failed: nobody committed
                for pending in jobs:
                    pending.fail(exc)
                return None
            return _Committed(list(zip(jobs, results, strict=True)), work.take_events())
        return None
