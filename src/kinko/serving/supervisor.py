"""``kinko serve --workers N``: N HTTP worker processes, one monitor, one set of jobs.

One Python process serves about 200 withdrawal requests a second here (the GIL); more
needs processes. The supervisor (this process):

1. runs the monitor and serves it to the workers (`kinko.monitor.hub`), so that every
   security event, whichever worker served it, meets the same correlation state;
   through the same socket it is the one writer of withdrawal requests: workers check a
   request and send it on (`kinko.withdrawals.writer`), and its group commit batches
   them all in one process;
2. runs the periodic jobs once (signed checkpoints, list freshness, the chain watcher);
3. starts N spawned uvicorn workers, each on a listening socket of its own in one
   ``SO_REUSEPORT`` group (the kernel spreads connections evenly); a worker that dies is
   replaced, one that cannot start stops the whole server (it would fail the same way
   again).

Each worker (`kinko.serving.worker`) reads its settings and the hub's address from a file in
a directory only this user can enter, not from the environment (the database URL may
carry a password), then opens its own connections. A worker whose monitor is gone stops
(fail closed: see `kinko.monitor.remote`), and so does one whose supervisor is gone.
"""

from __future__ import annotations

import importlib
import json
import multiprocessing
import os
import shutil
import signal
import socket
import tempfile
import threading
import time
from dataclasses import dataclass
from multiprocessing.connection import Connection
from multiprocessing.context import SpawnProcess
from pathlib import Path
from typing import Any

import structlog
import uvicorn
from uvicorn.config import STARTUP_FAILURE

from kinko.config import Settings
from kinko.context import Context
from kinko.core.errors import InputError, Unavailable
from kinko.serving.heartbeat import Heartbeat, answer_pings

log = structlog.get_logger("kinko.serve")

SPEC_ENV = "KINKO_SERVE_WORKER_SPEC"
DEFAULT_APP = "kinko.serving.worker:app"
MAX_WORKERS = 64
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)
STOP_GRACE_S = 30.0
_SPAWN = multiprocessing.get_context("spawn")  # a fresh interpreter: no forked locks


