"""The unit of work: one write transaction and all it carries besides its rows (ADR 0004).

`Database.transaction()` opens one. What must happen with the transaction (audit entries
appended together just before it commits) or after it (security events, and anything else
that must wait until the commit *and* the end of the writer's turn) is queued here, and
only here: no other module keeps state on the session. A session that does not come from
`Database.transaction()` (a test's, a `reading()` one) gets an unmanaged unit of work whose
after-turn work runs on SQLAlchemy's ``after_commit`` and is dropped on rollback.

Security events are also written to the outbox just before the commit
(`kinko.store.outbox`), so that they survive a process that dies before publishing them.

Why after the writer's turn and not on ``after_commit``: a subscriber may write too (the
monitor records its alerts), and on SQLite it would wait for the very turn this
transaction still holds.

The lock order every writer follows: the audit head first (`AuditLog.hold_head`, or the
first append), then velocity counters in sorted order (`kinko.policy.velocity`).
"""

from __future__ import annotations

from collections.abc import Callable
from enum import IntEnum
from typing import TYPE_CHECKING, Any

import structlog
from sqlalchemy import event
from sqlalchemy.orm import Session

from kinko.core.events import EventBus, SecurityEvent

if TYPE_CHECKING:
    from kinko.store.outbox import Outbox

log = structlog.get_logger("kinko.store.work")

_KEY = "kinko.unit_of_work"  # the one key Kinko keeps on a session


class LockStep(IntEnum):
    """The order in which a writer takes Kinko's shared locks. Two transactions that take
    them in the same order never deadlock on them."""

    AUDIT_HEAD = 1
    VELOCITY_COUNTERS = 2


