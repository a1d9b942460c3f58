"""The console's browser tests: the withdrawal tests' small exchange, served by uvicorn
on a loopback port (WebAuthn's origin is that address), Debian's Chromium, and where the
screenshots go (``KINKO_SCREENSHOTS=DIR`` keeps them after the run)."""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import uvicorn

from kinko.server import create_app
from kinko.web import demo_login
from tests.e2e.web.browsing import CHROMIUM, FLAGS
from tests.integration.withdrawals.conftest import exchange, w3
from tests.integration.withdrawals.exchange import Exchange

__all__ = ["exchange", "w3"]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def served(exchange: Exchange) -> Iterator[str]:
    port = _free_port()
    url = f"http://localhost:{port}"
    ctx = exchange.ctx
    ctx.settings = ctx.settings.model_copy(update={"webauthn_origin": url})
    app = create_app(ctx, services=exchange.services)
    demo_login.install(app)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    try:
        yield url
    finally:
        server.should_exit = True
        thread.join(timeout=30)


@pytest.fixture
def shots(tmp_path: Path) -> Path:
    """Where the screenshots go (``KINKO_SCREENSHOTS`` keeps them after the run)."""
    folder = Path(os.environ.get("KINKO_SCREENSHOTS") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        try:
            yield launched
        finally:
            launched.close()
