"""The monitor hub (`kinko serve --workers N`): one MonitorService behind a Unix socket,
reached by `RemoteMonitor` exactly as a worker reaches it, on both databases."""

from __future__ import annotations

import os
import socket
import stat
import struct
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from kinko.context import Context
from kinko.core.errors import Unavailable
from kinko.core.events import EventBus, SecurityEvent
from kinko.monitor.engine import Engine
from kinko.monitor.hub import MonitorHub
from kinko.monitor.remote import RemoteMonitor
from kinko.monitor.rules import default_pack
from kinko.monitor.service import MonitorService
from kinko.monitor.triage import TriageService
from kinko.policy.freeze import FreezeService
from kinko.server import create_app
from tests.support.identity import bearer, make_token
from tests.unit.monitor.support import ev


@pytest.fixture
def hub(ctx: Context, tmp_path: Path) -> Iterator[MonitorHub]:
    # A short directory: a Unix socket path has a ~107-byte limit.
    path = Path(os.environ.get("TMPDIR", "/tmp")) / f"kh-{os.getpid()}-{tmp_path.name[-12:]}.s"
    with MonitorHub(MonitorService(ctx, Engine(default_pack())), path) as running:
        yield running


@pytest.fixture
def remotes(hub: MonitorHub) -> Iterator[list[RemoteMonitor]]:
    """RemoteMonitors for a test, closed after it (as a worker's close on exit)."""
    made: list[RemoteMonitor] = []
    yield made
    for remote in made:
        remote.close()


def connect(remotes: list[RemoteMonitor], hub: MonitorHub, **kw: object) -> RemoteMonitor:
    remote = RemoteMonitor(hub.path, **kw)  # type: ignore[arg-type]
    remotes.append(remote)
    return remote


def failed_login(ctx: Context, username: str) -> SecurityEvent:
    return SecurityEvent(
        type="auth.login",
        time=ctx.clock.now(),
        actor=f"username:{username}",
        outcome="failure",
        source_ip="203.0.113.7",
        fields={"username": username, "factor": "totp"},
    )


def test_the_socket_is_private_to_this_user(hub: MonitorHub) -> None:
    assert stat.S_IMODE(hub.path.stat().st_mode) == 0o600


def test_events_from_several_workers_meet_one_correlation_state(
    ctx: Context, hub: MonitorHub, remotes: list[RemoteMonitor]
) -> None:
    """Ten failed logins for ten accounts from one address, five through each of two
    'workers' (buses with a RemoteMonitor each): one credential-stuffing alert. Two
    monitors of their own would each have seen five and stayed silent."""
    buses = [EventBus(), EventBus()]
    for bus in buses:
        connect(remotes, hub).attach(bus)
    for i in range(10):
        buses[i % 2].publish(failed_login(ctx, f"user{i}"))
    assert [bus.failures for bus in buses] == [0, 0]
    with ctx.db.transaction() as s:
        rules = [a.rule_id for a in TriageService(ctx).list_alerts(s)]
    assert rules.count("kinko-credential-stuffing") == 1


def test_remote_ingest_answers_what_the_service_recorded(
    ctx: Context, hub: MonitorHub, remotes: list[RemoteMonitor]
) -> None:
    """The answer arrives after the response was applied: the freeze is already there."""
    remote = connect(remotes, hub)
    outflow = ev("chain.outflow", wallet="w1", asset="ETH", amount=5, wallet_tier="hot")
    (recorded,) = remote.ingest([outflow])
    assert (recorded.rule_id, recorded.status, recorded.target) == (
        "kinko-hot-outflow-without-withdrawal",
        "applied",
        "w1",
    )
    with ctx.db.transaction() as s:
        (freeze,) = FreezeService(ctx).active_freezes(s)
    assert freeze.id == recorded.ref
    described = remote.describe_rules()
    assert described == hub.service.describe_rules()
    assert remote.ping() == os.getpid()


