"""The events the monitor's default pack needs, from the real withdrawal flow and signer,
and the real monitor acting on a refused signature."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from kinko.core.errors import ApprovalError, KinkoError
from kinko.core.events import SecurityEvent
from kinko.store.tables.monitor import AlertRow, ResponseRow
from kinko.withdrawals.service import WithdrawalRequest
from kinko.withdrawals.wiring import WalletFreezes
from tests.integration.signer.test_signer import ATTACKER, altered, approved_bundle
from tests.integration.withdrawals.exchange import RECIPIENT, SANCTIONED, Exchange
from tests.support.services import services_of

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def collect(ex: Exchange) -> list[SecurityEvent]:
    events: list[SecurityEvent] = []
    ex.ctx.bus.subscribe(events.append)
    return events


def of(events: list[SecurityEvent], kind: str) -> list[SecurityEvent]:
    return [e for e in events if e.type == kind]


def test_request_and_approval_events(exchange: Exchange) -> None:
    ex = exchange
    events = collect(ex)
    wd = ex.withdrawals.request(
        WithdrawalRequest(asset="ETH", amount="2", destination=RECIPIENT),
        requester=ex.user("alice"),
        idempotency_key="k-ev-1",
        channel="api",
    )
    (request,) = of(events, "withdrawal.request")
    assert request.actor == ex.user("alice")
    assert (request.wallet, request.asset, request.amount) == (ex.wallet_id, "ETH", 2 * 10**18)
    assert request.fields["withdrawal_id"] == wd.id
    assert request.fields["screening"] == "clear"
    assert request.fields["call_kind"] == "native_transfer"
    assert request.fields["destination_first_seen"] is True
    assert "amount_usd" not in request.fields  # no price known: none invented
    # Same key again: no second announcement.
    ex.withdrawals.request(
        WithdrawalRequest(asset="ETH", amount="2", destination=RECIPIENT),
        requester=ex.user("alice"),
        idempotency_key="k-ev-1",
        channel="api",
    )
    assert len(of(events, "withdrawal.request")) == 1
    assert wd.digest is not None
    with pytest.raises(ApprovalError):
        ex.approvals.approve(
            wd.id, approver=ex.user("alice"), assertion=ex.assert_digest("alice", wd.digest)
        )
    ex.approvals.approve(
        wd.id, approver=ex.user("bob"), assertion=ex.assert_digest("bob", wd.digest)
    )
    own, granted = of(events, "withdrawal.approve")
    assert (own.actor, own.fields["requester"], own.outcome) == (
        ex.user("alice"),
        ex.user("alice"),
        "failure",
    )
    assert own.fields["requester_is_approver"] is True
    assert own.fields["code"] == "requester_approved"
    assert (granted.actor, granted.outcome) == (ex.user("bob"), "success")
    assert granted.fields["requester_is_approver"] is False
    # A screening hit is announced as such (and denied).
    ex.withdrawals.request(
        WithdrawalRequest(asset="ETH", amount="1", destination=SANCTIONED),
        requester=ex.user("alice"),
        idempotency_key="k-ev-hit",
        channel="api",
    )
    hit = of(events, "withdrawal.request")[-1]
    assert hit.fields["screening"] == "hit" and "call_kind" not in hit.fields


def test_destination_is_seen_once_paid(exchange: Exchange) -> None:
    ex = exchange
    events = collect(ex)
    for key in ("k-seen-1", "k-seen-2"):
        wd = ex.withdrawals.request(
            WithdrawalRequest(asset="ETH", amount="0.1", destination=RECIPIENT),
            requester=ex.user("alice"),
            idempotency_key=key,
            channel="api",
        )
        ex.executor.execute(wd.id)
    first, second = of(events, "withdrawal.request")
    assert first.fields["destination_first_seen"] is True
    assert second.fields["destination_first_seen"] is False
    (signing,) = {e.fields["call_kind"] for e in of(events, "signer.request")}
    assert signing == "native_transfer"
    signed = of(events, "signer.sign")
    assert [e.wallet for e in signed] == [ex.wallet_id] * 2
    assert [e.fields["withdrawal_id"] for e in signed] == [
        e.fields["withdrawal_id"] for e in of(events, "withdrawal.request")
    ]


def test_monitor_alerts_and_freezes_on_an_altered_bundle(exchange: Exchange) -> None:
    ex = exchange
    monitor = ex.services.start_monitor()
    events = collect(ex)
    bundle = approved_bundle(ex)
    with pytest.raises(KinkoError):
        ex.signer.sign(altered(ex, bundle, destination=ATTACKER))
    (refused,) = of(events, "signer.refused")
    assert refused.fields["reason"] in {"digest_mismatch", "intent_mismatch"}
    assert refused.fields["call_kind"] == "native_transfer"
    assert refused.destination == ATTACKER  # what the signer decoded, not what was approved
    with ex.ctx.db.transaction() as session:
        alerts = session.execute(select(AlertRow)).scalars().all()
        rules = {a.rule_id for a in alerts}
        responses = session.execute(select(ResponseRow)).scalars().all()
        frozen = WalletFreezes(services_of(ex.ctx).freezes).frozen_reason_for_wallet(
            session, ex.wallet_id
        )
    assert any("signed-differs-from-intent" in r or "c6d10a0b" in r for r in rules), rules
    assert any(r.action == "freeze" and ex.wallet_id in (r.target or "") for r in responses), [
        (r.action, r.scope, r.target, r.status) for r in responses
    ]
    assert frozen is not None
    del monitor
