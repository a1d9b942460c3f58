"""Signing follows approval inside the withdrawal services' own flow (#14): the approval
that completes the quorum, or a request policy allows, is signed and broadcast without any
caller asking for it (no `settle`, no `execute`), through the services, the API and the
CLI; a refused signing still fails the withdrawal, freezes the wallet and alerts.
Both databases, a real in-process Ethereum chain (eth-tester)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select, update

from kinko.chains.ethereum.adapter import EthereumAdapter, Fees, Transfer
from kinko.core.clock import FixedClock
from kinko.core.errors import ApprovalError
from kinko.core.events import SecurityEvent
from kinko.monitor.factory import start_monitor
from kinko.store.tables.monitor import AlertRow
from kinko.store.tables.withdrawals import WithdrawalRow
from kinko.withdrawals.approvals import ApprovalService
from kinko.withdrawals.service import WithdrawalRequest
from kinko.withdrawals.states import State
from kinko.withdrawals.wiring import WalletFreezes
from tests.integration.signer.test_signer import ATTACKER
from tests.integration.withdrawals.exchange import RECIPIENT, Exchange
from tests.integration.withdrawals.test_execute import audit_actions, online_stack
from tests.support.cli import json_out, kinko, narrow_cli
from tests.support.cli_api import as_person, route_cli_to_api
from tests.support.services import services_of

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def body(amount: str) -> WithdrawalRequest:
    return WithdrawalRequest(asset="ETH", amount=amount, destination=RECIPIENT)


def test_the_quorum_completing_approval_signs_and_broadcasts(exchange: Exchange) -> None:
    ex = exchange
    stack = online_stack(ex)
    before = ex.w3.eth.get_balance(RECIPIENT)
    wd = stack.withdrawals.request(
        body("2"), requester=ex.user("alice"), idempotency_key="k-q", channel="api"
    )
    assert wd.state is State.PENDING_APPROVAL and wd.digest is not None
    first = stack.approvals.approve(
        wd.id, approver=ex.user("bob"), assertion=ex.assert_digest("bob", wd.digest)
    )
    assert first.state is State.PENDING_APPROVAL and first.txid is None
    done = stack.approvals.approve(
        wd.id, approver=ex.user("carol"), assertion=ex.assert_digest("carol", wd.digest)
    )
    assert done.state is State.BROADCAST and done.txid
    assert ex.w3.eth.wait_for_transaction_receipt(done.txid)["status"] == 1
    assert ex.w3.eth.get_balance(RECIPIENT) - before == 2 * 10**18
    actions = audit_actions(ex, wd.id)
    assert actions.count("signer.signed") == 1
    assert actions[-3:] == ["signer.signed", "withdrawal.signed", "withdrawal.broadcast"]
    # The signer was asked only after the approval that reached the quorum committed.
    assert actions.index("withdrawal.approved") < actions.index("signer.signed")


def test_a_request_policy_allows_on_a_hot_wallet_is_broadcast(exchange: Exchange) -> None:
    ex = exchange
    stack = online_stack(ex)
    wd = stack.withdrawals.request(
        body("0.5"), requester=ex.user("alice"), idempotency_key="k-a", channel="api"
    )
    assert wd.state is State.BROADCAST and wd.txid
    assert ex.w3.eth.wait_for_transaction_receipt(wd.txid)["status"] == 1
    # The same request again (same key) answers it as it is: nothing is signed twice.
    again = stack.withdrawals.request(
        body("0.5"), requester=ex.user("alice"), idempotency_key="k-a", channel="api"
    )
    assert (again.state, again.txid) == (State.BROADCAST, wd.txid)
    assert audit_actions(ex, wd.id).count("signer.signed") == 1


def test_through_the_cli_nobody_executes(
    exchange: Exchange, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """`kinko withdraw request` and `approve` as people (through the API): the answer is
    already broadcast; nobody runs `kinko withdraw execute`."""
    ex = exchange
    assert isinstance(ex.ctx.clock, FixedClock)
    ex.ctx.clock.set(datetime.now(UTC))  # the CLI judges expiry by the real clock
    route_cli_to_api(ex.ctx, monkeypatch, tmp_path / "config", withdrawal_stack=online_stack(ex))
    cli = narrow_cli(ex.ctx, monkeypatch)
    alice = as_person(ex.ctx, "alice")
    ask = ["withdraw", "request", "--asset", "ETH", "--to", RECIPIENT, "--json"]
    small = kinko(cli, *ask, "--amount", "0.5", env=alice)
    assert small.exit_code == 0, small.output
    assert json_out(small)["state"] == "broadcast"
    assert ex.w3.eth.wait_for_transaction_receipt(json_out(small)["txid"])["status"] == 1

    big = kinko(cli, *ask, "--amount", "2", env=alice)
    assert big.exit_code == 0, big.output
    wd = json_out(big)
    assert wd["state"] == "pending_approval"
    assertion = tmp_path / "assertion.json"
    answers = []
    for name in ("bob", "carol"):
        assertion.write_text(json.dumps(ex.assert_digest(name, wd["digest"])))
        approve = ["withdraw", "approve", wd["id"], "--assertion", str(assertion), "--json"]
        result = kinko(cli, *approve, env=as_person(ex.ctx, name))
        assert result.exit_code == 0, result.output
        answers.append(json_out(result))
    assert answers[0]["state"] == "pending_approval"
    assert answers[1]["state"] == "broadcast" and answers[1]["txid"]
    assert ex.w3.eth.wait_for_transaction_receipt(answers[1]["txid"])["status"] == 1
    assert audit_actions(ex, wd["id"]).count("signer.signed") == 1


def _swap(ex: Exchange, withdrawal_id: str, nonce: int) -> None:
    """An insider at the database swaps the unsigned transaction for one paying the
    attacker (same nonce and fees); the recorded digest and intent stay (DMM Bitcoin)."""
    swapped = EthereumAdapter("devnet").build(
        Transfer(
            source=ex.w3.eth.accounts[0],
            destination=ATTACKER,
            amount=2 * 10**18,
            nonce=nonce,
            fees=Fees(20 * 10**9, 10**9, 21_000),
        )
    )
    with ex.ctx.db.transaction() as session:
        session.execute(
            update(WithdrawalRow)
            .where(WithdrawalRow.id == withdrawal_id)
            .values(unsigned_tx=swapped)
        )


def _frozen_and_alerted(ex: Exchange) -> tuple[str | None, set[str]]:
    with ex.ctx.db.transaction() as session:
        frozen = WalletFreezes(services_of(ex.ctx).freezes).frozen_reason_for_wallet(
            session, ex.wallet_id
        )
        rules = set(session.execute(select(AlertRow.rule_id)).scalars())
    return frozen, rules


def test_a_transaction_swapped_while_approvals_are_collected_takes_no_more_approvals(
    exchange: Exchange,
) -> None:
    """The unsigned transaction is swapped in the database between two approvals: the
    next approval is refused before it is counted (the bytes no longer have the recorded
    digest), audited as such, the monitor alerts and freezes the wallet, nothing is sent."""
    ex = exchange
    start_monitor(ex.ctx)
    stack = online_stack(ex)
    wd = stack.withdrawals.request(
        body("2"), requester=ex.user("alice"), idempotency_key="k-a", channel="api"
    )
    assert wd.digest is not None and wd.intent is not None
    stack.approvals.approve(
        wd.id, approver=ex.user("bob"), assertion=ex.assert_digest("bob", wd.digest)
    )
    _swap(ex, wd.id, int(wd.intent["details"]["nonce"]))
    with ex.ctx.db.reading() as session:
        why_not = stack.approvals.refusal(session, wd.id, approver=ex.user("carol"))
    assert why_not is not None and "changed after Kinko built it" in why_not
    with pytest.raises(ApprovalError) as refused:
        stack.approvals.approve(
            wd.id, approver=ex.user("carol"), assertion=ex.assert_digest("carol", wd.digest)
        )
    assert refused.value.code == "transaction_altered"
    shown = stack.withdrawals.as_signed(wd.id)
    assert shown is not None and shown.intent is not None
    assert shown.intent["destination"].lower() == ATTACKER.lower()  # what the bytes do
    assert stack.withdrawals.get(wd.id).state is State.PENDING_APPROVAL
    assert "withdrawal.approval_refused" in audit_actions(ex, wd.id)
    frozen, rules = _frozen_and_alerted(ex)
    assert frozen is not None
    assert "kinko-signed-differs-from-intent" in rules, rules
    assert ex.w3.eth.get_balance(ATTACKER) == 0


def test_a_swap_with_a_recorded_digest_no_comparison_takes_is_refused_and_audited(
    exchange: Exchange,
) -> None:
    """The insider also writes a digest hmac.compare_digest cannot compare (non-ASCII
    text): that is a swap like any other — refused, audited, the wallet frozen — not an
    internal error that records nothing."""
    ex = exchange
    stack = online_stack(ex)
    wd = stack.withdrawals.request(
        body("2"), requester=ex.user("alice"), idempotency_key="k-a", channel="api"
    )
    assert wd.digest is not None and wd.intent is not None
    _swap(ex, wd.id, int(wd.intent["details"]["nonce"]))
    with ex.ctx.db.transaction() as session:
        session.execute(
            update(WithdrawalRow).where(WithdrawalRow.id == wd.id).values(digest="\u00e9" * 64)
        )
    with pytest.raises(ApprovalError) as refused:
        stack.approvals.approve(
            wd.id, approver=ex.user("bob"), assertion=ex.assert_digest("bob", wd.digest)
        )
    assert refused.value.code == "transaction_altered"
    assert "withdrawal.approval_refused" in audit_actions(ex, wd.id)
    assert _frozen_and_alerted(ex)[0] is not None


def test_a_refused_signing_fails_freezes_and_alerts(exchange: Exchange) -> None:
    """The unsigned transaction is swapped after the quorum was reached and before the
    signer is asked (approvals collected by a service that does not execute, as for
    `kinko cosign`): the signer re-checks the bytes against the approved digest and
    refuses: the withdrawal fails, the wallet is frozen, the monitor alerts, nothing is
    sent."""
    ex = exchange
    start_monitor(ex.ctx)
    events: list[SecurityEvent] = []
    ex.ctx.bus.subscribe(events.append)
    stack = online_stack(ex)
    collecting = ApprovalService(ex.ctx, stack.approvals.ports, executor=None)
    wd = stack.withdrawals.request(
        body("2"), requester=ex.user("alice"), idempotency_key="k-r", channel="api"
    )
    assert wd.digest is not None and wd.intent is not None
    for name in ("bob", "carol"):
        approved = collecting.approve(
            wd.id, approver=ex.user(name), assertion=ex.assert_digest(name, wd.digest)
        )
    assert approved.state is State.APPROVED
    _swap(ex, wd.id, int(wd.intent["details"]["nonce"]))
    assert stack.approvals.executor is not None
    done = stack.approvals.executor.after_approval(approved)
    assert done.state is State.FAILED and done.txid is None
    assert done.reason
    actions = audit_actions(ex, wd.id)
    assert "signer.refused" in actions and "signer.signed" not in actions
    frozen, rules = _frozen_and_alerted(ex)
    assert frozen is not None and "signer refused" in frozen
    (refused,) = [e for e in events if e.type == "signer.refused"]
    assert (refused.severity, refused.destination) == ("critical", ATTACKER)
    assert any("signed-differs-from-intent" in rule for rule in rules), rules
    assert ex.w3.eth.get_balance(ATTACKER) == 0
    assert ex.w3.eth.get_transaction_count(ex.w3.eth.accounts[0], "pending") == int(
        wd.intent["details"]["nonce"]
    )


def test_a_digest_rewritten_to_no_digest_after_the_quorum_is_recorded_and_freezes(
    exchange: Exchange,
) -> None:
    """After the quorum, the record's digest is overwritten with text that is no digest:
    no bundle can be made for the signer, and that is a refusal like the signer's — the
    withdrawal fails, the refusal is audited (withdrawal.bundle_refused), the wallet is
    frozen — not an unrecorded ValueError."""
    ex = exchange
    stack = online_stack(ex)
    collecting = ApprovalService(ex.ctx, stack.approvals.ports, executor=None)
    wd = stack.withdrawals.request(
        body("2"), requester=ex.user("alice"), idempotency_key="k-nd", channel="api"
    )
    assert wd.digest is not None
    for name in ("bob", "carol"):
        approved = collecting.approve(
            wd.id, approver=ex.user(name), assertion=ex.assert_digest(name, wd.digest)
        )
    with ex.ctx.db.transaction() as session:
        session.execute(
            update(WithdrawalRow).where(WithdrawalRow.id == wd.id).values(digest="ünhex")
        )
    assert stack.approvals.executor is not None
    done = stack.approvals.executor.after_approval(approved)
    assert done.state is State.FAILED and done.txid is None
    assert "withdrawal.bundle_refused" in audit_actions(ex, wd.id)
    frozen, _ = _frozen_and_alerted(ex)
    assert frozen is not None and wd.id in frozen


def test_a_record_with_its_bytes_gone_and_a_digest_no_comparison_takes_is_not_exported(
    exchange: Exchange,
) -> None:
    """The bytes deleted and the digest overwritten with non-ASCII text: the export's
    check against the decision's audit entry refuses it (digest_mismatch), audited and
    frozen — not a TypeError from the comparison."""
    from kinko.core.errors import IntegrityError
    from kinko.withdrawals.export import checked_export

    ex = exchange
    stack = online_stack(ex)
    wd = stack.withdrawals.request(
        body("2"), requester=ex.user("alice"), idempotency_key="k-gone", channel="api"
    )
    with ex.ctx.db.transaction() as session:
        session.execute(
            update(WithdrawalRow)
            .where(WithdrawalRow.id == wd.id)
            .values(unsigned_tx=None, digest="ü" * 64)
        )
    with pytest.raises(IntegrityError) as refused:
        checked_export(ex.ctx, stack.ports, wd.id, actor="user:ops")
    assert refused.value.code == "digest_mismatch"
    assert "withdrawal.bundle_refused" in audit_actions(ex, wd.id)
    frozen, _ = _frozen_and_alerted(ex)
    assert frozen is not None
