"""`kinko serve --workers 2` as an operator runs it, on SQLite and on PostgreSQL.

Real processes: the supervisor, two spawned uvicorn workers on one port. The test shows
that both workers serve and that their security events meet one monitor (ten failed
logins for ten accounts from one address, five through each worker, raise one
credential-stuffing alert), that a killed worker is replaced and so is a hung one, that
a worker stops when its supervisor is killed, and that SIGTERM stops everything cleanly.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from http.client import HTTPConnection
from pathlib import Path

import pytest
from sqlalchemy import create_engine, select

from kinko.serving.supervisor import SPEC_ENV
from kinko.store.tables.monitor import AlertRow
from tests.support.procs import children, server_side_owner

KINKO = str(Path(sys.executable).parent / "kinko")
HUNG_AFTER_S = 3.0
WORKER = "spawn_main"  # how a spawned worker's command line reads


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for(what: str, check: object, timeout: float = 90.0) -> object:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()  # type: ignore[operator]
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def healthy(port: int) -> bool:
    try:
        conn = HTTPConnection("127.0.0.1", port, timeout=5)
        conn.request("GET", "/healthz")
        ok = conn.getresponse().status == 200
        conn.close()
        return ok
    except OSError:
        return False


def two_workers(supervisor: int) -> list[int] | None:
    found = children(supervisor, cmdline_has=WORKER)
    return found if len(found) == 2 else None


def started_workers(supervisor: int) -> list[int]:
    workers = wait_for("two workers", lambda: two_workers(supervisor))
    assert isinstance(workers, list)
    return workers


def replacement_of(gone: int, supervisor: int, timeout: float = 90.0) -> list[int]:
    """The two workers once `gone` has been replaced."""
    replaced = wait_for(
        f"worker {gone} to be replaced",
        lambda: (found := two_workers(supervisor)) and gone not in found and found,
        timeout=timeout,
    )
    assert isinstance(replaced, list)
    return replaced


def a_connection_to_each(port: int, workers: list[int]) -> dict[int, HTTPConnection]:
    """Open keep-alive connections until each worker holds one (the kernel decides)."""
    held: dict[int, HTTPConnection] = {}
    spare: list[HTTPConnection] = []
    for _ in range(200):
        conn = HTTPConnection("127.0.0.1", port, timeout=30)
        conn.request("GET", "/healthz")
        conn.getresponse().read()
        owner = server_side_owner(port, conn.sock.getsockname()[1], workers)
        if owner is not None and owner not in held:
            held[owner] = conn
        else:
            spare.append(conn)
        if len(held) == len(workers):
            break
    for conn in spare:
        conn.close()
    assert len(held) == len(workers), f"connections reached only {sorted(held)} of {workers}"
    return held


def running(pid: int) -> bool:
    """Alive and not a zombie (an orphan's exit may wait for a reaper in a container)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def failed_login(conn: HTTPConnection, username: str) -> int:
    body = json.dumps({"username": username, "code": "000000"})
    conn.request("POST", "/v1/auth/login/totp", body, {"Content-Type": "application/json"})
    response = conn.getresponse()
    response.read()
    return response.status


@pytest.fixture
def served(
    tmp_path: Path, empty_database_url: str
) -> Iterator[tuple[subprocess.Popen[bytes], int]]:
    env = {
        **os.environ,
        "KINKO_DATA_DIR": str(tmp_path / "data"),
        "KINKO_DATABASE_URL": empty_database_url,
        "KINKO_LOG_JSON": "false",
        "KINKO_WORKER_TIMEOUT_S": str(HUNG_AFTER_S),
    }
    init = subprocess.run([KINKO, "init", "--admin", "alice"], env=env, capture_output=True)
    assert init.returncode == 0, init.stderr.decode()
    port = free_port()
    log = (tmp_path / "serve.log").open("wb")
    supervisor = subprocess.Popen(
        [KINKO, "serve", "--workers", "2", "--port", str(port)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        wait_for("the server to answer", lambda: healthy(port))
        yield supervisor, port
    finally:
        if supervisor.poll() is None:
            for pid in children(supervisor.pid, cmdline_has=WORKER):
                os.kill(pid, signal.SIGKILL)
            supervisor.kill()
        supervisor.wait(30)
        log.close()


def test_two_workers_one_monitor(
    served: tuple[subprocess.Popen[bytes], int], empty_database_url: str
) -> None:
    supervisor, port = served
    workers = started_workers(supervisor.pid)
    conns = a_connection_to_each(port, workers)
    for i in range(10):
        assert failed_login(conns[workers[i % 2]], f"stuffed{i}") == 401
    for conn in conns.values():
        conn.close()

    engine = create_engine(empty_database_url)
    with engine.connect() as db:
        rules = list(db.execute(select(AlertRow.rule_id)).scalars())
    engine.dispose()
    assert rules.count("kinko-credential-stuffing") == 1, rules

    # A worker that dies is replaced, and the server keeps answering.
    os.kill(workers[0], signal.SIGKILL)
    assert workers[1] in replacement_of(workers[0], supervisor.pid)
    wait_for("the server to answer", lambda: healthy(port))

    # SIGTERM: the supervisor stops its workers and exits cleanly.
    supervisor.send_signal(signal.SIGTERM)
    assert supervisor.wait(60) == 0
    assert children(supervisor.pid, cmdline_has=WORKER) == []
    assert not healthy(port)


def test_workers_stop_when_their_supervisor_is_killed(
    served: tuple[subprocess.Popen[bytes], int],
) -> None:
    supervisor, _ = served
    workers = started_workers(supervisor.pid)
    private = Path(worker_environment(workers[0])[SPEC_ENV]).parent
    assert stat.S_IMODE(private.stat().st_mode) == 0o700
    supervisor.kill()
    supervisor.wait(30)

    def all_gone() -> bool:
        return all(not running(pid) for pid in workers)

    try:
        wait_for("the orphaned workers to stop", all_gone, timeout=30)
    finally:
        # What a killed supervisor leaves behind (docs/serving.md): its private directory.
        shutil.rmtree(private, ignore_errors=True)


def worker_environment(pid: int) -> dict[str, str]:
    raw = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
    pairs = (item.decode().partition("=") for item in raw if b"=" in item)
    return {key: value for key, _, value in pairs}


def test_a_hung_worker_is_killed_and_replaced(
    served: tuple[subprocess.Popen[bytes], int],
) -> None:
    """SIGSTOP: alive, holding its share of new connections, answering nothing."""
    supervisor, port = served
    workers = started_workers(supervisor.pid)
    time.sleep(2 * HUNG_AFTER_S)  # past start-up: both have answered pings by now
    os.kill(workers[0], signal.SIGSTOP)
    assert workers[1] in replacement_of(workers[0], supervisor.pid, timeout=10 * HUNG_AFTER_S)
    assert not running(workers[0])
    wait_for("the server to answer", lambda: healthy(port))
