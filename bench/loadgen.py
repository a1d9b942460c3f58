"""A lean HTTP/1.1 load generator: asyncio (uvloop when installed) over raw streams.

Each client is one persistent keep-alive connection. Requests are encoded to bytes before
a phase starts; a response is parsed just enough to be checked (status line, headers up to
the blank line, a ``Content-Length`` body). A chunked response, or one without
``Content-Length``, is an error reported as such (this generator does not read them).
Its own work is about 15 µs of CPU per request (50 connections kept busy by a trivial
server: some 40 000 requests/s), against 0.7 ms for 50 threads with an ``httpx.Client``
each, so on a small machine it leaves the CPU to the server under test. Against a slow
server its process CPU per request (`PhaseResult.cpu`) is higher, 0.2–0.4 ms on the
2-core VM this was written on: it is woken once or twice per request, and a wake-up
there costs 60–200 µs of CPU even for an empty timer (httpx threads: about 2.9 ms per
request at 80/s on the same VM).

Two ways to drive the clients:

- `closed_loop`: each client sends its next request when the previous answer arrives.
  Latency runs from the actual send.
- `open_loop`: request ``i`` is due at ``start + i / rate``; a free client takes the next
  due request, waits for its time and sends it. Latency runs from the *scheduled* time,
  so time spent waiting for a free connection (queueing behind a slow server) counts:
  no coordinated omission. The timer behind the wait is the event loop's (about 1 ms
  resolution), so a latency can read up to about 1 ms high.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable, Coroutine, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

# A check gets (status, body) and returns None when the response is as expected, or a
# short description of what is wrong.
Check = Callable[[int, bytes], "str | None"]
Probe = Callable[[], float]

ERROR_SAMPLES = 5


class ProtocolError(Exception):
    """A response this generator does not read (chunked, no Content-Length, malformed)."""


def encode_post(
    host: str, port: int, path: str, body: bytes, headers: Sequence[tuple[str, str]]
) -> bytes:
    """One ``POST`` request, ready to write: request line, headers, JSON body."""
    lines = [
        f"POST {path} HTTP/1.1",
        f"Host: {host}:{port}",
        *(f"{name}: {value}" for name, value in headers),
        "Content-Type: application/json",
        f"Content-Length: {len(body)}",
        "",
        "",
    ]
    return "\r\n".join(lines).encode("latin-1") + body


def expect_json(status: int, field_name: str, value: str) -> Check:
    """A check: the response has `status` and a JSON object whose `field_name` is `value`."""

    def check(got: int, body: bytes) -> str | None:
        if got != status:
            return f"HTTP {got} (expected {status})"
        try:
            found = json.loads(body).get(field_name)
        except (ValueError, AttributeError):
            return "body is not a JSON object"
        if found != value:
            return f"{field_name}={found!r} (expected {value!r})"
        return None

    return check


def _parse_head(head: bytes) -> tuple[int, int, bool]:
    """(status, content length, server closes) from a response head ending in CRLF CRLF."""
    lines = head.split(b"\r\n")
    status_line = lines[0]
    if not status_line.startswith(b"HTTP/1.") or len(status_line) < 12:
        raise ProtocolError(f"bad status line {status_line[:80]!r}")
    status = int(status_line[9:12])
    length = -1
    close = status_line.startswith(b"HTTP/1.0")
    for line in lines[1:]:
        if not line:
            continue
        name, _, value = line.partition(b":")
        name = name.strip().lower()
        if name == b"content-length":
            length = int(value)
        elif name == b"transfer-encoding":
            raise ProtocolError(
                f"HTTP {status} with Transfer-Encoding: {value.strip().decode('latin-1')} "
                "(the load generator reads Content-Length bodies only)"
            )
        elif name == b"connection":
            close = value.strip().lower() == b"close"
    if length < 0:
        raise ProtocolError(f"HTTP {status} without Content-Length (not read by the generator)")
    return status, length, close


class Connection:
    """One keep-alive HTTP/1.1 connection, (re)opened on demand."""

    def __init__(self, host: str, port: int) -> None:
        self.host = host
        self.port = port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def open(self) -> None:
        self.reader, self.writer = await asyncio.open_connection(self.host, self.port)

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None

    async def exchange(self, request: bytes) -> tuple[int, bytes]:
        """Send one request and read its response: (status, body)."""
        if self.writer is None:
            await self.open()
        assert self.reader is not None and self.writer is not None
        self.writer.write(request)
        head = await self.reader.readuntil(b"\r\n\r\n")
        status, length, close = _parse_head(head)
        body = await self.reader.readexactly(length) if length else b""
        if close:
            self.close()
        return status, body


@dataclass
class PhaseResult:
    """What one phase measured. Times in seconds; latencies in completion order."""

    requests: int
    wall: float = 0.0
    latencies: list[float] = field(default_factory=list)
    send_lags: list[float] = field(default_factory=list)  # open loop: send - scheduled
    errors: int = 0
    error_samples: list[str] = field(default_factory=list)
    cpu: float = 0.0  # this process's CPU (time.process_time) during the phase
    server_cpu: float = 0.0  # the probe's difference over the phase, when given

    def error(self, what: str) -> None:
        self.errors += 1
        if len(self.error_samples) < ERROR_SAMPLES:
            self.error_samples.append(what)

    @property
    def rate(self) -> float:
        return self.requests / self.wall if self.wall else 0.0

    def percentile(self, q: float) -> float:
        """The `q` quantile of the latencies, in milliseconds (nearest rank)."""
        if not self.latencies:
            return float("nan")
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(len(ordered) * q))] * 1000

    def lag_percentile(self, q: float) -> float:
        if not self.send_lags:
            return float("nan")
        ordered = sorted(self.send_lags)
        return ordered[min(len(ordered) - 1, int(len(ordered) * q))] * 1000


async def _one(conn: Connection, request: bytes, check: Check, result: PhaseResult) -> None:
    try:
        status, body = await conn.exchange(request)
    except (OSError, EOFError, asyncio.IncompleteReadError, asyncio.LimitOverrunError) as exc:
        conn.close()
        result.error(f"{type(exc).__name__}: {exc}")
        return
    except (ProtocolError, ValueError) as exc:
        conn.close()
        result.error(f"protocol: {exc}")
        return
    problem = check(status, body)
    if problem is not None:
        result.error(f"{problem}: {body[:300].decode('utf-8', 'replace')}")


async def _phase(
    host: str,
    port: int | Sequence[int],
    requests: Sequence[bytes],
    *,
    clients: int,
    rate: float | None,
    check: Check,
    probe: Probe | None,
    timeout: float,
) -> PhaseResult:
    result = PhaseResult(requests=len(requests))
    # Several ports (several server processes): the connections go round-robin over them.
    ports = [port] if isinstance(port, int) else list(port)
    count = min(clients, len(requests))
    conns = [Connection(host, ports[i % len(ports)]) for i in range(count)]
    await asyncio.gather(*(c.open() for c in conns))
    counter: Iterator[int] = iter(range(len(requests)))
    clock = time.perf_counter
    latencies = result.latencies
    lags = result.send_lags

    async def closed(conn: Connection) -> None:
        for i in counter:  # shared: a free client takes the next request
            sent = clock()
            await _one(conn, requests[i], check, result)
            latencies.append(clock() - sent)

    async def opened(conn: Connection, start: float, interval: float) -> None:
        for i in counter:
            due = start + i * interval
            delay = due - clock()
            if delay > 0:
                await asyncio.sleep(delay)
            lags.append(clock() - due)
            await _one(conn, requests[i], check, result)
            latencies.append(clock() - due)

    server0 = probe() if probe is not None else 0.0
    cpu0 = time.process_time()
    start = clock()
    if rate is None:
        work = [closed(c) for c in conns]
    else:
        work = [opened(c, start, 1.0 / rate) for c in conns]
    try:
        await asyncio.wait_for(asyncio.gather(*work), timeout)
    except TimeoutError:
        missing = len(requests) - len(latencies)
        result.errors += missing
        result.error_samples.append(f"phase timed out after {timeout:.0f} s: {missing} missing")
    result.wall = clock() - start
    result.cpu = time.process_time() - cpu0
    if probe is not None:
        result.server_cpu = probe() - server0
    for c in conns:
        c.close()
    await asyncio.sleep(0)  # let the transports close
    return result


def _run(coro: Coroutine[Any, Any, PhaseResult]) -> PhaseResult:
    try:
        import uvloop
    except ImportError:  # pragma: no cover - uvloop is a server dependency
        return asyncio.run(coro)
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        return runner.run(coro)


def closed_loop(
    host: str,
    port: int | Sequence[int],
    requests: Sequence[bytes],
    *,
    clients: int,
    check: Check,
    probe: Probe | None = None,
    timeout: float = 600.0,
) -> PhaseResult:
    """`clients` connections; each sends its next request when its answer arrives."""
    return _run(
        _phase(
            host,
            port,
            requests,
            clients=clients,
            rate=None,
            check=check,
            probe=probe,
            timeout=timeout,
        )
    )


def open_loop(
    host: str,
    port: int | Sequence[int],
    requests: Sequence[bytes],
    *,
    clients: int,
    rate: float,
    check: Check,
    probe: Probe | None = None,
    timeout: float | None = None,
) -> PhaseResult:
    """Requests due at a fixed `rate`, sent over at most `clients` connections; latency
    from each request's scheduled time."""
    if timeout is None:
        timeout = 60.0 + 10 * len(requests) / rate
    return _run(
        _phase(
            host,
            port,
            requests,
            clients=clients,
            rate=rate,
            check=check,
            probe=probe,
            timeout=timeout,
        )
    )
