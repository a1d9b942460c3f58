"""The monitor hub: one `MonitorService` serving every HTTP worker of ``kinko serve``
(and the withdrawal writer, `kinko.withdrawals.writer`, registered as an extra op).

With several worker processes, each would otherwise run a monitor of its own that sees
only the events of the requests it happened to serve: a correlation ("5 failed logins in
10 minutes", "a withdrawal to a new address after a password reset") would miss whatever
the kernel sent to another worker. So the supervisor runs the one monitor and listens on
a Unix socket; workers forward every security event (`kinko.monitor.remote`) and wait
for the answer, so when a worker replies to its client the monitor has already seen the
event and applied any response, exactly as in a single process.

The socket lives in a directory only this user can enter (mode 0700, made by the
supervisor), and the hub also refuses a peer of another user (``SO_PEERCRED``). One
thread per connection; the service serialises its engine itself.
"""

from __future__ import annotations

import os
import socket
import socketserver
import struct
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import structlog

from kinko.core.errors import KinkoError
from kinko.monitor import wire
from kinko.monitor.engine import INGESTED, OWN
from kinko.monitor.events import parse_batch
from kinko.monitor.service import MonitorService

log = structlog.get_logger("kinko.monitor.hub")

_PEERCRED = struct.Struct("3i")  # struct ucred: pid, uid, gid


def peer_uid(sock: socket.socket) -> int | None:
    """The user id of the process at the other end of a Unix socket (Linux), else None."""
    option = getattr(socket, "SO_PEERCRED", None)
    if option is None:
        return None
    _, uid, _ = _PEERCRED.unpack(sock.getsockopt(socket.SOL_SOCKET, option, _PEERCRED.size))
    return int(uid)


class _Server(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True
    # Every request thread of every worker keeps a connection; they open at once under
    # load (socketserver's default backlog of 5 refused them with EAGAIN).
    request_queue_size = 1024
    hub: MonitorHub


class _Connection(socketserver.BaseRequestHandler):
    server: _Server

    def handle(self) -> None:
        sock: socket.socket = self.request
        uid = peer_uid(sock)
        if uid is not None and uid != os.getuid():
            log.error("monitor hub refused a peer of another user", uid=uid)
            return
        with self.server.hub.connection(sock):
            self._serve(sock)

    def _serve(self, sock: socket.socket) -> None:
        while True:
            try:
                message = wire.read_frame(sock)
            except (wire.ClosedError, OSError):
                return
            except KinkoError as exc:  # not a frame: answer once, then hang up
                sock.sendall(wire.encode(_refusal(exc)))
                return
            sock.sendall(wire.encode(self.server.hub.answer(message)))


def _refusal(exc: KinkoError) -> dict[str, Any]:
    """The error as the caller's API would have answered it (code, fields, status)."""
    return {"ok": False, **exc.to_dict(), "status": exc.http_status, "exit_code": exc.exit_code}


Handler = Callable[[dict[str, Any]], dict[str, Any]]


class MonitorHub:
    """Serve `service` on the Unix socket `path` until `close()`."""

    def __init__(self, service: MonitorService, path: Path) -> None:
        self.service = service
        self.path = path
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._guard = threading.Lock()
        self._connections: set[socket.socket] = set()
        self._ops: dict[str, Handler] = {}

    def register(self, op: str, handler: Handler) -> None:
        """Serve `op` too: `handler(message)` returns the reply's fields (``ok`` is
        added); a `KinkoError` it raises goes back as the error it is."""
        self._ops[op] = handler

    @contextmanager
    def connection(self, sock: socket.socket) -> Iterator[None]:
        with self._guard:
            self._connections.add(sock)
        try:
            yield
        finally:
            with self._guard:
                self._connections.discard(sock)

    def start(self) -> None:
        old = os.umask(0o177)  # the socket file is created 0600, never briefly wider
        try:
            server = _Server(str(self.path), _Connection)
        finally:
            os.umask(old)
        server.hub = self
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.2}, name="monitor-hub"
        )
        self._thread.daemon = True
        self._thread.start()
        log.info("monitor.hub_listening", path=str(self.path))

    def close(self) -> None:
        if self._server is None:
            return
        self._server.shutdown()
        self._server.server_close()
        self._server = None
        with self._guard:  # hang up on every worker, as a dead supervisor would
            for sock in self._connections:
                sock.shutdown(socket.SHUT_RDWR)
        self.path.unlink(missing_ok=True)

    def __enter__(self) -> MonitorHub:
        self.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def answer(self, message: dict[str, Any]) -> dict[str, Any]:
        """One request in, one reply out; an error is a reply, never a dropped connection."""
        op = message.get("op")
        try:
            if op == "ingest":
                raw = message.get("events")
                if not isinstance(raw, list):
                    return {"ok": False, "error": "invalid_input", "message": "events: a list"}
                origin = OWN if message.get("origin") == OWN else INGESTED
                recorded = self.service.ingest(parse_batch(raw), origin=origin)
                return {"ok": True, "recorded": wire.recorded_to_json(recorded)}
            if op == "rules":
                return {"ok": True, "rules": wire.rules_to_json(self.service.describe_rules())}
            if op == "ping":
                return {"ok": True, "pid": os.getpid()}
            handler = self._ops.get(str(op))
            if handler is not None:
                return {"ok": True, **handler(message)}
        except KinkoError as exc:
            return _refusal(exc)
        except Exception as exc:  # e.g. the database is unreachable: the worker must know
            log.exception("monitor.hub_failed", op=op)
            return {"ok": False, "error": "unavailable", "message": f"{type(exc).__name__}: {exc}"}
        return {"ok": False, "error": "invalid_input", "message": f"op: unknown {op!r}"}
