"""Publish security events once the transaction that caused them has committed and the
writer's turn is over (`kinko.store.work.UnitOfWork.announce`)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from kinko.core.events import EventBus, SecurityEvent
from kinko.store.work import UnitOfWork


def publish_after_commit(session: Session, bus: EventBus, item: SecurityEvent) -> None:
    """Queue `item`; it reaches `bus` if `session` commits and is dropped if it rolls back."""
    UnitOfWork.of(session).announce(item, bus)
