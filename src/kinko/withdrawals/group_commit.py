"""Group commit: the write phases of concurrent withdrawal requests share one transaction.

A decision's write phase is short, but each transaction also pays for itself: the writer
lock hand-over, ``BEGIN IMMEDIATE``, the audit head read and write, the commit and its
fsync. Under load, requests queue for the single writer anyway (SQLite), so whoever gets
the lock takes every request waiting at that moment and runs them one after another in one
transaction, each in a savepoint of its own:

* a request that fails (bad input, a duplicate idempotency key, anything) rolls back to
  its savepoint: its rows, audit entries and events are gone, the others go on;
* all the requests' audit entries are appended together just before the commit, and their
  events are published after it, while the next batch may already run;
* every caller learns its outcome only after the commit (or its failure), so nobody acts
  on a decision that might still be rolled back.

No thread of its own: the first caller to find no batch running leads (runs one batch,
then hands over); the others wait for their result (leader/follower group commit). With
one request at a time a batch is that one request, without a savepoint.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Generic, TypeVar

from sqlalchemy.orm import Session

from kinko.context import Context
from kinko.core.events import SecurityEvent
from kinko.withdrawals.records import (
    committed_events,
    event_mark,
    forget_events_after,
    unit_of_work,
)

T = TypeVar("T")
Job = Callable[[Session], T]
MAX_BATCH = 64


@dataclass(slots=True)
class _Pending(Generic[T]):
    job: Job[T]
    future: Future[T]


@dataclass(slots=True)
class _Committed(Generic[T]):
    outcomes: list[tuple[_Pending[T], T | None, BaseException | None]]
    events: list[SecurityEvent]

    def answer(self) -> None:
        for pending, result, error in self.outcomes:
            if error is not None:
                pending.future.set_exception(error)
            else:
                pending.future.set_result(result)  # type: ignore[arg-type]


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
        outcomes: list[tuple[_Pending[T], T | None, BaseException | None]] = []
        try:
            with unit_of_work(self.ctx, publish=False) as session, session.no_autoflush:
                events = committed_events(session)
                if len(batch) == 1:
                    outcomes.append((batch[0], batch[0].job(session), None))
                else:
                    outcomes.extend(self._isolated(session, p) for p in batch)
        except BaseException as exc:  # the commit (or a lone job) failed: nobody committed
            for pending in batch:
                pending.future.set_exception(exc)
            return None
        return _Committed(outcomes, events)

    def _isolated(
        self, session: Session, pending: _Pending[T]
    ) -> tuple[_Pending[T], T | None, BaseException | None]:
        """Run one job in a savepoint; on failure undo its rows, audit entries and events."""
        audit_mark = self.ctx.audit.deferred_mark(session)
        events_mark = event_mark(session)
        savepoint = session.begin_nested()
        try:
            result = pending.job(session)
            session.flush()  # constraint violations surface here, in this job's savepoint
            savepoint.commit()
        except Exception as exc:
            savepoint.rollback()
            self.ctx.audit.forget_deferred_after(session, audit_mark)
            forget_events_after(session, events_mark)
            return pending, None, exc
        return pending, result, None
