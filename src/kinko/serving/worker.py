"""One HTTP worker of ``kinko serve --workers N`` (see `kinko.serving.supervisor`).

uvicorn calls `app()` in each spawned worker process. The worker opens its own database
connections, forwards its security events to the supervisor's monitor and runs no
periodic job. It stops itself (SIGTERM: in-flight requests finish) when the monitor
stops answering or the supervisor is gone: a worker never serves unmonitored.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
import time
from collections.abc import Callable

import structlog
from fastapi import FastAPI

from kinko.context import Context
from kinko.core.errors import KinkoError
from kinko.withdrawals.stack import WithdrawalStack

log = structlog.get_logger("kinko.serve")

SUPERVISOR_CHECK_S = 1.0
StackBuilder = Callable[[Context], WithdrawalStack]


class _Stopper:
    """Ask this worker's server to shut down, once."""

    def __init__(self) -> None:
        self._done = threading.Event()

    def __call__(self, reason: str) -> None:
        if self._done.is_set():
            return
        self._done.set()
        log.critical("serve.worker_stopping", reason=reason, pid=os.getpid())
        os.kill(os.getpid(), signal.SIGTERM)


def _watch_supervisor(supervisor_pid: int, stop: _Stopper) -> None:
    def watch() -> None:
        while os.getppid() == supervisor_pid:
            time.sleep(SUPERVISOR_CHECK_S)
        stop(f"the supervisor (pid {supervisor_pid}) is gone")

    threading.Thread(target=watch, name="supervisor-watch", daemon=True).start()


def build_worker_app(stack: StackBuilder | None = None) -> FastAPI:
    """The worker's app; `stack` builds its withdrawal services (default: from settings,
    on first use)."""
    from uvicorn.config import STARTUP_FAILURE

    from kinko.context import build_context
    from kinko.logging import configure_logging
    from kinko.monitor.remote import RemoteMonitor
    from kinko.server import create_app
    from kinko.serving.heartbeat import ticking
    from kinko.serving.supervisor import WorkerSpec
    from kinko.withdrawals.writer import RemoteWriter

    try:
        spec = WorkerSpec.from_environment()
        configure_logging(spec.settings.log_level, json=spec.settings.log_json)
        ctx = build_context(spec.settings)
        monitor = RemoteMonitor(spec.hub)
        monitor.ping()  # no hub, no start
        monitor.close()
        stop = _Stopper()
        monitor.on_lost = stop
        monitor.attach(ctx.bus)
        _watch_supervisor(spec.supervisor_pid, stop)
        application = create_app(ctx, monitor=monitor)
        # The supervisor's pings are answered with the age of this loop's last tick.
        application.router.lifespan_context = ticking(application.router.lifespan_context)
        # Checked withdrawal requests go to the supervisor's one writer.
        writer = RemoteWriter(monitor.exchange)
        application.state.withdrawal_writer = writer
        if stack is not None:
            built = stack(ctx)
            built.withdrawals.remote_writer = writer
            application.state.withdrawal_stack = built
    except KinkoError as exc:
        log.error("serve.worker_failed_to_start", error=exc.message, pid=os.getpid())
        sys.exit(STARTUP_FAILURE)
    except Exception:
        # It would fail the same way on every restart: stop the server instead.
        log.exception("serve.worker_failed_to_start", pid=os.getpid())
        sys.exit(STARTUP_FAILURE)
    log.info("serve.worker_ready", pid=os.getpid())
    return application


def app() -> FastAPI:
    """uvicorn's app factory for ``kinko serve --workers N``."""
    return build_worker_app()