class UnitOfWork:
    def __init__(self, session: Session, *, managed: bool, sole_writer: bool) -> None:
        self.session = session
        self.managed = managed
        # On SQLite a transaction holds the single write lock from BEGIN IMMEDIATE to its
        # commit: what it reads, only it can change meanwhile.
        self.sole_writer = sole_writer
        self._after_turn: list[Callable[[], None]] = []
        self._events: list[tuple[EventBus, SecurityEvent]] = []
        self._events_queued = False
        self._bus: EventBus | None = None
        self._keep_events = False
        self._kept: list[SecurityEvent] = []
        self._audit: list[Any] | None = None
        self._memos: dict[str, dict[Any, Any]] = {}
        self._held: set[LockStep] = set()
        self.outbox: Outbox | None = None
        self._staged: str | None = None
        self._kept_staged: str | None = None

    @classmethod
    def of(cls, session: Session) -> UnitOfWork:
        """`session`'s unit of work (an unmanaged one for a session from elsewhere)."""
        work: UnitOfWork | None = session.info.get(_KEY)
        if work is None:
            work = session.info[_KEY] = cls(session, managed=False, sole_writer=False)
        return work

    @classmethod
    def begin(
        cls, session: Session, *, sole_writer: bool, outbox: Outbox | None = None
    ) -> UnitOfWork:
        """Open the unit of work of a `Database.transaction()` session (its events kept
        in `outbox` until delivered, `kinko.store.outbox`)."""
        work = session.info[_KEY] = cls(session, managed=True, sole_writer=sole_writer)
        work.outbox = outbox
        return work

    def before_commit(self) -> None:
        """Called by `Database.transaction()` just before it commits: the events go to the
        outbox with the transaction, and rows this process saw delivered go."""
        if self.outbox is None:
            return
        self.outbox.forget_delivered(self.session)
        self._staged = self.outbox.stage(self.session, [item for _, item in self._events])
        self._kept_staged = self.outbox.stage(self.session, self._kept)

    # -- the lock order ---------------------------------------------------------------

    def took(self, step: LockStep) -> None:
        """Record that this transaction takes `step`'s lock; refuse one taken out of order
        (the audit head after velocity counters: a deadlock waiting to happen). Checked on
        every engine, so a test on SQLite finds what would deadlock on PostgreSQL."""
        if step in self._held:
            return
        later = sorted(s.name for s in self._held if s > step)
        if later:
            raise RuntimeError(
                f"lock order: {step.name} taken after {', '.join(later)}; take it first "
                "(AuditLog.hold_head before velocity counters)"
            )
        self._held.add(step)

    # -- after the writer's turn ---------------------------------------------------------

    def after_turn(self, callback: Callable[[], None]) -> None:
        """Run `callback` once the transaction has committed and the writer's turn is over;
        never if it rolled back."""
        if self.managed:
            self._after_turn.append(callback)
            return

        def committed(_: Session) -> None:
            callback()

        event.listen(self.session, "after_commit", committed, once=True)

    def finish(self) -> None:
        """Called by `Database.transaction()` after the commit and the writer's turn."""
        callbacks, self._after_turn = self._after_turn, []
        for callback in callbacks:
            callback()

    # -- security events -----------------------------------------------------------------

    def bind_bus(self, bus: EventBus, *, keep_events: bool = False) -> None:
        """Events announced without a bus go to `bus`. `keep_events`: the owner of this
        unit of work publishes those itself (`take_events`), e.g. a group commit that
        hands the writer's turn on first."""
        self._bus = bus
        self._keep_events = keep_events

    @property
    def bus(self) -> EventBus | None:
        """The bus bound by `bind_bus`, if any."""
        return self._bus

    def announce(self, item: SecurityEvent, bus: EventBus | None = None) -> None:
        """Publish `item` (on `bus`, or the bound bus) after the writer's turn; dropped if
        the transaction rolls back."""
        target = bus or self._bus
        if target is None:
            raise RuntimeError("no event bus: pass one, or bind one to this unit of work")
        if bus is None and self._keep_events:
            self._kept.append(item)
            return
        self._events.append((target, item))
        if self._events_queued:
            return
        self._events_queued = True
        self.after_turn(self._publish)
        if not self.managed:
            event.listen(self.session, "after_soft_rollback", self._drop, once=True)

    def take_events(self) -> tuple[list[SecurityEvent], str | None]:
        """The events announced to the bound bus, for an owner that publishes them itself
        (`bind_bus(..., keep_events=True)`), and their outbox rows (`Outbox.publish`)."""
        taken, self._kept = self._kept, []
        staged, self._kept_staged = self._kept_staged, None
        return taken, staged

    def _publish(self) -> None:
        events, self._events, self._events_queued = self._events, [], False
        staged, self._staged = self._staged, None
        delivered = True
        start = 0
        for i in range(1, len(events) + 1):  # consecutive events of one bus: one batch
            if i == len(events) or events[i][0] is not events[start][0]:
                batch = [item for _, item in events[start:i]]
                delivered = events[start][0].publish_all(batch) and delivered
                start = i
        if delivered and self.outbox is not None:
            self.outbox.delivered(staged)
        elif staged is not None:
            log.error("outbox.kept", events=len(events), reason="a subscriber failed")

    def _drop(self, _session: Session, _previous: object) -> None:
        self._events, self._kept, self._events_queued = [], [], False

    # -- audit entries appended just before the commit -----------------------------------

    def defer_audit(self) -> None:
        """From now on the audit log queues this transaction's entries (`queue_audit`)
        until it appends them all under one head lock (`take_audit`)."""
        self._audit = []

    def queue_audit(self, entry: Any) -> bool:
        """Queue `entry` (the audit log's own type); False when entries are not deferred."""
        if self._audit is None:
            return False
        self._audit.append(entry)
        return True

    def take_audit(self) -> list[Any]:
        taken, self._audit = self._audit or [], None
        return taken

    # -- what a transaction remembers -----------------------------------------------------

    def memo(self, name: str) -> dict[Any, Any]:
        """A cache for this transaction (rows it already looked up)."""
        return self._memos.setdefault(name, {})

    def sole_writer_memo(self, name: str) -> dict[Any, Any] | None:
        """A memo for reads that, in this transaction, only this transaction can change
        (SQLite's single writer; whoever writes the value clears it); None elsewhere
        (PostgreSQL, read committed; `Database.reading()`): read every time."""
        return self.memo(f"sole_writer:{name}") if self.sole_writer else None