def test_concurrent_threads_each_get_their_answer(
    ctx: Context, hub: MonitorHub, remotes: list[RemoteMonitor]
) -> None:
    remote = connect(remotes, hub)
    answers: dict[int, str] = {}

    def send(i: int) -> None:
        wallet = f"w{i}"
        (rec,) = remote.ingest(
            [ev("chain.outflow", i, wallet=wallet, asset="ETH", amount=5, wallet_tier="hot")]
        )
        answers[i] = str(rec.target)

    threads = [threading.Thread(target=send, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert answers == {i: f"w{i}" for i in range(8)}


def test_a_worker_whose_hub_is_gone_fails_closed(
    ctx: Context, hub: MonitorHub, remotes: list[RemoteMonitor]
) -> None:
    lost: list[str] = []
    remote = connect(remotes, hub, on_lost=lost.append)
    bus = EventBus()
    remote.attach(bus)
    remote.ping()
    hub.close()
    with pytest.raises(Unavailable, match="did not answer"):
        remote.ingest([ev("chain.outflow", wallet="w1", asset="ETH", amount=5)])
    assert lost and "did not answer" in lost[0]
    bus.publish(failed_login(ctx, "mallory"))  # the bus logs it and counts the failure
    assert bus.failures == 1


def test_garbage_gets_an_answer_not_a_crash(hub: MonitorHub, remotes: list[RemoteMonitor]) -> None:
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(10)
        sock.connect(str(hub.path))
        body = b"not json"
        sock.sendall(struct.pack(">I", len(body)) + body)
        (size,) = struct.unpack(">I", sock.recv(4))
        reply = sock.recv(size)
    assert b'"ok":false' in reply and b"integrity_failure" in reply
    remote = connect(remotes, hub)
    with pytest.raises(Unavailable, match="op: unknown 'drop_tables'"):
        remote.call({"op": "drop_tables"})
    with pytest.raises(Unavailable, match=r"events\[0\]"):
        remote.call({"op": "ingest", "events": [{"type": "no-dots"}]})


def test_the_api_of_a_worker_goes_through_the_hub(
    ctx: Context, hub: MonitorHub, remotes: list[RemoteMonitor]
) -> None:
    ingest = make_token(ctx, roles_or_permissions=["monitor:ingest"])
    reader = make_token(ctx, roles_or_permissions=["monitor:read"])
    remote = connect(remotes, hub)
    remote.attach(ctx.bus)
    outflow = ev("chain.outflow", wallet="w7", asset="ETH", amount=5, wallet_tier="hot")
    with TestClient(create_app(ctx, monitor=remote)) as client:
        posted = client.post(
            "/v1/events",
            json={"events": [outflow.model_dump(mode="json")]},
            headers=bearer(ingest),
        )
        assert posted.status_code == 200, posted.text
        assert [a["target"] for a in posted.json()["alerts"]] == ["w7"]
        rules = client.get("/v1/monitor/rules", headers=bearer(reader)).json()
        assert {r["id"] for r in rules} == {r.id for r in hub.service.describe_rules()}
        hub.close()
        down = client.post(
            "/v1/events",
            json={"events": [outflow.model_dump(mode="json")]},
            headers=bearer(ingest),
        )
        assert down.status_code == 503 and down.json()["error"] == "unavailable"


def test_a_request_too_large_is_refused_without_giving_up_the_hub(
    hub: MonitorHub, remotes: list[RemoteMonitor], monkeypatch: pytest.MonkeyPatch
) -> None:
    from kinko.core.errors import IntegrityError
    from kinko.monitor import wire

    lost: list[str] = []
    remote = connect(remotes, hub, on_lost=lost.append)
    monkeypatch.setattr(wire, "MAX_FRAME", 16)
    with pytest.raises(IntegrityError, match="exceeds 16"):
        remote.call({"op": "ping", "padding": "x" * 64})
    assert lost == []
    monkeypatch.undo()
    assert remote.ping() == os.getpid()


def test_a_workers_own_events_count_as_kinkos_and_posted_ones_do_not(
    ctx: Context, hub: MonitorHub, remotes: list[RemoteMonitor]
) -> None:
    """Through the hub, a worker's bus events keep their origin (kinko) and an API batch
    its own (ingest): only the former may lock a privileged person."""
    from kinko.identity.model import UserState
    from kinko.identity.service import IdentityService
    from tests.support.identity import make_user

    admin, _ = make_user(ctx, "root", ["security_admin"], with_authenticator=False)
    remote = connect(remotes, hub)
    events = [ev("auth.mfa", i, actor=f"user:{admin}", outcome="failure") for i in range(5)]
    events.append(ev("auth.mfa", 10, actor=f"user:{admin}", outcome="success"))
    assert [r.status for r in remote.ingest(events)] == ["withheld"]
    bus_events = [
        SecurityEvent(type=e.type, time=e.time, actor=e.actor, outcome=e.outcome) for e in events
    ]
    remote.forward(bus_events)  # what a worker's bus subscription sends
    with ctx.db.transaction() as s:
        assert IdentityService(ctx).users.get(s, admin).state == UserState.SUSPENDED
