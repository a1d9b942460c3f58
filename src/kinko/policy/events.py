"""Publish security events only once the transaction that caused them commits."""

from __future__ import annotations

from sqlalchemy import event
from sqlalchemy.orm import Session

from kinko.core.events import EventBus, SecurityEvent

_PENDING = "kinko_policy_events"


def publish_after_commit(session: Session, bus: EventBus, item: SecurityEvent) -> None:
    """Queue `item`; it reaches `bus` if `session` commits and is dropped if it rolls back."""
    pending: list[SecurityEvent] | None = session.info.get(_PENDING)
    if pending is None:
        pending = session.info[_PENDING] = []

        def publish(sess: Session) -> None:
            for queued in sess.info.pop(_PENDING, []):
                bus.publish(queued)

        def drop(sess: Session, _previous: object) -> None:
            sess.info.pop(_PENDING, None)

        event.listen(session, "after_commit", publish, once=True)
        event.listen(session, "after_soft_rollback", drop, once=True)
    pending.append(item)
