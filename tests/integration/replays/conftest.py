from __future__ import annotations

import pytest

from kinko.cli.replay import bench_for
from kinko.context import Context
from kinko.replays.bench import Bench


@pytest.fixture
def bench(ctx: Context) -> Bench:
    """A fresh exchange (the demo's people and wallets, a new in-process chain) on `ctx`."""
    return bench_for(ctx)
