"""End-to-end `POST /v1/withdrawals` to decision over real HTTP (uvicorn on 127.0.0.1).

SQLite (the embedded default, in a temp dir) and PostgreSQL (a throwaway durable server),
50 concurrent clients, each request a small hot-wallet ETH withdrawal that the sample
policy auto-approves: API token check, idempotency, validation, screening, policy with
velocity reservation, building and decoding the unsigned transaction, audit entries.
Targets (issue 6): >= 300/s and p99 <= 100 ms on SQLite.

The server runs in its own process (so the 50 client threads do not share its interpreter
lock); the table also gives the server's CPU time per request (from /proc, all its
threads), a one-client phase (service time without queueing) and the load average, so a
busy machine does not hide a change. ``KINKO_BENCH_BACKENDS=sqlite`` runs one backend.

    python -m bench withdrawals            # 600 requests per backend
    KINKO_BENCH_FULL=1 python -m bench withdrawals   # 3000 per backend
"""

from __future__ import annotations

import os
import socket
import statistics
import tempfile
import threading
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
from rich.console import Console
from rich.table import Table

CLIENTS = 50
SERIAL = 100


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _setup(data_dir: Path, url: str) -> tuple[Any, Any, str]:
    import kinko.store.tables  # noqa: F401
    from kinko.audit.note import generate_signer
    from kinko.cli.base import write_secret_file
    from kinko.config import Settings
    from kinko.context import build_context
    from kinko.identity.model import UserId
    from kinko.identity.service import IdentityService
    from kinko.store.base import Base
    from kinko.withdrawals.sample import build_demo_exchange
    from kinko.withdrawals.stack import build_stack

    settings = Settings(data_dir=data_dir, database_url=url, log_json=False, log_level="error")
    ctx = build_context(settings)
    Base.metadata.create_all(ctx.db.engine)
    write_secret_file(
        settings.resolved_audit_key_path, generate_signer(settings.audit_origin)[0].encode()
    )
    write_secret_file(settings.resolved_secret_key_path, os.urandom(32))
    exchange = build_demo_exchange(ctx)
    with ctx.db.transaction() as session:
        _, token = IdentityService(ctx).tokens.create(
            session,
            owner_id=UserId(exchange.users["alice"]),
            name="bench",
            permissions=["withdrawals:create"],
            ttl=timedelta(days=1),
            actor="system:bench",
        )
    # No node in the hot path: eth-tester's py-evm nonce lookup (~10 ms) is a test artefact;
    # the nonce then comes from Kinko's own record of the wallet's built transactions.
    stack = build_stack(ctx, network="devnet", web3=None, screener=exchange.screener)
    return ctx, stack, token


def _serve(ctx: Any, stack: Any, port: int) -> tuple[Any, threading.Thread]:
    import uvicorn

    from kinko.api.app import create_app

    app = create_app(ctx)
    app.state.withdrawal_stack = stack
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="error", access_log=False)
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    return server, thread


def _server_process(url: str, data_dir: str, port: int, conn: Any) -> None:
    """The server side, in its own process so the load generator's threads do not share
    its interpreter lock: set up the demo exchange, serve, report the token, wait."""
    import structlog

    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(40))
    ctx, stack, token = _setup(Path(data_dir), url)
    server, thread = _serve(ctx, stack, port)
    conn.send(token)
    conn.recv()  # the parent says stop
    server.should_exit = True
    thread.join(10)
    ctx.db.dispose()
    conn.send("stopped")


