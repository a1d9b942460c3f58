"""Approvals are bound to their withdrawal (issue #13, attack 8), on both databases.

Bob's authenticator reports signature counter 0 on every assertion, as synced passkeys
do, so the sign counter cannot expose a replay. A withdrawal is approved by bob, then
rejected; the same transfer is requested again and, with the account nonce freed, hashes
to the same digest. Bob's old assertion must not count on the new withdrawal: not at the
server, and not at the signer or `kinko cosign` even if the server were fooled into
logging it.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import select

from kinko.core.errors import ApprovalError
from kinko.identity.softauthn import SoftAuthenticator
from kinko.signer.bundle import ACTION_APPROVAL
from kinko.signer.offline import cosign
from kinko.store.tables.audit import AuditEntryRow
from kinko.store.tables.withdrawals import ApprovalRow
from kinko.withdrawals.export import export_bundle
from kinko.withdrawals.records import WithdrawalView, approvals_of, load
from kinko.withdrawals.service import WithdrawalRequest
from kinko.withdrawals.states import State
from kinko.withdrawals.wiring import IdentityDirectory
from tests.integration.withdrawals.exchange import HOT_KEY, RECIPIENT, Exchange
from tests.support.services import services_of

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def synced_passkey(ex: Exchange, name: str) -> SoftAuthenticator:
    authenticator = ex.users[name][1]
    assert authenticator is not None
    authenticator.counter_in_use = False
    return authenticator


def request(ex: Exchange, key: str) -> WithdrawalView:
    wd = ex.withdrawals.request(
        WithdrawalRequest(asset="ETH", amount="2", destination=RECIPIENT),
        requester=ex.user("alice"),
        idempotency_key=key,
        channel="api",
    )
    assert wd.state is State.PENDING_APPROVAL and wd.digest is not None
    return wd


def approved_then_rejected(ex: Exchange) -> tuple[WithdrawalView, dict[str, Any]]:
    """Bob approves the first withdrawal (his assertion is what an attacker captures);
    carol rejects it, which frees its account nonce."""
    first = request(ex, "k-first")
    captured = ex.assertion_for("bob", first.id)
    ex.approvals.approve(first.id, approver=ex.user("bob"), assertion=captured)
    denied = ex.approvals.reject(first.id, approver=ex.user("carol"), reason="drill")
    assert denied.state is State.DENIED
    return first, captured


def test_an_old_approval_does_not_count_on_a_new_withdrawal_with_the_same_digest(
    exchange: Exchange,
) -> None:
    ex = exchange
    bob = synced_passkey(ex, "bob")
    first, captured = approved_then_rejected(ex)
    second = request(ex, "k-second")
    assert second.digest == first.digest  # same transfer, same account nonce
    assert bob.sign_count == 0
    with pytest.raises(ApprovalError, match="did not issue to this approver") as refused:
        ex.approvals.approve(second.id, approver=ex.user("bob"), assertion=captured)
    assert refused.value.code == "challenge_unknown"
    assert ex.withdrawals.get(second.id).approvals == ()
    # The refusal is audited like any refused approval.
    with ex.ctx.db.reading() as session:
        refused_for = session.execute(
            select(AuditEntryRow.subject).where(
                AuditEntryRow.action == "withdrawal.approval_refused"
            )
        ).scalars()
        assert list(refused_for) == [second.id]
    # A challenge issued to someone else, or a used one, does not count either.
    carols = ex.approvals.challenge(second.id, approver=ex.user("carol"))
    with pytest.raises(ApprovalError, match="did not issue to this approver"):
        ex.approvals.approve(
            second.id, approver=ex.user("bob"), assertion=ex.sign("bob", carols.challenge)
        )
    # Bob's passkey (counter still 0) approves the new withdrawal over its own challenge.
    fresh = ex.assertion_for("bob", second.id)
    assert ex.approvals.approve(second.id, approver=ex.user("bob"), assertion=fresh).approvals
    with pytest.raises(ApprovalError):
        ex.approvals.approve(second.id, approver=ex.user("carol"), assertion=fresh)


def test_a_replay_logged_by_a_fooled_server_is_refused_by_the_signer_and_cosign(
    exchange: Exchange,
) -> None:
    """As a server with a replay bug (or an insider with the database) would: bob's
    approval of the first withdrawal is logged for the second. Carol approves genuinely,
    the quorum is met in the store, and the signers refuse: they recompute the second
    withdrawal's challenge (its id, its expiry, the logged nonce)."""
    ex = exchange
    synced_passkey(ex, "bob")
    first, captured = approved_then_rejected(ex)
    second = request(ex, "k-second")
    with ex.ctx.db.transaction() as session:
        original = next(a for a in approvals_of(session, first.id) if a.verdict == "approve")
        logged = ex.ctx.audit.entry(session, original.audit_seq)
        details = json.loads(logged.entry)["details"]
        record = ex.ctx.audit.append(
            session,
            actor=original.approver,
            action=ACTION_APPROVAL,
            subject=second.id,
            details=details,
        )
        session.add(
            ApprovalRow(
                withdrawal_id=second.id,
                approver=original.approver,
                verdict="approve",
                binding="webauthn",
                digest=original.digest,
                credential_id=original.credential_id,
                assertion=dict(captured),
                roles=list(original.roles),
                audit_seq=record.seq,
                created_at=ex.ctx.clock.now(),
            )
        )
    balance = ex.w3.eth.get_balance(RECIPIENT)
    # The store was fooled: the quorum is met and the service hands it to the signer, which
    # recomputes the challenge and refuses; the withdrawal fails, nothing is signed.
    done = ex.approvals.approve(
        second.id, approver=ex.user("carol"), assertion=ex.assertion_for("carol", second.id)
    )
    assert done.state is State.FAILED
    assert done.reason is not None and "does not verify over the approval challenge" in done.reason
    with ex.ctx.db.transaction() as session:
        bundle = export_bundle(
            ex.ctx, session, IdentityDirectory(services_of(ex.ctx).identity), second.id
        )
    with pytest.raises(ApprovalError, match=f"does not verify .* withdrawal {second.id}"):
        cosign(
            bundle.to_bytes(),
            key=HOT_KEY,
            log_vkey=ex.vkey,
            now=ex.ctx.clock.now(),
            rp_id=ex.ctx.settings.webauthn_rp_id,
            origin=ex.ctx.settings.webauthn_origin,
        )
    assert ex.w3.eth.get_balance(RECIPIENT) == balance
    with ex.ctx.db.reading() as session:
        assert load(session, second.id).signed_tx is None
