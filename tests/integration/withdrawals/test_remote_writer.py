"""The one writer of `kinko serve --workers N` (both databases): a worker checks a request
and sends it to the supervisor's hub, where the write phase runs; the API answers as it
would with the write in process, errors and idempotency included."""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from kinko.core.errors import KinkoError
from kinko.monitor.engine import Engine
from kinko.monitor.hub import MonitorHub
from kinko.monitor.remote import RemoteMonitor
from kinko.monitor.rules import default_pack
from kinko.monitor.service import MonitorService
from kinko.server import create_app
from kinko.withdrawals.intake import WithdrawalRequest, check_request
from kinko.withdrawals.records import WithdrawalView
from kinko.withdrawals.stack import WithdrawalStack, build_stack
from kinko.withdrawals.writer import (
    WRITE_OP,
    RemoteError,
    RemoteWriter,
    WriteOrder,
    serve_orders,
    view_from_json,
)
from tests.integration.withdrawals.exchange import RECIPIENT, Exchange
from tests.support.identity import make_token

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")
BODY: dict[str, Any] = {"asset": "ETH", "amount": "2", "destination": RECIPIENT}


def _stack(exchange: Exchange) -> WithdrawalStack:
    return build_stack(exchange.ctx, network="devnet", web3=None, screener=exchange.screener)


@pytest.fixture
def writer(exchange: Exchange) -> WithdrawalStack:
    return _stack(exchange)


@pytest.fixture
def written() -> list[str]:
    """The idempotency keys of the orders the writer ran."""
    return []


@pytest.fixture
def remote(
    exchange: Exchange, writer: WithdrawalStack, written: list[str], tmp_path: Path
) -> Iterator[RemoteMonitor]:
    path = Path(os.environ.get("TMPDIR", "/tmp")) / f"kw-{os.getpid()}-{tmp_path.name[-12:]}.s"
    monitor = MonitorService(exchange.ctx, Engine(default_pack()))

    def write(order: WriteOrder) -> WithdrawalView:
        written.append(order.key)
        return writer.withdrawals.write(order)

    with MonitorHub(monitor, path) as hub:
        hub.register(WRITE_OP, serve_orders(write))
        client = RemoteMonitor(hub.path)
        yield client
        client.close()


def test_the_api_answers_as_with_a_local_writer(
    exchange: Exchange, remote: RemoteMonitor, written: list[str]
) -> None:
    worker = _stack(exchange)
    worker.withdrawals.remote_writer = RemoteWriter(remote.exchange)
    app = create_app(exchange.ctx)
    app.state.withdrawal_stack = worker
    api = TestClient(app, base_url="https://testserver")
    token = make_token(exchange.ctx, roles_or_permissions=["withdrawals:create"])

    def post(key: str, body: dict[str, Any]) -> Any:
        headers = {"Authorization": f"Bearer {token}", "Idempotency-Key": key}
        return api.post("/v1/withdrawals", json=body, headers=headers)

    created = post("k1", BODY)
    assert created.status_code == 201, created.text
    wd = created.json()
    assert wd["state"] == "pending_approval" and len(wd["digest"]) == 64
    assert exchange.withdrawals.get(wd["id"]).to_json() == wd  # what the store holds
    assert post("k1", BODY).json()["id"] == wd["id"]
    conflict = post("k1", {**BODY, "amount": "3"})
    assert (conflict.status_code, conflict.json()["error"]) == (409, "idempotency_conflict")
    assert written == ["k1"]  # the replays were answered from the store by the worker


def test_a_write_error_comes_back_as_it_was_raised(
    exchange: Exchange, writer: WithdrawalStack, remote: RemoteMonitor
) -> None:
    body = WithdrawalRequest(**BODY)
    with exchange.ctx.db.reading() as reader:
        checked = check_request(reader, body, writer.ports)
    order = WriteOrder(body, "user:x", "k-retired", "f" * 64, "api", checked)
    retired = dataclasses.replace(order, checked=dataclasses.replace(checked, wallet_id="wal_x"))
    with pytest.raises(KinkoError) as local:
        writer.withdrawals.write(retired)
    with pytest.raises(RemoteError) as carried:
        RemoteWriter(remote.exchange)(retired)
    assert carried.value.to_dict() == local.value.to_dict()
    assert carried.value.http_status == local.value.http_status == 422
    assert "wal_x" in carried.value.message


def test_orders_and_views_survive_the_wire(exchange: Exchange, writer: WithdrawalStack) -> None:
    body = WithdrawalRequest(**BODY, customer_ref="c-1", memo="rent")
    with exchange.ctx.db.reading() as reader:
        checked = check_request(reader, body, writer.ports)
    order = WriteOrder(body, "user:x", "k-wire", "f" * 64, "api", checked)
    again = WriteOrder.from_json(order.to_json())
    assert again.to_json() == order.to_json()
    assert again.checked.amount == checked.amount and again.checked.asset == checked.asset
    view = writer.withdrawals.write(again)
    assert view_from_json(view.to_json()) == view
    assert exchange.withdrawals.get(view.id).to_json() == view.to_json()