def _cpu_seconds(pid: int) -> float:
    """User + system CPU time of process `pid` (all its threads), from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _load(
    port: int, token: str, total: int, tag: str, clients: int = CLIENTS
) -> tuple[float, list[float], int]:
    from kinko.withdrawals.sample import CUSTOMER

    latencies: list[float] = []
    errors = 0
    lock = threading.Lock()
    counter = iter(range(total))

    def client() -> None:
        nonlocal errors
        headers = {"Authorization": f"Bearer {token}"}
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as http:
            while True:
                with lock:
                    i = next(counter, None)
                if i is None:
                    return
                body = {
                    "asset": "ETH",
                    "amount": "0.001",
                    "destination": CUSTOMER,
                    "customer_ref": f"c{i % 500}",
                }
                start = time.perf_counter()
                response = http.post(
                    "/v1/withdrawals",
                    json=body,
                    headers={**headers, "Idempotency-Key": f"{tag}-{i}"},
                )
                elapsed = time.perf_counter() - start
                with lock:
                    latencies.append(elapsed)
                    if response.status_code != 201 or response.json()["state"] != "approved":
                        errors += 1

    threads = [threading.Thread(target=client) for _ in range(clients)]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return time.perf_counter() - start, latencies, errors


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * q))] * 1000


def _run(backend: str, total: int) -> dict[str, Any]:
    import multiprocessing

    from tests.support.servers import PostgresServer

    pg: PostgresServer | None = None
    with tempfile.TemporaryDirectory(prefix="kinko-bench-") as tmp:
        data_dir = Path(tmp)
        url = f"sqlite:///{data_dir / 'kinko.db'}"
        if backend == "postgresql":
            pg = PostgresServer(durable=True).start()
            url = pg.url
        try:
            here, there = multiprocessing.get_context("spawn").Pipe()
            process = multiprocessing.get_context("spawn").Process(
                target=_server_process, args=(url, tmp, port := _free_port(), there)
            )
            process.start()
            try:
                token = here.recv()
                assert process.pid is not None
                _load(port, token, 50, f"warm-{backend}")
                # One client: the service time of a request without queueing.
                cpu0 = _cpu_seconds(process.pid)
                serial_wall, serial, serial_errors = _load(port, token, SERIAL, f"one-{backend}", 1)
                serial_cpu = _cpu_seconds(process.pid) - cpu0
                load_before = os.getloadavg()[0]
                cpu0 = _cpu_seconds(process.pid)
                wall, latencies, errors = _load(port, token, total, backend)
                cpu = _cpu_seconds(process.pid) - cpu0
                load_after = os.getloadavg()[0]
                here.send("stop")
                here.recv()
            finally:
                process.join(15)
                if process.is_alive():
                    process.kill()
        finally:
            if pg is not None:
                pg.stop()
    return {
        "backend": backend,
        "requests": total,
        "errors": errors + serial_errors,
        "throughput": total / wall,
        "p50": statistics.median(latencies) * 1000,
        "p99": _pct(latencies, 0.99),
        "cpu_ms": cpu / total * 1000,
        "serial_p50": statistics.median(serial) * 1000,
        "serial_p99": _pct(serial, 0.99),
        "serial_cpu_ms": serial_cpu / SERIAL * 1000,
        "serial_rate": SERIAL / serial_wall,
        "load": f"{load_before:.1f}→{load_after:.1f}",
    }


def main() -> None:
    total = 3000 if os.environ.get("KINKO_BENCH_FULL") else 600
    backends = os.environ.get("KINKO_BENCH_BACKENDS", "sqlite,postgresql").split(",")
    console = Console(width=200)
    table = Table(title=f"POST /v1/withdrawals to decision, {CLIENTS} concurrent HTTP clients")
    columns = ("backend", "requests", "errors", "req/s", "p50 ms", "p99 ms", "server CPU ms/req")
    for column in (*columns, "1 client: p50 / p99 ms, CPU ms/req", "load avg", "target"):
        table.add_column(column)
    for backend in backends:
        r = _run(backend, total)
        target = "≥300/s, p99 ≤100 ms" if backend == "sqlite" else "-"
        table.add_row(
            r["backend"],
            str(r["requests"]),
            str(r["errors"]),
            f"{r['throughput']:.0f}",
            f"{r['p50']:.1f}",
            f"{r['p99']:.1f}",
            f"{r['cpu_ms']:.2f}",
            f"{r['serial_p50']:.1f} / {r['serial_p99']:.1f}, {r['serial_cpu_ms']:.2f}",
            r["load"],
            target,
        )
    console.print(table)
