"""The application context: settings, database, clock, audit log and event bus.

Services receive a `Context`; nothing reads globals. Tests build one per database backend.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from kinko.audit.service import AuditLog
from kinko.config import Settings
from kinko.core.clock import Clock, SystemClock
from kinko.core.events import EventBus
from kinko.store.db import Database


@dataclass
class Context:
    settings: Settings
    db: Database
    audit: AuditLog
    clock: Clock = field(default_factory=SystemClock)
    bus: EventBus = field(default_factory=EventBus)

    def __post_init__(self) -> None:
        self.db.outbox.now = self.clock.now  # the outbox dates its rows by this clock


def build_context(settings: Settings, *, clock: Clock | None = None) -> Context:
    db = Database(settings.resolved_database_url)
    clock = clock or SystemClock()
    audit = AuditLog(settings=settings, clock=clock)
    return Context(settings=settings, db=db, audit=audit, clock=clock)
