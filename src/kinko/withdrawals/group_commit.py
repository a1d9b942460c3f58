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
  ~10 % of the write phase. Each request then ran after the same predecessors as if it
  had its own savepoint;
* all the requests' audit entries are appended together just before the commit, and their
  events are published after it, while the next batch may already run;
* every caller learns its outcome only after the commit (or its failure), so nobody acts
  on a decision that might still be rolled back.

No thread of its own: the first caller to find no batch running leads (runs one batch,
then hands over); the others wait for their result (leader/follower group commit). With
one request at a time a batch is that one request.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlalchemy.orm import Session

from kinko.context import Context
from kinko.core.events import SecurityEvent
from kinko.withdrawals.records import committed_events, unit_of_work

T = TypeVar("T")
Job = Callable[[Session], T]
MAX_BATCH = 64


@dataclass(slots=True)
class _Pending(Generic[T]):
    job: Job[T]
    future: Future[T]


class _Failed(Exception):
    """One request of a batch failed: roll the batch back, then go on without it."""

    def __init__(self, pending: _Pending[Any], error: Exception) -> None:
        super().__init__(str(error))
        self.pending = pending
        self.error = error


@dataclass(slots=True)
class _Committed(Generic[T]):
    results: list[tuple[_Pending[T], T]]
    events: list[SecurityEvent]

    def answer(self) -> None:
        for pending, result in self.results:
            pending.future.set_result(result)


class GroupCommit(Generic[T]):
    def __init__(self, ctx: Context, *, max_batch: int = MAX_BATCH) -> None:
        self.ctx = ctx
        self.max_batch = max_batch
        self._cond = threading.Condition()
        self._queue: list[_Pending[T]] = []
        self._leading = False

    def run(self, job: Job[T]) -> T:
        """Run `job(session)` in a shared unit of work; its result once that committed."""
        pending = _Pending(job, Future[T]())
        with self._cond:
            self._queue.append(pending)
            while not pending.future.done():
                if self._leading:
                    self._cond.wait()
                    continue
                self._leading = True
                batch, self._queue = self._queue[: self.max_batch], self._queue[self.max_batch :]
                self._cond.release()
                committed: _Committed[T] | None = None
                try:
                    committed = self._commit(batch)
                except BaseException as exc:  # a bug here must not leave anyone waiting
                    for waiting in batch:
                        if not waiting.future.done():
                            waiting.future.set_exception(exc)
                finally:
                    self._cond.acquire()
                    self._leading = False
                    self._cond.notify_all()
                if committed is not None:
                    # The next batch may start now; this one's events go to the monitor
                    # (perhaps in another process) meanwhile, and only then are its callers
                    # answered: when a caller hears, the monitor has seen its events.
                    self._cond.release()
                    try:
                        self.ctx.bus.publish_all(committed.events)
                        committed.answer()
                    finally:
                        self._cond.acquire()
                        self._cond.notify_all()
        return pending.future.result()

    def _commit(self, batch: list[_Pending[T]]) -> _Committed[T] | None:
        """Commit what `batch` does; None if nothing was committed. A request that fails
        gets its error at once and the others run again without it."""
        jobs = list(batch)
        while jobs:
            results: list[T] = []
            try:
                with unit_of_work(self.ctx, publish=False) as session, session.no_autoflush:
                    events = committed_events(session)
                    for pending in jobs:
                        try:
                            results.append(pending.job(session))
                            if len(jobs) > 1:
                                session.flush()  # a constraint violation names its request
                        except Exception as exc:
                            raise _Failed(pending, exc) from exc
            except _Failed as failed:
                failed.pending.future.set_exception(failed.error)
                jobs.remove(failed.pending)
                continue
            except BaseException as exc:  # the commit failed: nobody committed
                for pending in jobs:
                    pending.future.set_exception(exc)
                return None
            return _Committed(list(zip(jobs, results, strict=True)), events)
        return None
