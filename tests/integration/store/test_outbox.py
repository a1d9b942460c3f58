"""The event outbox (`kinko.store.outbox`), on SQLite and PostgreSQL: a security event
commits with the transaction that caused it and reaches the monitor even when the process
that committed it dies before publishing, or its subscriber (the Redis stream) is away."""

from __future__ import annotations

import multiprocessing
import os
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from kinko.config import Settings
from kinko.context import Context, build_context
from kinko.core.clock import FixedClock
from kinko.core.events import SecurityEvent
from kinko.store.outbox import GRACE, MAX_ATTEMPTS
from kinko.store.publish import publish_after_commit
from kinko.store.tables.outbox import OutboxEventRow

LATER = GRACE + timedelta(seconds=1)


def event(kind: str, when: datetime) -> SecurityEvent:
    return SecurityEvent(
        type=kind,
        time=when,
        actor="user:u_1",
        amount=3 * 10**18,
        wallet="eth-hot",
        fields={"freeze_id": "frz_1", "votes": ["a", "b"], "at": when},
    )


def kept(ctx: Context) -> int:
    with ctx.db.reading() as session:
        return int(session.execute(select(func.count()).select_from(OutboxEventRow)).scalar_one())


def another_process(ctx: Context, clock: FixedClock) -> tuple[Context, list[SecurityEvent]]:
    """A second `kinko serve` on the same database, with its own healthy subscriber."""
    other = build_context(ctx.settings, clock=clock)
    heard: list[SecurityEvent] = []
    other.bus.subscribe(heard.append)
    return other, heard


def test_a_delivered_event_is_forgotten_with_the_next_transaction(ctx: Context) -> None:
    heard: list[SecurityEvent] = []
    ctx.bus.subscribe(heard.append)
    with ctx.db.transaction() as session:
        publish_after_commit(session, ctx.bus, event("freeze.released", ctx.clock.now()))
    assert [e.type for e in heard] == ["freeze.released"]
    assert kept(ctx) == 1  # until this process's next transaction
    with ctx.db.transaction():
        pass
    assert kept(ctx) == 0
    with pytest.raises(RuntimeError), ctx.db.transaction() as session:
        publish_after_commit(session, ctx.bus, event("never", ctx.clock.now()))
        raise RuntimeError("rolled back: nothing staged, nothing heard")
    assert kept(ctx) == 0 and len(heard) == 1


def test_events_a_failing_subscriber_missed_are_relayed_after_the_grace(
    ctx: Context, clock: FixedClock
) -> None:
    def redis_away(_: SecurityEvent) -> None:
        raise ConnectionError("redis unreachable")

    ctx.bus.subscribe(redis_away)
    sent = event("withdrawal.requested", clock.now())
    with ctx.db.transaction() as session:
        publish_after_commit(session, ctx.bus, sent)
    with ctx.db.transaction():
        pass  # a later transaction does not forget an undelivered event
    assert kept(ctx) == 1
    other, heard = another_process(ctx, clock)
    try:
        assert other.db.outbox.sweep(other.db.transaction, other.bus) == 0  # within grace
        clock.advance(LATER)
        assert other.db.outbox.sweep(other.db.transaction, other.bus) == 1
        assert heard == [
            SecurityEvent(
                type=sent.type,
                time=sent.time,
                actor=sent.actor,
                amount=sent.amount,
                wallet=sent.wallet,
                fields={"freeze_id": "frz_1", "votes": ["a", "b"], "at": sent.time.isoformat()},
            )
        ]
        assert other.db.outbox.sweep(other.db.transaction, other.bus) == 0  # once
        assert kept(ctx) == 0
    finally:
        other.db.dispose()


def _commit_then_die(url: str, data_dir: str) -> None:
    """A process that commits an event and is killed before anyone hears it."""
    ctx = build_context(Settings(data_dir=data_dir, database_url=url, log_json=False))

    def killed(_: SecurityEvent) -> None:
        os._exit(137)  # SIGKILL's exit: no cleanup, no atexit, no finally

    ctx.bus.subscribe(killed)
    with ctx.db.transaction() as session:
        now = datetime.now(UTC)
        publish_after_commit(session, ctx.bus, event("role.change", now))


def test_an_event_outlives_the_process_killed_after_its_commit(
    ctx: Context, clock: FixedClock
) -> None:
    child = multiprocessing.get_context("spawn").Process(
        target=_commit_then_die,
        args=(ctx.settings.resolved_database_url, str(ctx.settings.data_dir)),
    )
    child.start()
    child.join(60)
    assert child.exitcode == 137
    assert kept(ctx) == 1
    clock.set(datetime.now(UTC) + LATER)  # the child dated its row by the real clock
    other, heard = another_process(ctx, clock)
    try:
        assert other.db.outbox.sweep(other.db.transaction, other.bus) == 1
        assert [(e.type, e.actor, e.fields["freeze_id"]) for e in heard] == [
            ("role.change", "user:u_1", "frz_1")
        ]
    finally:
        other.db.dispose()


def test_an_event_no_subscriber_takes_never_holds_up_the_others(
    ctx: Context, clock: FixedClock
) -> None:
    def away(_: SecurityEvent) -> None:
        raise ConnectionError("redis unreachable")

    ctx.bus.subscribe(away)
    for kind in ("poison", "withdrawal.requested"):
        with ctx.db.transaction() as session:
            publish_after_commit(session, ctx.bus, event(kind, clock.now()))
    other = build_context(ctx.settings, clock=clock)
    heard: list[str] = []

    def picky(e: SecurityEvent) -> None:
        if e.type == "poison":
            raise ValueError("a monitor that can never parse it")
        heard.append(e.type)

    other.bus.subscribe(picky)
    try:
        for _ in range(MAX_ATTEMPTS + 2):
            clock.advance(LATER)
            other.db.outbox.sweep(other.db.transaction, other.bus)
        assert heard == ["withdrawal.requested"]  # relayed once, not held up
        with other.db.reading() as session:
            [(attempts, texts)] = session.execute(
                select(OutboxEventRow.attempts, OutboxEventRow.events)
            ).all()
        assert attempts == MAX_ATTEMPTS and "poison" in texts  # left for a person
    finally:
        other.db.dispose()
