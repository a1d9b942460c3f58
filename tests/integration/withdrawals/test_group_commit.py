"""Group commit (both databases): requests that wait for the writer share a transaction,
and one that fails leaves no row, audit entry or event behind while the others commit."""

from __future__ import annotations

import itertools
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError as DBIntegrityError
from sqlalchemy.orm import Session

from kinko.context import Context
from kinko.core.errors import InputError
from kinko.core.events import SecurityEvent
from kinko.store.tables.audit import AuditEntryRow
from kinko.store.tables.identity import IdentityConfigRow
from kinko.withdrawals.group_commit import GroupCommit
from kinko.withdrawals.records import audit_later, defer_event

JOBS = 6
FAILING = 3


def test_a_failing_request_rolls_back_alone(ctx: Context) -> None:
    published: list[SecurityEvent] = []
    ctx.bus.subscribe(published.append)
    group = GroupCommit[int](ctx)
    sessions: dict[int, int] = {}
    batch_numbers = itertools.count()
    first_started = threading.Event()

    def job(i: int) -> Any:
        def write(session: Session) -> int:
            # one number per transaction (an id() could be reused once one is gone)
            sessions[i] = session.info.setdefault("test_batch", next(batch_numbers))
            if i == 0:  # hold the first batch so that the others queue behind it
                first_started.set()
                time.sleep(0.3)
            session.add(
                IdentityConfigRow(
                    key=f"k{i}", value=i, updated_at=ctx.clock.now(), updated_by="test"
                )
            )
            audit_later(session, actor="test", action="test.write", subject=f"k{i}", details={})
            defer_event(session, SecurityEvent(type="test.write", time=ctx.clock.now()))
            if i == FAILING:
                raise InputError("value", "refused on purpose")
            return i

        return write

    def submit(i: int) -> int | str:
        if i != 0:
            first_started.wait(10)
        try:
            return group.run(job(i))
        except InputError as exc:
            return exc.field

    with ThreadPoolExecutor(max_workers=JOBS) as pool:
        results = list(pool.map(submit, range(JOBS)))

    assert results == [0, 1, 2, "value", 4, 5]
    # The five that queued behind the first went as one batch: the failing one rolled it
    # back, and the four others committed together in one transaction without it.
    committed_together = {sessions[i] for i in range(1, JOBS) if i != FAILING}
    assert len(committed_together) == 1
    assert sessions[0] not in committed_together | {sessions[FAILING]}
    with ctx.db.transaction() as session:
        keys = sorted(session.execute(select(IdentityConfigRow.key)).scalars())
        audited = sorted(
            session.execute(
                select(AuditEntryRow.subject).where(AuditEntryRow.action == "test.write")
            ).scalars()
        )
    expected = [f"k{i}" for i in range(JOBS) if i != FAILING]
    assert keys == audited == expected
    assert len([e for e in published if e.type == "test.write"]) == JOBS - 1


def test_a_lone_request_failing_at_commit_gets_the_error_and_leaves_nothing(
    ctx: Context,
) -> None:
    group = GroupCommit[str](ctx)

    def clash(session: Session) -> str:
        # Two rows with one primary key: alone in its batch, it fails at the commit.
        for _ in range(2):
            session.add(
                IdentityConfigRow(key="dup", value=1, updated_at=ctx.clock.now(), updated_by="t")
            )
        return "never"

    with pytest.raises(DBIntegrityError) as caught:
        group.run(clash)
    assert "never" not in str(caught.value)
    with ctx.db.transaction() as session:
        assert session.get(IdentityConfigRow, "dup") is None


def test_an_event_deferred_outside_a_unit_of_work_is_refused_not_lost(ctx: Context) -> None:
    with ctx.db.transaction() as session, pytest.raises(RuntimeError, match="unit_of_work"):
        defer_event(session, SecurityEvent(type="test.orphan", time=ctx.clock.now()))
