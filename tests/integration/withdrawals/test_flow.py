"""A withdrawal from request to broadcast on a real in-process chain, on both databases."""

from __future__ import annotations

from dataclasses import replace

import pytest

from kinko.core.errors import ApprovalError, Conflict, InputError
from kinko.screening.freshness import ScreeningConfig
from kinko.screening.model import ListName
from kinko.screening.service import ScreeningService
from kinko.withdrawals.records import WithdrawalView
from kinko.withdrawals.service import WithdrawalRequest, WithdrawalService
from kinko.withdrawals.states import State
from tests.integration.withdrawals.exchange import RECIPIENT, SANCTIONED, Exchange

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def request(ex: Exchange, amount: str, key: str, **extra: str) -> WithdrawalView:
    return ex.withdrawals.request(
        WithdrawalRequest(asset="ETH", amount=amount, destination=RECIPIENT.lower(), **extra),
        requester=ex.user("alice"),
        idempotency_key=key,
        channel="api",
    )


def test_small_hot_withdrawal_is_auto_approved_signed_and_broadcast(exchange: Exchange) -> None:
    ex = exchange
    before = ex.w3.eth.get_balance(RECIPIENT)
    wd = ex.withdrawals.request(
        WithdrawalRequest(asset="ETH", amount="0.5", destination=RECIPIENT.lower()),
        requester=ex.user("alice"),
        idempotency_key="k-small",
        channel="api",
    )
    # Approved by policy, then signed and broadcast by the service itself: nobody executes.
    assert wd.state is State.BROADCAST
    assert wd.intent is not None and wd.intent["destination"] == RECIPIENT  # decoded, checksummed
    assert wd.intent["amount"] == str(5 * 10**17)
    done = wd
    assert done.txid is not None
    receipt = ex.w3.eth.wait_for_transaction_receipt(done.txid)
    assert receipt["status"] == 1
    assert ex.w3.eth.get_balance(RECIPIENT) - before == 5 * 10**17
    # Resuming a broadcast withdrawal does nothing more.
    assert ex.executor.execute(wd.id).txid == done.txid


def test_quorum_of_webauthn_approvals_over_the_digest(exchange: Exchange) -> None:
    ex = exchange
    wd = ex.withdrawals.request(
        WithdrawalRequest(asset="ETH", amount="2", destination=RECIPIENT),
        requester=ex.user("alice"),
        idempotency_key="k-two",
        channel="api",
    )
    assert wd.state is State.PENDING_APPROVAL and wd.digest is not None
    assert wd.decision is not None and wd.decision["required_approvals"] == 2
    # The requester cannot approve, even with a valid assertion of their own.
    with pytest.raises(ApprovalError, match="cannot approve"):
        ex.approvals.approve(
            wd.id, approver=ex.user("alice"), assertion=ex.assert_digest("alice", wd.digest)
        )
    # An assertion over another digest, or over this digest alone, is refused.
    for signed in ("00" * 32, wd.digest):
        with pytest.raises(ApprovalError, match="did not issue to this approver"):
            ex.approvals.approve(
                wd.id, approver=ex.user("bob"), assertion=ex.sign("bob", bytes.fromhex(signed))
            )
    # An auditor is not eligible.
    with pytest.raises(ApprovalError, match="eligible"):
        ex.approvals.approve(
            wd.id, approver=ex.user("dave"), assertion=ex.assert_digest("dave", wd.digest)
        )
    first = ex.approvals.approve(
        wd.id, approver=ex.user("bob"), assertion=ex.assert_digest("bob", wd.digest)
    )
    assert first.state is State.PENDING_APPROVAL
    with pytest.raises(ApprovalError, match="distinct people"):
        ex.approvals.approve(
            wd.id, approver=ex.user("bob"), assertion=ex.assert_digest("bob", wd.digest)
        )
    second = ex.approvals.approve(
        wd.id, approver=ex.user("carol"), assertion=ex.assert_digest("carol", wd.digest)
    )
    # The approval that completes the quorum has it signed and broadcast.
    assert second.state is State.BROADCAST
    assert ex.w3.eth.wait_for_transaction_receipt(second.txid)["status"] == 1


def test_the_refusal_a_page_shows_is_the_one_the_service_gives(exchange: Exchange) -> None:
    """`ApprovalService.refusal` answers, without writing anything, exactly what
    approving would refuse: the requester, someone not eligible, a second vote by the
    same person, a withdrawal no longer pending; None for whoever may approve."""
    ex = exchange
    wd = request(ex, "2", "k-refusal")
    assert wd.digest is not None

    def refusal(name: str) -> str | None:
        with ex.ctx.db.transaction() as session:
            return ex.approvals.refusal(session, wd.id, approver=ex.user(name))

    for name in ("alice", "dave"):  # the requester, an auditor
        said = refusal(name)
        with pytest.raises(ApprovalError) as refused:
            ex.approvals.approve(
                wd.id, approver=ex.user(name), assertion=ex.assert_digest(name, wd.digest)
            )
        assert said == refused.value.message
    assert refusal("bob") is None and refusal("carol") is None
    ex.approvals.approve(
        wd.id, approver=ex.user("bob"), assertion=ex.assert_digest("bob", wd.digest)
    )
    assert refusal("bob") is not None and "distinct people" in str(refusal("bob"))
    ex.approvals.reject(wd.id, approver=ex.user("carol"), reason="not today")
    assert refusal("carol") == f"withdrawal {wd.id} is denied, not pending approval"


