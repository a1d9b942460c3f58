"""Redis Streams scale-out against a real redis-server on loopback."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest
import redis

from kinko.context import Context
from kinko.monitor.engine import Engine
from kinko.monitor.events import MonitorEvent
from kinko.monitor.redis_input import (
    RedisEventPublisher,
    RedisPartitionWorker,
    owned_partitions,
    partition_key,
    partition_of,
)
from kinko.monitor.rules import default_pack
from kinko.monitor.triage import TriageService
from tests.support.servers import RedisServer
from tests.unit.monitor.support import ev

PARTITIONS = 4


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def client() -> Iterator[redis.Redis]:
    server = RedisServer(free_port()).start()
    conn = redis.Redis.from_url(server.url)
    try:
        yield conn
    finally:
        conn.close()
        server.stop()


def test_workers_share_partitions_and_keep_wallet_state_together(client: redis.Redis) -> None:
    wallets = [f"w{i}" for i in range(12)]
    events: list[MonitorEvent] = []
    for i in range(240):
        wallet = wallets[i % len(wallets)]
        events.append(
            ev("chain.outflow", i, wallet=wallet, asset="ETH", amount=1, withdrawal_id="wd")
        )
    # the Upbit pattern on one wallet: three assets within a minute
    for j, asset in enumerate(["USDT", "LINK"]):
        events.append(
            ev("chain.outflow", 300 + j, wallet="w7", asset=asset, amount=1, withdrawal_id="wd")
        )
    RedisEventPublisher(client, partitions=PARTITIONS).publish(events)

    seen: dict[int, list[MonitorEvent]] = {0: [], 1: []}
    engines = {0: Engine(default_pack()), 1: Engine(default_pack())}
    alerts: dict[int, list[str]] = {0: [], 1: []}
    workers = []
    for index in (0, 1):

        def handle(batch: list[MonitorEvent], index: int = index) -> None:
            seen[index].extend(batch)
            alerts[index].extend(a.rule_id for a in engines[index].process_many(batch))

        worker = RedisPartitionWorker(
            client,
            handle,
            partitions=owned_partitions(index, 2, PARTITIONS),
            consumer=f"worker-{index}",
        )
        worker.ensure_groups()
        worker.ensure_groups()  # idempotent
        workers.append(worker)
    while sum(w.poll(count=50) for w in workers):
        pass

    assert len(seen[0]) + len(seen[1]) == len(events)
    assert seen[0] and seen[1]  # both workers took a share
    for index in (0, 1):
        mine = {e.wallet for e in seen[index]}
        other = {e.wallet for e in seen[1 - index]}
        assert not mine & other  # a wallet's events never split between workers
    owner = next(i for i in (0, 1) if "w7" in {e.wallet for e in seen[i]})
    assert alerts[owner].count("kinko-many-assets-leaving") == 1
    assert "kinko-many-assets-leaving" not in alerts[1 - owner]
    # everything was acknowledged: nothing pending for the group
    for worker in workers:
        for stream in worker.streams:
            assert client.xpending(stream, worker.group)["pending"] == 0


def test_malformed_entry_goes_to_dead_letter(client: redis.Redis) -> None:
    handled: list[MonitorEvent] = []
    worker = RedisPartitionWorker(
        client, handled.extend, partitions=[0], consumer="w", prefix="t:events"
    )
    worker.ensure_groups()
    client.xadd("t:events:0", {"event": b'{"type": "auth.login"}'})
    client.xadd("t:events:0", {"event": b"not json"})
    good = ev("auth.login", actor="u1").model_dump_json()
    client.xadd("t:events:0", {"event": good})
    assert worker.drain() == 3
    assert len(handled) == 1 and worker.rejected == 2
    dead = client.xrange("t:events:dead")
    reasons = [fields[b"reason"].decode() for _, fields in dead]
    assert "time" in reasons[0] and "not JSON" in reasons[1]


def test_partitioning_is_stable_and_spread() -> None:
    counts = [0] * PARTITIONS
    for i in range(400):
        counts[partition_of(f"wallet-{i}", PARTITIONS)] += 1
    assert min(counts) > 60
    event = ev("auth.login", actor="u1")
    assert partition_key(event) == "u1"
    assert partition_of("u1", PARTITIONS) == partition_of("u1", PARTITIONS)
    assert owned_partitions(1, 3, 7) == [1, 4]


def test_worker_command_ingests_its_partitions(ctx: Context, client: redis.Redis) -> None:
    from typer.testing import CliRunner

    from kinko.cli.main import app

    url = client.connection_pool.connection_kwargs
    redis_url = f"redis://{url['host']}:{url['port']}/0"
    events = [
        ev("chain.outflow", i, wallet=f"w{i}", asset="ETH", amount=1, wallet_tier="hot")
        for i in range(6)
    ]
    RedisEventPublisher(client, partitions=2).publish(events)
    env = {
        "KINKO_DATA_DIR": str(ctx.settings.data_dir),
        "KINKO_DATABASE_URL": ctx.settings.database_url,
    }
    runner = CliRunner()
    total = 0
    for index in (0, 1):
        args = ["monitor", "worker", "--redis", redis_url, "--worker", str(index), "--of", "2"]
        result = runner.invoke(app, [*args, "--partitions", "2", "--drain"], env=env)
        assert result.exit_code == 0, result.output
        total += int(result.output.split(": ")[1].split(" events")[0])
    assert total == 6
    with ctx.db.transaction() as session:
        alerts = TriageService(ctx).list_alerts(session)
    assert len(alerts) == 6  # one unexplained hot outflow per wallet, each frozen
