"""`kinko serve` believes X-Forwarded-For only from `trusted_proxies` (issue #13, point 9).

Real servers: one process on SQLite and on PostgreSQL, and two processes sharing one
PostgreSQL database and one Redis (docs/serving.md).
A local client that rotates X-Forwarded-For used to become a new "address" with every
request (uvicorn trusted the header from 127.0.0.1), so the per-address sign-in throttle
never engaged and IP allowlists could be met by claiming an address. Now its failures all
count against 127.0.0.1 unless 127.0.0.1 is configured as a trusted proxy.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from http.client import HTTPConnection
from pathlib import Path

import pytest
from sqlalchemy import create_engine, select

from kinko.store.tables.audit import AuditEntryRow
from tests.support.serve import Served, free_port, served
from tests.support.servers import RedisServer


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


@pytest.fixture
def kinko(tmp_path: Path, empty_database_url: str) -> Iterator[Served]:
    with served(tmp_path, empty_database_url) as k:
        k.env["KINKO_LOG_JSON"] = "false"
        k.init("alice")
        yield k


def _ports(k: Served, processes: int, env: dict[str, str]) -> list[int]:
    ports = [free_port() for _ in range(processes)]
    for port in ports:
        server = k.start(port=port, env=env)
        assert server.poll() is None, k.output(server)
    return ports


def _check(k: Served, database_url: str, processes: int, env: dict[str, str]) -> None:
    # Default: no proxy is trusted. 20 failures with 20 forged addresses (spread over the
    # processes) are 20 failures from 127.0.0.1: the 20th already waits.
    ports = _ports(k, processes, env)
    statuses = [failed_login(ports[i % processes], f"guess{i}", f"10.0.0.{i}") for i in range(20)]
    assert statuses == [401] * 19 + [429]
    assert set(logged_sources(database_url)) == {"127.0.0.1"}
    k.stop()

    # 127.0.0.1 is the proxy: the address it forwards is the client's (the right-most
    # hop; what the client itself put left of it is not believed).
    [port, *_] = _ports(k, processes, {**env, "KINKO_TRUSTED_PROXIES": "127.0.0.1"})
    assert failed_login(port, "guess-via-proxy", "1.2.3.4, 198.51.100.77") == 401
    assert logged_sources(database_url)[-1] == "198.51.100.77"


def test_one_process_believes_forwarded_for_only_from_trusted_proxies(
    kinko: Served, empty_database_url: str
) -> None:
    _check(kinko, empty_database_url, 1, {})


@pytest.mark.parametrize("backend", ["postgresql"])
def test_two_processes_believe_it_only_from_trusted_proxies(
    kinko: Served, empty_database_url: str
) -> None:
    redis = RedisServer(free_port()).start()
    try:
        _check(kinko, empty_database_url, 2, {"KINKO_REDIS_URL": redis.url})
    finally:
        kinko.stop()
        redis.stop()
