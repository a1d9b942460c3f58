"""Two ``kinko serve`` processes on one PostgreSQL database and one Redis, as an operator
runs them past one process (docs/serving.md): both servers and Redis are real processes
started here. Velocity limits hold across the two (PostgreSQL's row locks), a correlation
whose events arrive at both fires once (one evaluator, on the Redis stream), and a
process killed with SIGKILL loses no event: what it committed reaches the monitor.
"""

from __future__ import annotations

import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis
from sqlalchemy import create_engine, select, text

from kinko.monitor.streams import GROUP, LEASE
from kinko.store.leases import lease_key
from kinko.store.tables.monitor import AlertRow
from tests.support.procs import children
from tests.support.serve import KINKO, Served, free_port, served
from tests.support.servers import RedisServer

STUFFING = "kinko-credential-stuffing"
STREAM = "kinko:events"
pytestmark = pytest.mark.parametrize("backend", ["postgresql"])


def wait_for(what: str, check: Callable[[], Any], timeout: float = 30.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture
def redis_url() -> Iterator[str]:
    server = RedisServer(free_port()).start()
    try:
        yield server.url
    finally:
        server.stop()


@pytest.fixture
def kinko(tmp_path: Path, empty_database_url: str, redis_url: str) -> Iterator[Served]:
    with served(tmp_path, empty_database_url) as k:
        k.env["KINKO_REDIS_URL"] = redis_url
        k.init("admin")
        yield k


def evaluators(url: str) -> int:
    """How many processes hold the evaluator's lease (0 or 1)."""
    key = lease_key(LEASE) & 0xFFFF_FFFF_FFFF_FFFF
    engine = create_engine(url)
    with engine.connect() as conn:
        found = conn.execute(
            text(
                "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted "
                "AND classid::bigint = :high AND objid::bigint = :low"
            ),
            {"high": key >> 32, "low": key & 0xFFFF_FFFF},
        ).scalar()
    engine.dispose()
    return int(found or 0)


def alerts(url: str, rule: str) -> int:
    engine = create_engine(url)
    with engine.connect() as conn:
        found = conn.execute(select(AlertRow.id).where(AlertRow.rule_id == rule)).all()
    engine.dispose()
    return len(found)


def failed_logins(port: int, names: range) -> None:
    with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as client:
        for n in names:
            done = client.post(
                "/v1/auth/login/totp", json={"username": f"stuffed-{n}", "code": "000000"}
            )
            assert done.status_code == 401, done.text


def evaluated(client: redis.Redis, failures: int) -> bool:
    """The stream holds `failures` failed logins, and the group has read and acknowledged
    every entry."""
    entries: Any = client.xrange(STREAM)
    found = sum(b'"auth.login"' in fields[b"event"] for _, fields in entries)
    groups = [g for g in client.xinfo_groups(STREAM) if g["name"] == GROUP.encode()]
    return (
        found == failures
        and bool(groups)
        and groups[0]["entries-read"] == len(entries)
        and groups[0]["pending"] == 0
    )


def test_a_correlation_across_two_processes_fires_once_and_a_killed_one_loses_nothing(
    kinko: Served, empty_database_url: str, redis_url: str
) -> None:
    first_port = free_port()
    first = kinko.start(port=first_port)
    assert first.poll() is None, kinko.output(first)
    wait_for("the first process to evaluate", lambda: evaluators(empty_database_url) == 1)
    # The second: `kinko serve --workers 2`, two more full servers (uvicorn's processes).
    second_port = free_port()
    second = workers(kinko, second_port)
    assert evaluators(empty_database_url) == 1  # the others wait for the lease
    client = redis.Redis.from_url(redis_url)
    try:
        # Five failed logins through the first process, evaluated there...
        failed_logins(first_port, range(5))
        wait_for("the first five events to be evaluated", lambda: evaluated(client, 5))
        assert alerts(empty_database_url, STUFFING) == 0
        # ...which is then killed, its correlation state with it.
        first.send_signal(signal.SIGKILL)
        first.wait(10)
        # Five more through the second: it takes the lease over, replays the first five
        # from the stream, and the correlation (ten accounts from one address) fires, once.
        failed_logins(second_port, range(5, 10))
        wait_for("the alert", lambda: alerts(empty_database_url, STUFFING) >= 1)
        wait_for("every event evaluated", lambda: evaluated(client, 10))
        assert alerts(empty_database_url, STUFFING) == 1
        # SIGTERM stops the workers cleanly, and their lease goes with them.
        second.send_signal(signal.SIGTERM)
        assert second.wait(30) == 0
        assert evaluators(empty_database_url) == 0
    finally:
        client.close()
        if second.poll() is None:
            second.kill()


def workers(k: Served, port: int) -> subprocess.Popen[bytes]:
    """`kinko serve --workers 2` on `port`, once both processes run and it answers."""
    log = (k.root / f"workers-{port}.log").open("wb")
    server = subprocess.Popen(
        [KINKO, "serve", "--workers", "2", "--host", "127.0.0.1", "--port", str(port)],
        env=k.env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    log.close()

    def serving() -> bool:
        return len(children(server.pid, cmdline_has="spawn")) == 2 or server.poll() is not None

    wait_for("two serving processes", serving)
    wait_for("an answer", lambda: healthy(port) or server.poll() is not None)
    assert server.poll() is None, (k.root / f"workers-{port}.log").read_text()
    return server


def exchange(k: Served, url: str) -> str:
    """The demo exchange on the served database (assets, wallets, lists, people); an API
    token of alice's that requests withdrawals."""
    from kinko.config import Settings
    from kinko.context import build_context
    from kinko.demo.exchange import DEMO_LIST, build_demo_exchange
    from kinko.identity.model import UserId
    from kinko.identity.service import IdentityService

    (k.data / "screening.toml").write_text(
        f'required_address_lists = ["{DEMO_LIST}"]\nrequired_name_lists = ["{DEMO_LIST}"]\n'
    )
    ctx = build_context(Settings(data_dir=k.data, database_url=url, log_json=False))
    try:
        built = build_demo_exchange(ctx)
        with ctx.db.transaction() as session:
            tokens = IdentityService(ctx).tokens
            terms = tokens.terms(
                session,
                owner_id=UserId(built.users["alice"]),
                name="velocity",
                permissions=["withdrawals:create"],
                ttl=timedelta(hours=1),
            )
            _, token = tokens.create(session, terms, actor="system:test")
    finally:
        ctx.db.dispose()
    return str(token)


def test_a_velocity_limit_holds_across_two_processes(
    kinko: Served, empty_database_url: str
) -> None:
    from kinko.demo.exchange import CUSTOMER

    token = exchange(kinko, empty_database_url)
    ports = [free_port(), free_port()]
    for port in ports:
        server = kinko.start(port=port)
        assert server.poll() is None, kinko.output(server)

    def request(n: int) -> str:
        port = ports[n % 2]
        with httpx.Client(timeout=60) as client:
            done = client.post(
                f"http://127.0.0.1:{port}/v1/withdrawals",
                headers={"Authorization": f"Bearer {token}", "Idempotency-Key": f"v-{n}"},
                json={
                    "asset": "ETH",
                    "amount": "1",
                    "destination": CUSTOMER,
                    "customer_ref": "c-velocity",
                },
            )
        assert done.status_code in (201, 403, 422, 409), done.text
        body = done.json()
        return str(body.get("state", body.get("error")))

    # 100 ETH per customer per day (the sample policy's eth-customer-24h): 120 requests
    # of 1 ETH (auto-approved alone) at once, half to each process.
    with ThreadPoolExecutor(12) as pool:
        states = list(pool.map(request, range(120)))
    assert states.count("approved") == 100, states
    assert states.count("denied") == 20, states


def healthy(port: int) -> bool:
    try:
        return httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200
    except httpx.TransportError:
        return False
