"""Periodic jobs run by ``kinko serve``: a signed audit checkpoint every interval, a
screening-list freshness check, the chain watcher when a node is configured, the
execution of approved withdrawals left behind (at start, then every 30 s) and the day's
evidence snapshot (self-inspection, issue #16); in one process at a time, under a lease
(`jobs_under_lease`). And in every process, the sweep of the event outbox (`outbox_loop`)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Sequence
from datetime import timedelta

import structlog

from kinko.context import Context
from kinko.core.errors import KinkoError
from kinko.inspection.snapshots import Taken
from kinko.store.leases import Lease
from kinko.withdrawals.execution import Executor

log = structlog.get_logger(__name__)


def issue_checkpoint_if_grown(ctx: Context) -> int | None:
    """Sign a checkpoint when the log has grown since the latest one; return its size."""
    with ctx.db.transaction() as session:
        latest = ctx.audit.latest_checkpoint_value(session)
        size = ctx.audit.size(session)
        if latest is not None and latest.size == size:
            return None
        ctx.audit.checkpoint(session)
        return size


async def checkpoint_loop(ctx: Context) -> None:
    interval = ctx.settings.checkpoint_interval_s
    while True:
        try:
            size = await asyncio.to_thread(issue_checkpoint_if_grown, ctx)
            if size is not None:
                log.info("audit.checkpoint", size=size)
        except KinkoError as exc:
            # Keep serving; the failure is loud and the next tick tries again.
            log.error("audit.checkpoint_failed", error=exc.message)
        except Exception as exc:  # e.g. the database is briefly unreachable
            log.error("audit.checkpoint_failed", error=f"{type(exc).__name__}: {exc}")
        await asyncio.sleep(interval)


SCREENING_CHECK_INTERVAL_S = 300.0


async def screening_freshness_loop(check: Callable[[], Sequence[str]], interval: float) -> None:
    """Every few minutes, raise `screening.stale` if a required list is missing or old
    (`check`: the screening service's `check_freshness`, from the composition root)."""
    while True:
        try:
            reasons = await asyncio.to_thread(check)
            if reasons:
                log.warning("screening.stale", reasons=list(reasons))
        except Exception as exc:
            log.error("screening.freshness_check_failed", error=f"{type(exc).__name__}: {exc}")
        await asyncio.sleep(interval)


EXECUTION_INTERVAL_S = 30.0
# Longer than an in-line execution takes (a few node calls of at most 10 s each): what has
# not moved for this long is left behind, not being executed by an approving request.
EXECUTION_GRACE = timedelta(seconds=60)


async def execution_loop(executor: Callable[[], Executor], interval: float) -> None:
    """Approved (or signed) hot-wallet withdrawals left behind are executed
    (`Executor.resume`): at start (a crash between an approval and its broadcast), then
    every `interval` (a node that was down); each time those unchanged for
    `EXECUTION_GRACE`, never one an approving request is executing right now."""
    while True:
        try:
            found = await asyncio.to_thread(executor)
            done = await asyncio.to_thread(found.resume, idle_for=EXECUTION_GRACE)
            for view in done:
                log.info("withdrawals.resumed", withdrawal=view.id, state=view.state.value)
        except Exception as exc:  # e.g. the database is briefly unreachable
            log.error("withdrawals.resume_failed", error=f"{type(exc).__name__}: {exc}")
        await asyncio.sleep(interval)


SNAPSHOT_CHECK_INTERVAL_S = 600.0


async def snapshot_loop(take: Callable[[], Taken], interval: float) -> None:
    """The day's evidence snapshot (`kinko.inspection.snapshots`): at start, then every
    `interval`; the first call of each UTC day takes it, the others find it taken. Under
    the jobs' lease, so one process of several takes it (and the day's row is unique)."""
    while True:
        try:
            taken = await asyncio.to_thread(take)
            if taken.new:
                log.info(
                    "inspection.snapshot",
                    day=taken.record.day.isoformat(),
                    digest=taken.record.digest,
                )
        except Exception as exc:  # e.g. the database is briefly unreachable
            log.error("inspection.snapshot_failed", error=f"{type(exc).__name__}: {exc}")
        await asyncio.sleep(interval)


OUTBOX_INTERVAL_S = 5.0


def sweep_outbox(ctx: Context) -> int:
    """Forget the delivered events of this process and relay what a dead one left
    (`kinko.store.outbox`); how many events were relayed."""
    return ctx.db.outbox.sweep(ctx.db.transaction, ctx.bus)


async def outbox_loop(ctx: Context, interval: float = OUTBOX_INTERVAL_S) -> None:
    """Every process, every `interval` (not under the jobs' lease: each process forgets
    its own delivered events; relaying rows is shared out by row locks)."""
    try:
        while True:
            try:
                await asyncio.to_thread(sweep_outbox, ctx)
            except Exception as exc:  # e.g. the database is briefly unreachable
                log.error("outbox.sweep_failed", error=f"{type(exc).__name__}: {exc}")
            await asyncio.sleep(interval)
    finally:  # shutting down: what was delivered need not be relayed by another
        with contextlib.suppress(Exception):
            await asyncio.to_thread(sweep_outbox, ctx)


JOBS_LEASE = "periodic-jobs"
LEASE_CHECK_S = 5.0
Jobs = Callable[[], list["asyncio.Task[None]"]]


def job_starter(
    ctx: Context,
    *,
    executor: Callable[[], Executor] | None = None,
    check_freshness: Callable[[], Sequence[str]] | None = None,
    take_snapshot: Callable[[], Taken] | None = None,
) -> Jobs:
    """What starts this process's periodic jobs. The chain watcher is built here, at
    start-up, so that a bad node URL stops ``kinko serve`` before it serves. `executor`:
    the withdrawal executor whose left-behind work is resumed (`execution_loop`);
    `check_freshness`: the screening lists' freshness check (`screening_freshness_loop`);
    `take_snapshot`: the day's evidence snapshot (`snapshot_loop`)."""
    from kinko.monitor.watcher import watch_loop, watcher_from_settings

    watcher = watcher_from_settings(ctx)  # only chains with a node configured

    def start() -> list[asyncio.Task[None]]:
        tasks = [asyncio.create_task(checkpoint_loop(ctx), name="audit-checkpoints")]
        if check_freshness is not None:
            tasks.append(
                asyncio.create_task(
                    screening_freshness_loop(check_freshness, SCREENING_CHECK_INTERVAL_S),
                    name="screening-freshness",
                )
            )
        if watcher is not None:
            tasks.append(asyncio.create_task(watch_loop(watcher), name="chain-watcher"))
        if executor is not None:
            tasks.append(
                asyncio.create_task(
                    execution_loop(executor, EXECUTION_INTERVAL_S), name="withdrawal-execution"
                )
            )
        if take_snapshot is not None:
            tasks.append(
                asyncio.create_task(
                    snapshot_loop(take_snapshot, SNAPSHOT_CHECK_INTERVAL_S),
                    name="inspection-snapshot",
                )
            )
        return tasks

    return start


async def jobs_under_lease(ctx: Context, start: Jobs, *, check_s: float = LEASE_CHECK_S) -> None:
    """Run the jobs `start` starts while this process holds the jobs' lease (a PostgreSQL
    advisory lock, `kinko.store.leases`): of N ``kinko serve`` processes on one database,
    one signs checkpoints, checks the lists and watches the chains; when it stops or dies
    another takes over within `check_s`. On SQLite (one process) the lease is always held."""
    lease = Lease(ctx.db.engine, JOBS_LEASE)
    tasks: list[asyncio.Task[None]] = []
    try:
        while True:
            held = await asyncio.to_thread(lease.try_hold)
            if held and not tasks:
                tasks = start()
                log.info("jobs.started", lease=JOBS_LEASE)
            elif not held and tasks:
                log.warning("jobs.stopped", reason="lease lost")
                await _cancel(tasks)
                tasks = []
            await asyncio.sleep(check_s)
    finally:
        await _cancel(tasks)
        await asyncio.to_thread(lease.release)


async def _cancel(tasks: list[asyncio.Task[None]]) -> None:
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


def start_background(
    ctx: Context,
    *,
    executor: Callable[[], Executor] | None = None,
    check_freshness: Callable[[], Sequence[str]] | None = None,
    take_snapshot: Callable[[], Taken] | None = None,
) -> list[asyncio.Task[None]]:
    start = job_starter(
        ctx, executor=executor, check_freshness=check_freshness, take_snapshot=take_snapshot
    )
    return [
        asyncio.create_task(jobs_under_lease(ctx, start), name="periodic-jobs"),
        asyncio.create_task(outbox_loop(ctx), name="event-outbox"),
    ]
