"""Cancelling a withdrawal through the API and the CLI, on both databases: the requester
cancels their own request, an operator (``withdrawals:cancel_any``) anyone's, nobody else;
scopes hold; a signed or finished withdrawal is ``409 not_cancellable``; each cancel is
audited and published as a ``withdrawal.cancelled`` security event."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from typer.testing import CliRunner

from kinko.cli.main import app as cli_app
from kinko.core.events import SecurityEvent
from kinko.identity.model import RoleGrant
from kinko.identity.permissions import Role
from kinko.server import create_app
from kinko.store.tables.audit import AuditEntryRow
from tests.integration.withdrawals.exchange import RECIPIENT, Exchange
from tests.support.cli_api import as_person, route_cli_to_api, session_of
from tests.support.identity import bearer, make_user, owned_token

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")
BODY: dict[str, Any] = {"asset": "ETH", "amount": "2", "destination": RECIPIENT}


@pytest.fixture
def api(exchange: Exchange) -> TestClient:
    app = create_app(exchange.ctx, services=exchange.services)
    make_user(exchange.ctx, "otto", ["operator"], with_authenticator=False)
    make_user(exchange.ctx, "rita", ["requester"], with_authenticator=False)
    return TestClient(app, base_url="https://testserver")


@pytest.fixture
def cancelled_events(exchange: Exchange) -> list[SecurityEvent]:
    seen: list[SecurityEvent] = []
    exchange.ctx.bus.subscribe(
        lambda e: seen.append(e) if e.type == "withdrawal.cancelled" else None
    )
    return seen


def as_(exchange: Exchange, username: str) -> dict[str, str]:
    """A person's own session, as `kinko login` stores it."""
    return bearer(session_of(exchange.ctx, username))


def request(api: TestClient, exchange: Exchange, key: str, amount: str = "2") -> dict[str, Any]:
    headers = {**as_(exchange, "alice"), "Idempotency-Key": key}
    made = api.post("/v1/withdrawals", json={**BODY, "amount": amount}, headers=headers)
    assert made.status_code == 201, made.text
    return dict(made.json())


def cancel(
    api: TestClient, wd_id: str, headers: dict[str, str], reason: str = "customer asked"
) -> httpx.Response:
    return api.post(f"/v1/withdrawals/{wd_id}/cancel", json={"reason": reason}, headers=headers)


def audited(exchange: Exchange, wd_id: str) -> list[tuple[str, dict[str, Any]]]:
    with exchange.ctx.db.reading() as session:
        rows = session.execute(
            select(AuditEntryRow)
            .where(AuditEntryRow.subject == wd_id, AuditEntryRow.action == "withdrawal.cancelled")
            .order_by(AuditEntryRow.seq)
        ).scalars()
        return [(r.actor, json.loads(r.entry)["details"]) for r in rows]


def test_the_requester_cancels_their_own_request_once(
    exchange: Exchange, api: TestClient, cancelled_events: list[SecurityEvent]
) -> None:
    wd = request(api, exchange, "c-own")
    assert wd["state"] == "pending_approval"
    done = cancel(api, wd["id"], as_(exchange, "alice"))
    assert done.status_code == 200, done.text
    assert (done.json()["state"], done.json()["reason"]) == ("cancelled", "customer asked")
    alice = exchange.user("alice")
    [(actor, details)] = audited(exchange, wd["id"])
    assert actor == f"user:{alice}"
    assert (details["from"], details["by_requester"]) == ("pending_approval", True)
    [event] = cancelled_events
    assert (event.actor, event.wallet, event.amount) == (f"user:{alice}", wd["wallet"], 2 * 10**18)
    assert event.fields["withdrawal_id"] == wd["id"] and event.fields["by_requester"] is True
    assert event.fields["from_state"] == "pending_approval" and event.severity == "info"
    # Again: the same answer, nothing new audited or published.
    again = cancel(api, wd["id"], as_(exchange, "alice"))
    assert (again.status_code, again.json()["state"]) == (200, "cancelled")
    assert len(audited(exchange, wd["id"])) == 1 and len(cancelled_events) == 1
    # A cancelled withdrawal can no longer be approved.
    assert exchange.withdrawals.get(wd["id"]).state.value == "cancelled"


def test_only_the_requester_or_an_operator_may_cancel(
    exchange: Exchange, api: TestClient, cancelled_events: list[SecurityEvent]
) -> None:
    wd = request(api, exchange, "c-other")
    other_requester = cancel(api, wd["id"], as_(exchange, "rita"))
    assert (other_requester.status_code, other_requester.json()["error"]) == (403, "not_requester")
    approver = cancel(api, wd["id"], as_(exchange, "bob"))  # no withdrawals:cancel at all
    assert (approver.status_code, approver.json()["error"]) == (403, "missing_permission")
    assert cancelled_events == [] and audited(exchange, wd["id"]) == []
    by_operator = cancel(api, wd["id"], as_(exchange, "otto"), reason="duplicate request")
    assert (by_operator.status_code, by_operator.json()["state"]) == (200, "cancelled")
    [event] = cancelled_events
    assert event.fields["by_requester"] is False and event.severity == "medium"
    assert event.fields["requester"] == exchange.user("alice")
    [(actor, details)] = audited(exchange, wd["id"])
    assert actor.startswith("user:") and details["reason"] == "duplicate request"


