"""``kinko serve`` takes the day's evidence snapshot among its periodic jobs (the app's
background tasks, wired from the composition root), on both databases."""

from __future__ import annotations

import time

from fastapi.testclient import TestClient

from kinko.context import Context
from kinko.inspection.snapshots import SYSTEM_ACTOR, SnapshotService
from kinko.server import create_app


def test_the_served_app_takes_the_days_snapshot(ctx: Context) -> None:
    snapshots = SnapshotService(ctx)
    with TestClient(create_app(ctx, background=True)):
        deadline = time.monotonic() + 60
        while not snapshots.list():
            assert time.monotonic() < deadline, "no snapshot taken by the periodic jobs"
            time.sleep(0.05)
    [record] = snapshots.list()
    assert record.recorded_by == SYSTEM_ACTOR
    assert record.day == ctx.clock.now().date()
