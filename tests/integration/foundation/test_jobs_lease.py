"""Periodic jobs (`kinko.api.background.jobs_under_lease`) run in one ``kinko serve``
process at a time, under a PostgreSQL advisory lock: two contexts on one database stand
for two processes; when the one running them stops, the other takes over."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest

from kinko.api.background import Jobs, jobs_under_lease
from kinko.context import Context, build_context

pytestmark = pytest.mark.parametrize("backend", ["postgresql"])


@pytest.fixture
def other(ctx: Context) -> Iterator[Context]:
    second = build_context(ctx.settings, clock=ctx.clock)
    yield second
    second.db.dispose()


def test_periodic_jobs_run_in_one_process_at_a_time(ctx: Context, other: Context) -> None:
    running: list[str] = []

    def starter(name: str) -> Jobs:
        def start() -> list[asyncio.Task[None]]:
            running.append(name)
            return [asyncio.create_task(asyncio.sleep(3600))]

        return start

    async def two_processes() -> list[str]:
        a = asyncio.create_task(jobs_under_lease(ctx, starter("a"), check_s=0.05))
        await asyncio.sleep(0.3)
        b = asyncio.create_task(jobs_under_lease(other, starter("b"), check_s=0.05))
        await asyncio.sleep(0.3)
        seen = list(running)
        a.cancel()  # the first process stops: its lease is released
        await asyncio.gather(a, return_exceptions=True)
        await asyncio.sleep(0.3)
        b.cancel()
        await asyncio.gather(b, return_exceptions=True)
        return [*seen, "|", *running[len(seen) :]]

    assert asyncio.run(two_processes()) == ["a", "|", "b"]


def test_the_lists_freshness_check_is_the_one_the_composition_root_hands_in(
    ctx: Context,
) -> None:
    """The periodic freshness check calls the screening service it is given (the root's),
    rather than building one of its own on the context."""
    import asyncio

    from kinko.api.background import job_starter

    calls: list[str] = []

    def check() -> tuple[str, ...]:
        calls.append("checked")
        return ()

    async def run() -> list[str]:
        tasks = job_starter(ctx, check_freshness=check)()
        await asyncio.sleep(0.3)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        return [task.get_name() for task in tasks]

    names = asyncio.run(run())
    assert "screening-freshness" in names
    assert calls == ["checked"]