def test_scopes_hold_on_cancel(exchange: Exchange, api: TestClient) -> None:
    wd = request(api, exchange, "c-scoped")
    btc_only, _ = make_user(
        exchange.ctx,
        "bea",
        [RoleGrant(Role.OPERATOR, assets=("BTC",))],
        with_authenticator=False,
    )
    refused = cancel(
        api,
        wd["id"],
        bearer(
            owned_token(exchange.ctx, btc_only, ["withdrawals:cancel", "withdrawals:cancel_any"])
        ),
    )
    assert refused.status_code == 403 and "withdrawals:cancel" in refused.json()["message"]
    # The requester's own token limited to BTC cannot cancel their ETH withdrawal either.
    own_btc = owned_token(
        exchange.ctx, exchange.user("alice"), ["withdrawals:cancel"], assets=["BTC"]
    )
    refused = cancel(api, wd["id"], bearer(own_btc))
    assert refused.status_code == 403 and "asset ETH" in refused.json()["message"]
    own = owned_token(exchange.ctx, exchange.user("alice"), ["withdrawals:cancel"])
    assert cancel(api, wd["id"], bearer(own)).json()["state"] == "cancelled"


def test_a_signed_or_finished_withdrawal_is_not_cancellable(
    exchange: Exchange, api: TestClient, cancelled_events: list[SecurityEvent]
) -> None:
    sent = request(api, exchange, "c-small", amount="0.5")  # allowed outright, then sent
    assert sent["state"] == "broadcast", sent
    for who in ("alice", "otto"):
        refused = cancel(api, sent["id"], as_(exchange, who))
        assert refused.status_code == 409, refused.text
        assert refused.json()["error"] == "not_cancellable"
        assert "broadcast" in refused.json()["message"]
    assert exchange.withdrawals.get(sent["id"]).state.value == "broadcast"
    assert cancelled_events == [] and audited(exchange, sent["id"]) == []


def test_cancel_needs_a_reason_and_a_known_withdrawal(exchange: Exchange, api: TestClient) -> None:
    wd = request(api, exchange, "c-reason")
    for body in ({}, {"reason": ""}):
        refused = api.post(
            f"/v1/withdrawals/{wd['id']}/cancel", json=body, headers=as_(exchange, "alice")
        )
        assert refused.status_code == 422 and "reason" in refused.json()["field"]
    blank = cancel(api, wd["id"], as_(exchange, "alice"), reason="   ")
    assert (blank.status_code, blank.json()["field"]) == (422, "reason")
    assert cancel(api, "wd_nope", as_(exchange, "alice")).status_code == 404
    assert exchange.withdrawals.get(wd["id"]).state.value == "pending_approval"


def kinko(exchange: Exchange, *args: str, as_: str | None = None) -> tuple[int, str]:
    settings = exchange.ctx.settings
    env = {"KINKO_DATABASE_URL": settings.resolved_database_url, "COLUMNS": "300"}
    if as_:
        env.update(as_person(exchange.ctx, as_))
    result = CliRunner().invoke(cli_app, ["--data-dir", str(settings.data_dir), *args], env=env)
    return result.exit_code, " ".join(result.output.split())


def test_withdraw_cancel_on_the_cli(
    exchange: Exchange,
    api: TestClient,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    cancelled_events: list[SecurityEvent],
) -> None:
    route_cli_to_api(
        exchange.ctx,
        monkeypatch,
        tmp_path / "config",
        services=exchange.services,
    )
    wd = request(api, exchange, "c-cli")
    code, out = kinko(exchange, "withdraw", "cancel", wd["id"], as_="alice")
    assert code == 2 and "--reason" in out and "Traceback" not in out
    code, out = kinko(exchange, "withdraw", "cancel", wd["id"], "--reason", "no", as_="bob")
    assert code == 1 and "withdrawals:cancel" in out
    code, out = kinko(exchange, "withdraw", "cancel", wd["id"], "--reason", "no", as_="rita")
    assert code == 1 and "requested by someone else" in out
    code, out = kinko(
        exchange,
        "withdraw",
        "cancel",
        wd["id"],
        "--reason",
        "changed my mind",
        "--json",
        as_="alice",
    )
    assert code == 0, out
    shown = json.loads(out[out.index("{ ") :])
    assert (shown["id"], shown["state"], shown["reason"]) == (
        wd["id"],
        "cancelled",
        "changed my mind",
    )
    assert [e.fields["withdrawal_id"] for e in cancelled_events] == [wd["id"]]
    sent = request(api, exchange, "c-cli-sent", amount="0.5")
    code, out = kinko(exchange, "withdraw", "cancel", sent["id"], "--reason", "late", as_="otto")
    assert code == 2 and "can no longer be cancelled" in out and "Traceback" not in out
    code, out = kinko(
        exchange, "withdraw", "cancel", sent["id"], "--reason", "x", "--json", as_="otto"
    )
    assert code == 2 and json.loads(out[out.index("{ ") :])["error"] == "not_cancellable"
