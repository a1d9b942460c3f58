"""The transactional outbox: a security event outlives the process that caused it.

A service announces its events in its unit of work (`kinko.store.work`); they are
published once the transaction has committed. Before the outbox, a process killed between
its commit and that publish, or a Redis stream unreachable at that moment, lost them: the
withdrawal was requested, the freeze lifted, and the monitor never heard of it. Now:

1. just before the commit, the unit of work writes its events to ``event_outbox`` in the
   same transaction (`stage`): they commit with what caused them, or not at all;
2. after the writer's turn it publishes them on the bus, and when every subscriber took
   them (`EventBus.publish_all` says so) hands their ids back (`delivered`);
3. the next transaction of this process deletes those rows (`forget_delivered`: no
   round trip of its own), and so does the sweep when the process is idle or exits;
4. rows nobody deleted within `GRACE` (their process died after its commit, or a
   subscriber failed) are relayed by `sweep`: published on the bus again and deleted,
   ``FOR UPDATE SKIP LOCKED`` on PostgreSQL so that processes sweeping at once share
   them out. ``kinko serve`` sweeps every few seconds (`kinko.api.background`).

Delivery is at least once: an event published just before its process died, and not yet
deleted, is published again by the sweep (as the Redis stream's evaluator may evaluate an
entry twice, `kinko.monitor.streams`).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from datetime import datetime, timedelta

import structlog
from sqlalchemy import delete, insert, select
from sqlalchemy.orm import Session

from kinko.core.events import EventBus, SecurityEvent, decode_event, encode_event
from kinko.store.tables.outbox import OutboxEventRow

log = structlog.get_logger("kinko.store.outbox")

GRACE = timedelta(seconds=30)
RELAY_BATCH = 500


class Outbox:
    """One process's side of the outbox: what it staged and saw delivered."""

    def __init__(self, now: Callable[[], datetime]) -> None:
        self.now = now
        self._delivered: list[int] = []
        self._lock = threading.Lock()

    def stage(self, session: Session, events: Sequence[SecurityEvent]) -> list[int]:
        """Write `events` in `session`'s transaction; their row ids, in order."""
        if not events:
            return []
        at = self.now()
        rows = [{"event": encode_event(e), "created_at": at} for e in events]
        result = session.execute(insert(OutboxEventRow).returning(OutboxEventRow.id), rows)
        return [int(i) for i in result.scalars()]

    def delivered(self, ids: Sequence[int]) -> None:
        """Every subscriber took the events of `ids`: their rows may go."""
        if ids:
            with self._lock:
                self._delivered.extend(ids)

    def forget_delivered(self, session: Session) -> None:
        """Delete, in `session`'s transaction, the rows this process saw delivered."""
        with self._lock:
            ids, self._delivered = self._delivered, []
        if ids:
            session.execute(delete(OutboxEventRow).where(OutboxEventRow.id.in_(ids)))

    def publish(self, bus: EventBus, events: Sequence[SecurityEvent], ids: Sequence[int]) -> None:
        """Publish staged `events` on `bus`; forget them once every subscriber took them."""
        if bus.publish_all(events):
            self.delivered(ids)
        elif ids:
            log.error("outbox.kept", events=len(ids), reason="a subscriber failed")

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
                        .where(OutboxEventRow.created_at < now - GRACE)
                        .order_by(OutboxEventRow.id)
                        .limit(RELAY_BATCH)
                        .with_for_update(skip_locked=True)
                    ).scalars()
                )
                for row in rows:
                    row.created_at = now
                claimed = [(row.id, row.event) for row in rows]
            if not claimed:
                return relayed
            log.warning("outbox.relaying", events=len(claimed))
            events = [decode_event(text) for _, text in claimed]
            if not bus.publish_all(events):
                log.error("outbox.relay_failed", events=len(claimed))
                return relayed
            self.delivered([i for i, _ in claimed])
            relayed += len(claimed)
