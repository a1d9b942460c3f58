"""Periodic jobs run by ``kinko serve``: a signed audit checkpoint every interval, a
screening-list freshness check, and the chain watcher when a node is configured."""

from __future__ import annotations

import asyncio
import threading

import structlog

from kinko.context import Context
from kinko.core.errors import KinkoError

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


async def screening_freshness_loop(ctx: Context, interval: float) -> None:
    """Every few minutes, raise `screening.stale` if a required list is missing or old."""
    from kinko.screening.service import ScreeningService

    while True:
        try:
            reasons = await asyncio.to_thread(ScreeningService(ctx).check_freshness)
            if reasons:
                log.warning("screening.stale", reasons=list(reasons))
        except Exception as exc:
            log.error("screening.freshness_check_failed", error=f"{type(exc).__name__}: {exc}")
        await asyncio.sleep(interval)


def start_background(ctx: Context) -> list[asyncio.Task[None]]:
    tasks = [
        asyncio.create_task(checkpoint_loop(ctx), name="audit-checkpoints"),
        asyncio.create_task(
            screening_freshness_loop(ctx, SCREENING_CHECK_INTERVAL_S), name="screening-freshness"
        ),
    ]
    from kinko.monitor.watcher import watch_loop, watcher_from_settings

    watcher = watcher_from_settings(ctx)  # only chains with a node configured
    if watcher is not None:
        tasks.append(asyncio.create_task(watch_loop(watcher), name="chain-watcher"))
    return tasks


class BackgroundThread:
    """The periodic jobs on an event loop of their own thread: the supervisor of ``kinko
    serve --workers N`` runs them once for all workers, while its main thread watches
    the worker processes."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self._ready = threading.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="kinko-background", daemon=True)

    def start(self) -> BackgroundThread:
        """Start the jobs; raise what stopped them from starting (e.g. a bad node URL)."""
        self._thread.start()
        self._ready.wait()
        if self._error is not None:
            raise self._error
        return self

    def _run(self) -> None:
        try:
            asyncio.run(self._main())
        except BaseException as exc:
            self._error = exc
        finally:
            self._ready.set()

    async def _main(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        tasks = start_background(self.ctx)
        self._ready.set()
        await self._stop.wait()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    def stop(self) -> None:
        if self._loop is not None and self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(10)