def test_one_rejection_ends_the_request(exchange: Exchange) -> None:
    ex = exchange
    wd = request(ex, "3", "k-rej")
    denied = ex.approvals.reject(
        wd.id, approver=ex.user("bob"), reason="customer called: not theirs"
    )
    assert denied.state is State.DENIED
    with pytest.raises(Conflict, match="not pending"):
        ex.approvals.approve(
            denied.id,
            approver=ex.user("carol"),
            assertion=ex.assert_digest("carol", denied.digest or ""),
        )


def test_idempotency_key(exchange: Exchange) -> None:
    ex = exchange
    first = request(ex, "2", "k-idem")
    again = request(ex, "2", "k-idem")
    assert again.id == first.id
    with pytest.raises(Conflict, match="different request body"):
        request(ex, "2.5", "k-idem")


def test_screening_hit_denies(exchange: Exchange) -> None:
    wd = exchange.withdrawals.request(
        WithdrawalRequest(asset="ETH", amount="0.1", destination=SANCTIONED.lower()),
        requester=exchange.user("alice"),
        idempotency_key="k-hit",
        channel="api",
    )
    assert wd.state is State.DENIED
    assert wd.reason is not None and "sanctions" in wd.reason


def test_missing_list_holds_and_alerts(exchange: Exchange) -> None:
    ex = exchange
    strict = ScreeningService(
        ex.ctx, ScreeningConfig(required_address_lists=(ListName("ofac-sdn"),))
    )
    service = WithdrawalService(ex.ctx, replace(ex.withdrawals.ports, screener=strict))
    events: list[str] = []
    ex.ctx.bus.subscribe(lambda e: events.append(e.type))
    wd = service.request(
        WithdrawalRequest(asset="ETH", amount="0.1", destination=RECIPIENT),
        requester=ex.user("alice"),
        idempotency_key="k-stale",
        channel="api",
    )
    assert wd.state is State.HELD
    assert "withdrawal.held" in events


@pytest.mark.parametrize(
    ("field", "body"),
    [
        ("amount", {"amount": "0.1234567890123456789"}),
        ("amount", {"amount": "-1"}),
        ("address", {"destination": "0x5aaeb6053F3E94C9b9A09f33669435E7Ef1BeAed"}),
        ("asset", {"asset": "DOGE"}),
    ],
)
def test_bad_input_names_the_field(exchange: Exchange, field: str, body: dict[str, str]) -> None:
    values = {"asset": "ETH", "amount": "1", "destination": RECIPIENT, **body}
    with pytest.raises(InputError) as info:
        exchange.withdrawals.request(
            WithdrawalRequest(**values),
            requester=exchange.user("alice"),
            idempotency_key=f"k-bad-{field}",
            channel="api",
        )
    assert field in info.value.field
    assert exchange.withdrawals.list() == []


def test_monitor_hold_and_release(exchange: Exchange) -> None:
    ex = exchange
    wd = request(ex, "2", "k-hold")
    holds = ex.services.holds  # what the monitor's hold_withdrawal response acts through
    held = holds.hold(wd.id, reason="impossible travel for requester", actor="monitor")
    assert held.state is State.HELD
    assert holds.hold(wd.id, reason="again", actor="monitor").state is State.HELD
    with pytest.raises(Conflict, match="not pending approval"):
        ex.approvals.approve(
            wd.id, approver=ex.user("bob"), assertion=ex.assert_digest("bob", held.digest or "")
        )
    released = ex.withdrawals.release_hold(wd.id, actor="user:sec", reason="customer confirmed")
    assert released.state is State.PENDING_APPROVAL


def test_cloned_authenticator_is_refused(exchange: Exchange) -> None:
    ex = exchange
    original = ex.users["bob"][1]
    assert original is not None
    twin = original.clone()
    first = request(ex, "2", "k-clone-1")
    second = request(ex, "2", "k-clone-2")
    assert first.digest is not None and second.digest is not None
    ex.approvals.approve(
        first.id, approver=ex.user("bob"), assertion=ex.assert_digest("bob", first.digest)
    )
    issued = ex.approvals.challenge(second.id, approver=ex.user("bob"))
    replayed = twin.assert_(challenge=issued.challenge, origin=ex.ctx.settings.webauthn_origin)
    with pytest.raises(ApprovalError, match="cloned authenticator"):
        ex.approvals.approve(second.id, approver=ex.user("bob"), assertion=replayed)
    assert ex.withdrawals.get(second.id).approvals == ()
