"""`kinko serve` believes X-Forwarded-For only from `trusted_proxies` (issue #13, point 9).

Real servers (one process, and a supervisor with two workers), on SQLite and PostgreSQL.
A local client that rotates X-Forwarded-For used to become a new "address" with every
request (uvicorn trusted the header from 127.0.0.1), so the per-address sign-in throttle
never engaged and IP allowlists could be met by claiming an address. Now its failures all
count against 127.0.0.1 unless 127.0.0.1 is configured as a trusted proxy.
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from http.client import HTTPConnection
from pathlib import Path

import pytest
from sqlalchemy import create_engine, select

from kinko.store.tables.audit import AuditEntryRow
from tests.e2e.test_serve_workers import KINKO, WORKER, free_port, healthy, wait_for
from tests.support.procs import children


@contextmanager
def serving(tmp_path: Path, env: dict[str, str], workers: str) -> Iterator[int]:
    port = free_port()
    log = (tmp_path / f"serve-{port}.log").open("wb")
    server = subprocess.Popen(
        [KINKO, "serve", "--workers", workers, "--port", str(port)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        wait_for("the server to answer", lambda: healthy(port))
        yield port
    finally:
        for pid in children(server.pid, cmdline_has=WORKER):
            os.kill(pid, 9)
        server.kill()
        server.wait(30)
        log.close()


def failed_login(port: int, username: str, forwarded: str) -> int:
    conn = HTTPConnection("127.0.0.1", port, timeout=30)
    body = json.dumps({"username": username, "code": "000000"})
    headers = {"Content-Type": "application/json", "X-Forwarded-For": forwarded}
    conn.request("POST", "/v1/auth/login/totp", body, headers)
    response = conn.getresponse()
    response.read()
    conn.close()
    return response.status


def logged_sources(database_url: str) -> list[str]:
    engine = create_engine(database_url)
    with engine.connect() as db:
        entries = db.execute(
            select(AuditEntryRow.entry)
            .where(AuditEntryRow.action == "identity.login_failed")
            .order_by(AuditEntryRow.seq)
        ).scalars()
        sources = [str(json.loads(e)["details"]["source_ip"]) for e in entries]
    engine.dispose()
    return sources


@pytest.mark.parametrize("workers", ["1", "2"])
def test_forwarded_for_is_believed_only_from_trusted_proxies(
    tmp_path: Path, empty_database_url: str, workers: str
) -> None:
    env = {
        **os.environ,
        "KINKO_DATA_DIR": str(tmp_path / "data"),
        "KINKO_DATABASE_URL": empty_database_url,
        "KINKO_LOG_JSON": "false",
    }
    init = subprocess.run([KINKO, "init", "--admin", "alice"], env=env, capture_output=True)
    assert init.returncode == 0, init.stderr.decode()

    # Default: no proxy is trusted. 20 failures with 20 forged addresses are 20 failures
    # from 127.0.0.1: the 20th already waits.
    with serving(tmp_path, env, workers) as port:
        statuses = [failed_login(port, f"guess{i}", f"10.0.0.{i}") for i in range(20)]
    assert statuses == [401] * 19 + [429]
    assert set(logged_sources(empty_database_url)) == {"127.0.0.1"}

    # 127.0.0.1 is the proxy: the address it forwards is the client's (the right-most
    # hop; what the client itself put left of it is not believed).
    trusted = {**env, "KINKO_TRUSTED_PROXIES": "127.0.0.1"}
    with serving(tmp_path, trusted, workers) as port:
        assert failed_login(port, "guess-via-proxy", "1.2.3.4, 198.51.100.77") == 401
    assert logged_sources(empty_database_url)[-1] == "198.51.100.77"
