"""The transactional outbox: a security event outlives the process that caused it.

A service announces its events in its unit of work (`kinko.store.work`); they are
published once the transaction has committed. Before the outbox, a process killed between
its commit and that publish, or a Redis stream unreachable at that moment, lost them: the
withdrawal was requested, the freeze lifted, and the monitor never heard of it. Now:

1. just before the commit, the unit of work writes its events to ``event_outbox`` in the
   same transaction (`stage`: one row per transaction, one insert, its id made here):
   they commit with what caused them, or not at all;
2. after the writer's turn it publishes them on the bus, and when every subscriber took
   them (`EventBus.publish_all` says so) hands the row's id back (`delivered`);
3. the next transaction of this process deletes those rows (`forget_delivered`: one
   statement, no round trip of its own), and so does the sweep when the process is idle
   or exits;
4. rows nobody deleted within `GRACE` (their process died after its commit, or a
   subscriber failed) are relayed by `sweep`: published on the bus again and deleted,
   ``FOR UPDATE SKIP LOCKED`` on PostgreSQL so that processes sweeping at once share
   them out. ``kinko serve`` sweeps every few seconds (`kinko.api.background`). A row
   whose relay fails `MAX_ATTEMPTS` times (a subscriber that always refuses it) is left
   in the table and logged critical (``outbox.undeliverable``), so that it never holds
   up the rows behind it.

Delivery is at least once: an event published just before its process died, and not yet
deleted, is published again by the sweep (as the Redis stream's evaluator may evaluate an
entry twice, `kinko.monitor.streams`).
"""

from __future__ import annotations

import json
import secrets
import threading
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from datetime import datetime, timedelta

import structlog
from sqlalchemy import bindparam, delete, insert, select
from sqlalchemy.orm import Session

from kinko.core.events import EventBus, SecurityEvent, decode_event, encode_event
from kinko.store.tables.outbox import OutboxEventRow

log = structlog.get_logger("kinko.store.outbox")

GRACE = timedelta(seconds=30)
MAX_ATTEMPTS = 5  # relays of one row; then it stays, logged, for a person to look at
RELAY_BATCH = 100  # rows (transactions) a sweep claims at a time

# Built once: every transaction runs them (SQLAlchemy caches their compiled form).
_STAGE = insert(OutboxEventRow)
_FORGET = delete(OutboxEventRow).where(OutboxEventRow.id.in_(bindparam("ids", expanding=True)))


class Outbox:
    """One process's side of the outbox: what it staged and saw delivered."""

    def __init__(self, now: Callable[[], datetime]) -> None:
        self.now = now
        self._delivered: list[str] = []
        self._lock = threading.Lock()

    def stage(self, session: Session, events: Sequence[SecurityEvent]) -> str | None:
        """Write `events` in `session`'s transaction; the row's id (None: no events)."""
        if not events:
            return None
        row_id = secrets.token_hex(16)
        texts = json.dumps([encode_event(e) for e in events], separators=(",", ":"))
        # The connection's execute: the ORM session's adds ~0.2 ms a statement here.
        session.connection().execute(
            _STAGE, {"id": row_id, "events": texts, "created_at": self.now(), "attempts": 0}
        )
        return row_id

    def delivered(self, row_id: str | None) -> None:
        """Every subscriber took the events of row `row_id`: it may go."""
        if row_id is not None:
            with self._lock:
                self._delivered.append(row_id)

    def forget_delivered(self, session: Session) -> None:
        """Delete, in `session`'s transaction, the rows this process saw delivered."""
        if not self._delivered:
            return
        with self._lock:
            ids, self._delivered = self._delivered, []
        session.connection().execute(_FORGET, {"ids": ids})

    def publish(self, bus: EventBus, events: Sequence[SecurityEvent], row_id: str | None) -> bool:
        """Publish `events` on `bus`; True when every subscriber took them (then row
        `row_id`, if any, may go)."""
        if bus.publish_all(events):
            return True
        if row_id is not None:
            log.error("outbox.kept", events=len(events), reason="a subscriber failed")
        return False

    def sweep(
        self, transaction: Callable[[], AbstractContextManager[Session]], bus: EventBus
    ) -> int:
        """Delete what was delivered, then relay, a batch at a time, the rows older than
        `GRACE` that nobody deleted. Returns how many events it relayed.

        A batch is claimed in a transaction of its own (its rows re-dated: another sweep
        leaves them alone for `GRACE`) and published after the commit and the writer's
        turn, as every event is (a subscriber may write); its rows go with the next
        transaction once delivered, or come back after `GRACE` if this process dies.
        `transaction`: the database's ``transaction``."""
        relayed = 0
        while True:
            with transaction() as session:
                self.forget_delivered(session)
                now = self.now()
                rows = list(
                    session.execute(
                        select(OutboxEventRow)
                        .where(
                            OutboxEventRow.created_at < now - GRACE,
                            OutboxEventRow.attempts < MAX_ATTEMPTS,
                        )
                        .order_by(OutboxEventRow.id)
                        .limit(RELAY_BATCH)
                        .with_for_update(skip_locked=True)
                    ).scalars()
                )
                for row in rows:
                    row.created_at = now
                    row.attempts += 1
                claimed = [(row.id, row.events, row.attempts) for row in rows]
            if not claimed:
                return relayed
            for row_id, texts, attempts in claimed:
                events = [decode_event(text) for text in json.loads(texts)]
                log.warning("outbox.relaying", events=len(events), attempt=attempts)
                if bus.publish_all(events):
                    self.delivered(row_id)
                    relayed += len(events)
                elif attempts >= MAX_ATTEMPTS:  # one bad row must not hold up the others
                    log.critical(
                        "outbox.undeliverable",
                        row=row_id,
                        types=sorted({e.type for e in events}),
                        attempts=attempts,
                    )
                else:
                    log.error("outbox.relay_failed", row=row_id, attempt=attempts)
