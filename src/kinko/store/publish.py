"""Publish security events once the transaction that caused them has committed.

Not from SQLAlchemy's ``after_commit`` hook: that runs while `Database.transaction()`
still holds the writer's turn, and a subscriber may write too (the monitor records its
alerts; in ``kinko serve --workers N`` it does so in the supervisor process, which would
wait for this very turn). `Database.transaction()` runs the publication once the turn is
over; a session from elsewhere falls back to ``after_commit``.
"""

from __future__ import annotations

from sqlalchemy import event
from sqlalchemy.orm import Session

from kinko.core.events import EventBus, SecurityEvent
from kinko.store.db import after_transaction

_PENDING = "kinko_pending_events"


def publish_after_commit(session: Session, bus: EventBus, item: SecurityEvent) -> None:
    """Queue `item`; it reaches `bus` if `session` commits and is dropped if it rolls back."""
    pending: list[SecurityEvent] | None = session.info.get(_PENDING)
    if pending is None:
        pending = session.info[_PENDING] = []

        def publish() -> None:
            bus.publish_all(session.info.pop(_PENDING, []))

        def drop(sess: Session, _previous: object) -> None:
            sess.info.pop(_PENDING, None)

        after_transaction(session, publish)
        event.listen(session, "after_soft_rollback", drop, once=True)
    pending.append(item)