@dataclass(frozen=True, slots=True)
class WorkerSpec:
    """What a worker needs from its supervisor."""

    settings: Settings
    hub: Path
    supervisor_pid: int

    def write(self, path: Path) -> None:
        body = {
            "settings": self.settings.model_dump(mode="json"),
            "hub": str(self.hub),
            "supervisor_pid": self.supervisor_pid,
        }
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            json.dump(body, out)

    @classmethod
    def from_environment(cls) -> WorkerSpec:
        where = os.environ.get(SPEC_ENV)
        if not where:
            raise InputError(SPEC_ENV, "not set: a worker is started by 'kinko serve --workers N'")
        try:
            body = json.loads(Path(where).read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise InputError(SPEC_ENV, f"cannot read {where}: {exc}") from None
        return cls(
            settings=Settings(**body["settings"]),
            hub=Path(body["hub"]),
            supervisor_pid=int(body["supervisor_pid"]),
        )


def check_workers(workers: int) -> int:
    if not 1 <= workers <= MAX_WORKERS:
        raise InputError("--workers", f"must be 1 to {MAX_WORKERS}; about one per CPU core")
    return workers


def listening_socket(host: str, port: int) -> socket.socket:
    """A socket bound to (host, port) in a ``SO_REUSEPORT`` group: each worker gets one,
    and the kernel spreads new connections evenly over the group. (One socket shared by
    all workers lets whichever wakes first take the connections: with long-lived
    keep-alive connections one worker got 85 % of the load in the benchmark.)"""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise InputError("--port", f"cannot listen on {host}:{port}: {exc.strerror}") from None
    return sock


def check_port_free(host: str, port: int) -> None:
    """Refuse a port something already listens on. A ``SO_REUSEPORT`` bind would join
    another program's group (of this user) and silently share its traffic."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            raise InputError(
                "--port",
                f"cannot listen on {host}:{port} ({exc.strerror}): stop the server using it, "
                "or choose another --port",
            ) from None


def _worker_main(config: uvicorn.Config, sock: socket.socket, pings: Connection) -> None:
    answer_pings(pings)
    uvicorn.Server(config).run(sockets=[sock])


class WorkerPool:
    """N spawned uvicorn workers, each on its own socket; a dead or hung worker is
    replaced (`kinko.serving.heartbeat`), and one that fails to start stops the pool."""

    def __init__(self, config: uvicorn.Config, count: int, *, timeout: float) -> None:
        self.config = config
        self.count = count
        self.timeout = timeout
        self.processes: list[SpawnProcess] = []
        self.heartbeats: list[Heartbeat] = []
        self.stopping = threading.Event()
        self.failed = False

    def _start_one(self) -> tuple[SpawnProcess, Heartbeat]:
        sock = listening_socket(self.config.host, self.config.port)
        ours, theirs = _SPAWN.Pipe()
        try:
            process = _SPAWN.Process(target=_worker_main, args=(self.config, sock, theirs))
            process.start()
        finally:
            sock.close()  # the worker has its copy; ours would queue connections unheard
            theirs.close()
        return process, Heartbeat(ours, self.timeout)

    def run(self) -> None:
        previous = {sig: signal.signal(sig, self._on_signal) for sig in STOP_SIGNALS}
        try:
            for _ in range(self.count):
                process, heartbeat = self._start_one()
                self.processes.append(process)
                self.heartbeats.append(heartbeat)
            # A plain sleep, not `stopping.wait(0.5)`: a signal interrupts it just as well, and
            # it keeps working under libfaketime (which does not shift the absolute deadline
            # of Python's timed semaphore waits), so the suite can run a year ahead.
            while not self.stopping.is_set():
                time.sleep(0.5)
                if not self.stopping.is_set():
                    self._replace_dead()
        finally:
            self._stop_all()
            for sig, handler in previous.items():
                signal.signal(sig, handler)

    def _on_signal(self, signum: int, _frame: object) -> None:
        log.info("serve.stopping", signal=signal.Signals(signum).name)
        self.stopping.set()

    def _replace_dead(self) -> None:
        for index, process in enumerate(self.processes):
            if self.stopping.is_set():
                return
            if process.is_alive():
                if self.heartbeats[index].check():
                    continue
                log.error("serve.worker_unresponsive", pid=process.pid, timeout_s=self.timeout)
                process.kill()
            process.join()
            self.heartbeats[index].close()
            if process.exitcode == STARTUP_FAILURE:
                log.error("serve.worker_failed_to_start", pid=process.pid)
                self.failed = True
                self.stopping.set()
                return
            log.warning("serve.worker_died", pid=process.pid, exitcode=process.exitcode)
            self.processes[index], self.heartbeats[index] = self._start_one()

    def _stop_all(self) -> None:
        for process in self.processes:
            if process.is_alive() and process.pid is not None:
                os.kill(process.pid, signal.SIGTERM)
        deadline = time.monotonic() + STOP_GRACE_S
        for process in self.processes:
            process.join(max(0.0, deadline - time.monotonic()))
            if process.is_alive():
                process.kill()
                process.join()


def _import(target: str) -> Any:
    module, _, name = target.partition(":")
    return getattr(importlib.import_module(module), name)


def serve_workers(
    ctx: Context,
    *,
    host: str,
    port: int,
    workers: int,
    app: str = DEFAULT_APP,
    stack: str | None = None,
) -> None:
    """Serve until SIGINT/SIGTERM. `app`: the workers' app factory, and `stack`: what
    builds the writer's withdrawal services (default: from settings), as import strings.
    """
    from kinko.api.background import BackgroundThread
    from kinko.monitor.factory import start_monitor
    from kinko.monitor.hub import MonitorHub
    from kinko.withdrawals.stack import build_stack
    from kinko.withdrawals.writer import WRITE_OP, serve_orders

    check_workers(workers)
    check_port_free(host, port)
    private = Path(tempfile.mkdtemp(prefix="kinko-serve-"))  # mode 0700
    try:
        # The supervisor's own events (checkpoints, the chain watcher) reach the same
        # monitor as the workers'.
        monitor = start_monitor(ctx)
        # The one writer of withdrawal requests (kinko.withdrawals.writer): its events
        # reach this monitor in process.
        writer = (build_stack if stack is None else _import(stack))(ctx)
        with MonitorHub(monitor, private / "monitor.sock") as hub:
            hub.register(WRITE_OP, serve_orders(writer.withdrawals.write))
            spec = private / "worker.json"
            WorkerSpec(ctx.settings, hub.path, os.getpid()).write(spec)
            os.environ[SPEC_ENV] = str(spec)  # inherited by the spawned workers
            jobs = BackgroundThread(ctx).start()
            try:
                config = uvicorn.Config(
                    app,
                    factory=True,
                    host=host,
                    port=port,
                    log_config=None,
                    proxy_headers=False,  # kinko.api.limits reads X-Forwarded-For
                )
                pool = WorkerPool(config, workers, timeout=ctx.settings.worker_timeout_s)
                log.info("serve.workers", workers=workers, host=host, port=port)
                pool.run()
            finally:
                jobs.stop()
                os.environ.pop(SPEC_ENV, None)
        if pool.failed:
            raise Unavailable("a worker could not start (its error is logged above); stopped")
    finally:
        shutil.rmtree(private, ignore_errors=True)
