"""The online signer and offline cosign refuse altered bundles; the online one also
freezes the wallet and raises a critical security event."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

import pytest

from kinko.chains.ethereum.adapter import EthereumAdapter, Fees, Transfer
from kinko.core.clock import isoformat
from kinko.core.errors import ApprovalError, IntegrityError, KinkoError
from kinko.core.events import SecurityEvent
from kinko.signer.bundle import ApprovalBundle
from kinko.signer.offline import cosign
from kinko.withdrawals.export import export_bundle
from kinko.withdrawals.service import WithdrawalRequest
from kinko.withdrawals.states import State
from kinko.withdrawals.wiring import IdentityDirectory, WalletFreezes
from tests.integration.withdrawals.exchange import HOT_KEY, RECIPIENT, Exchange
from tests.support.services import services_of

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")
ATTACKER = "0x" + "66" * 20


def approved_bundle(ex: Exchange) -> ApprovalBundle:
    wd = ex.withdrawals.request(
        WithdrawalRequest(asset="ETH", amount="2", destination=RECIPIENT),
        requester=ex.user("alice"),
        idempotency_key="k-sign",
        channel="api",
    )
    assert wd.digest is not None
    # Approved where no node is configured: nothing executes it, and the bundle is the
    # test's to hand to the signers.
    offline = services_of(ex.ctx).stack_on()
    for name in ("bob", "carol"):
        view = offline.approvals.approve(
            wd.id, approver=ex.user(name), assertion=ex.assert_digest(name, wd.digest)
        )
    assert view.state is State.APPROVED
    with ex.ctx.db.transaction() as session:
        return export_bundle(
            ex.ctx, session, IdentityDirectory(services_of(ex.ctx).identity), wd.id
        )


def altered(ex: Exchange, bundle: ApprovalBundle, **change: object) -> ApprovalBundle:
    adapter = EthereumAdapter("devnet")
    intent = adapter.decode(bundle.unsigned_tx)
    fields = {"destination": intent.destination, "amount": intent.amount, **change}
    tx = adapter.build(
        Transfer(
            source=ex.w3.eth.accounts[0],
            destination=str(fields["destination"]),
            amount=int(str(fields["amount"])),
            nonce=int(intent.details["nonce"]),
            fees=Fees(20 * 10**9, 10**9, 21000),
        )
    )
    return replace(
        bundle,
        unsigned_tx=tx,
        intent=adapter.decode(tx).to_json(),
        digest=adapter.signing_digest(tx),
    )


def cosign_now(ex: Exchange, bundle: ApprovalBundle) -> bytes:
    return cosign(
        bundle.to_bytes(),
        key=HOT_KEY,
        log_vkey=ex.vkey,
        now=ex.ctx.clock.now(),
        rp_id=ex.ctx.settings.webauthn_rp_id,
        origin=ex.ctx.settings.webauthn_origin,
    ).signed_tx


def test_genuine_bundle_is_cosigned_offline(exchange: Exchange) -> None:
    bundle = approved_bundle(exchange)
    signed = cosign_now(exchange, bundle)
    intent = EthereumAdapter("devnet").decode(signed)
    assert (intent.destination, intent.amount) == (RECIPIENT, 2 * 10**18)
    assert intent.source == exchange.w3.eth.accounts[0]


@pytest.mark.parametrize(
    "tamper",
    [
        "destination",
        "amount",
        "duplicate_approver",
        "forged_checkpoint",
        "requester_approval",
        "withdrawal_id",
        "expiry",
    ],
)
def test_online_and_offline_signers_refuse(exchange: Exchange, tamper: str) -> None:
    ex = exchange
    bundle = approved_bundle(ex)
    if tamper == "destination":
        bad = altered(ex, bundle, destination=ATTACKER)
    elif tamper == "amount":
        bad = altered(ex, bundle, amount=4502 * 10**18)
    elif tamper == "duplicate_approver":
        bad = replace(bundle, approvals=(bundle.approvals[0], bundle.approvals[0]))
    elif tamper == "forged_checkpoint":
        note = bundle.checkpoint.replace("\n\n", "\n\n", 1)
        lines = note.split("\n")
        lines[1] = str(int(lines[1]) + 1)
        bad = replace(bundle, checkpoint="\n".join(lines))
    elif tamper == "withdrawal_id":
        bad = replace(bundle, withdrawal_id="wd_" + "0" * 26)
    elif tamper == "expiry":
        later = datetime.fromisoformat(bundle.expires_at) + timedelta(days=1)
        bad = replace(bundle, expires_at=isoformat(later))
    else:
        bad = replace(
            bundle,
            approvals=(
                replace(bundle.approvals[0], approver=ex.user("alice")),
                bundle.approvals[1],
            ),
        )
    with pytest.raises((IntegrityError, ApprovalError)) as offline:
        cosign_now(ex, bad)
    events: list[SecurityEvent] = []
    ex.ctx.bus.subscribe(events.append)
    with pytest.raises(KinkoError) as online:
        ex.signer.sign(bad)
    assert online.value.message == offline.value.message
    assert [e.severity for e in events if e.type == "signer.refused"] == ["critical"]
    with ex.ctx.db.transaction() as session:
        assert (
            WalletFreezes(services_of(ex.ctx).freezes).frozen_reason_for_wallet(
                session, ex.wallet_id
            )
            is not None
        )
    # The genuine bundle is now refused too: the wallet is frozen until two admins release it.
    with pytest.raises(ApprovalError, match="frozen"):
        ex.signer.sign(bundle)


def test_executor_marks_a_refused_withdrawal_failed(exchange: Exchange) -> None:
    ex = exchange
    bundle = approved_bundle(ex)
    with ex.ctx.db.transaction() as session:
        WalletFreezes(services_of(ex.ctx).freezes).freeze_wallet(
            session, ex.wallet_id, reason="drill", actor="user:sec"
        )
    with pytest.raises(ApprovalError, match="frozen"):
        ex.executor.execute(bundle.withdrawal_id)
    assert ex.withdrawals.get(bundle.withdrawal_id).state is State.FAILED


def test_auto_approved_bundle_is_for_the_online_hot_signer_only(exchange: Exchange) -> None:
    ex = exchange
    # Allowed by policy where no node is configured: approved, not executed.
    wd = (
        services_of(ex.ctx)
        .stack_on()
        .withdrawals.request(
            WithdrawalRequest(asset="ETH", amount="0.5", destination=RECIPIENT),
            requester=ex.user("alice"),
            idempotency_key="k-auto",
            channel="api",
        )
    )
    assert wd.state is State.APPROVED
    with ex.ctx.db.transaction() as session:
        bundle = export_bundle(
            ex.ctx, session, IdentityDirectory(services_of(ex.ctx).identity), wd.id
        )
    assert bundle.approvals == ()
    with pytest.raises(ApprovalError, match=r"offline .* keys sign only approved quorums"):
        cosign_now(ex, bundle)
    assert ex.signer.check(bundle).required_approvals == 0  # hot wallet: allowed online


def test_online_signer_refuses_the_bundle_of_a_cancelled_withdrawal(exchange: Exchange) -> None:
    bundle = approved_bundle(exchange)
    exchange.withdrawals.cancel(bundle.withdrawal_id, actor="user:ops", reason="customer called")
    with pytest.raises(ApprovalError, match="is cancelled, not approved"):
        exchange.signer.sign(bundle)


def test_a_refusal_naming_every_difference_still_freezes(exchange: Exchange) -> None:
    """Another transaction swapped in under the approved intent and digest: the refusal
    names every differing field (longer than a freeze's reason may be), and the wallet is
    frozen all the same, on both databases; the whole message is in the audit log."""
    ex = exchange
    bundle = approved_bundle(ex)
    swapped = altered(ex, bundle, destination=ATTACKER).unsigned_tx
    with pytest.raises(IntegrityError) as refused:
        ex.signer.sign(replace(bundle, unsigned_tx=swapped))
    assert len(refused.value.message) > 1000
    with ex.ctx.db.transaction() as session:
        reason = WalletFreezes(services_of(ex.ctx).freezes).frozen_reason_for_wallet(
            session, ex.wallet_id
        )
    assert reason is not None and "whole reason in the audit log" in reason
