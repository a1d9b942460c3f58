"""The signer's independent check, replaying the DMM Bitcoin and Bybit patterns."""

from __future__ import annotations

import secrets
from dataclasses import replace
from datetime import timedelta

import pytest
from eth_abi.abi import encode as abi_encode

from kinko.audit.note import generate_signer
from kinko.chains.ethereum import calldata
from kinko.chains.ethereum import tx as txmod
from kinko.chains.ethereum.address import address_bytes
from kinko.core.clock import isoformat
from kinko.core.errors import ApprovalError, IntegrityError, KinkoError
from kinko.signer.bundle import ApprovalBundle, parse_bundle
from kinko.signer.checks import EnrolledCredential, VerifiedBundle, verify_bundle
from tests.unit.signer.forge import (
    ATTACKER,
    NOW,
    ORIGIN,
    RP_ID,
    TOKEN,
    Approver,
    Forge,
    adapter,
    eth_transfer,
    with_tx,
)


def check(
    forge: Forge,
    bundle: ApprovalBundle,
    *,
    online: dict[bytes, EnrolledCredential] | None = None,
    frozen: str | None = None,
    now_offset: timedelta = timedelta(0),
) -> VerifiedBundle:
    return verify_bundle(
        bundle,
        adapter=adapter(),
        enrolled_credentials=online,
        log_vkey=forge.vkey,
        now=NOW + now_offset,
        frozen=frozen,
        expected_rp_id=RP_ID,
        expected_origin=ORIGIN,
    )


@pytest.fixture
def bob() -> Approver:
    return Approver("user:bob", ["approver"])


@pytest.fixture
def carol() -> Approver:
    return Approver("user:carol", ["senior_approver"])


def approved(forge: Forge, *approvers: Approver) -> ApprovalBundle:
    request, decided = forge.start()
    answers = []
    for approver in approvers:
        index, response = forge.approve(approver)
        answers.append((approver, index, response))
    return forge.bundle(request, decided, answers)


def test_a_genuine_bundle_verifies_and_round_trips_through_json(
    bob: Approver, carol: Approver
) -> None:
    forge = Forge()
    bundle = parse_bundle(approved(forge, bob, carol).to_bytes())
    verified = check(forge, bundle)
    assert verified.approvers == ("user:bob", "user:carol")
    assert verified.requester == "user:alice"
    assert verified.intent.destination == adapter().decode(forge.unsigned_tx).destination
    assert verified.required_approvals == 2


def test_online_check_uses_enrolled_keys(bob: Approver, carol: Approver) -> None:
    forge = Forge()
    bundle = approved(forge, bob, carol)
    enrolled = {
        a.authenticator.credential_id: EnrolledCredential(
            a.authenticator.credential_id, a.user, a.authenticator.public_key_cose
        )
        for a in (bob, carol)
    }
    assert check(forge, bundle, online=enrolled).approvers == ("user:bob", "user:carol")
    del enrolled[carol.authenticator.credential_id]
    with pytest.raises(ApprovalError, match="not enrolled"):
        check(forge, bundle, online=enrolled)


# DMM Bitcoin: a legitimate withdrawal altered before signing ------------------------------


@pytest.mark.parametrize(
    "altered",
    [eth_transfer(destination=ATTACKER), eth_transfer(amount=4502 * 10**18)],
    ids=["destination", "amount"],
)
def test_altered_transaction_is_refused(bob: Approver, carol: Approver, altered: bytes) -> None:
    forge = Forge()
    bundle = approved(forge, bob, carol)
    with pytest.raises(IntegrityError, match="digest mismatch"):
        check(forge, with_tx(bundle, altered, consistent=False))
    # An attacker who also rewrites intent and digest is caught by the logged digest.
    with pytest.raises(IntegrityError, match="audit log recorded digest"):
        check(forge, with_tx(bundle, altered, consistent=True))


def test_intent_shown_to_approvers_must_match_the_bytes(bob: Approver, carol: Approver) -> None:
    forge = Forge()
    bundle = approved(forge, bob, carol)
    lying = replace(bundle, intent={**bundle.intent, "destination": ATTACKER})
    with pytest.raises(IntegrityError, match=r"decoded intent differs.*destination"):
        check(forge, lying)


def _upgrade_to(implementation: str) -> bytes:
    data = calldata.selector("upgradeTo(address)") + abi_encode(["address"], [implementation])
    return txmod.Eip1559Tx(
        chain_id=adapter().chain_id,
        nonce=0,
        max_priority_fee_per_gas=10**9,
        max_fee_per_gas=30 * 10**9,
        gas_limit=90000,
        to=address_bytes(TOKEN),
        value=0,
        data=data,
    ).unsigned_payload()


def test_bybit_transfer_swapped_for_upgrade_is_refused(bob: Approver, carol: Approver) -> None:
    forge = Forge()
    bundle = approved(forge, bob, carol)
    with pytest.raises(IntegrityError, match="digest mismatch"):
        check(forge, with_tx(bundle, _upgrade_to(ATTACKER), consistent=False))


def test_dangerous_call_is_refused_even_when_approved(bob: Approver, carol: Approver) -> None:
    forge = Forge(unsigned_tx=_upgrade_to(ATTACKER))
    with pytest.raises(IntegrityError, match="dangerous call"):
        check(forge, approved(forge, bob, carol))


# Approvals ------------------------------------------------------------------------------


def test_duplicated_approver_is_refused(bob: Approver) -> None:
    forge = Forge()
    request, decided = forge.start()
    first = forge.approve(bob)
    second = forge.approve(bob)
    bundle = forge.bundle(request, decided, [(bob, *first), (bob, *second)])
    with pytest.raises(ApprovalError, match="user:bob approved more than once"):
        check(forge, bundle)


def test_same_person_with_two_credentials_counts_once(bob: Approver) -> None:
    forge = Forge()
    bob_spare = Approver("user:bob", ["approver"])
    with pytest.raises(ApprovalError, match="distinct people"):
        check(forge, approved(forge, bob, bob_spare))


def test_approval_of_another_digest_is_refused(bob: Approver, carol: Approver) -> None:
    forge = Forge()
    request, decided = forge.start()
    good = forge.approve(bob)
    other = adapter().signing_digest(eth_transfer(nonce=7))
    nonce = secrets.token_bytes(32)
    tricked = forge.approve(
        carol, challenge=forge.challenge(carol, nonce, digest=other), nonce=nonce
    )
    bundle = forge.bundle(request, decided, [(bob, *good), (carol, *tricked)])
    with pytest.raises(ApprovalError, match="does not verify over the approval challenge"):
        check(forge, bundle)


def test_an_assertion_over_the_bare_digest_is_refused(bob: Approver, carol: Approver) -> None:
    """Bundle version 2's challenge (the digest alone) no longer counts."""
    forge = Forge()
    request, decided = forge.start()
    good = forge.approve(bob)
    bare = forge.approve(carol, challenge=forge.digest)
    bundle = forge.bundle(request, decided, [(bob, *good), (carol, *bare)])
    with pytest.raises(ApprovalError, match="does not verify over the approval challenge"):
        check(forge, bundle)


def test_an_approval_of_another_withdrawal_with_the_same_digest_is_refused(
    bob: Approver, carol: Approver
) -> None:
    """The replay: bob's assertion for withdrawal wd_old (same transaction, so the same
    digest) is logged for wd_new, as a fooled or compromised server would; the signer
    recomputes wd_new's challenge and refuses it."""
    old = Forge(withdrawal_id="wd_old")
    old.start()
    nonce = secrets.token_bytes(32)
    _, replayed = old.approve(bob, nonce=nonce)
    new = Forge(withdrawal_id="wd_new", skey=old.skey)
    assert new.digest == old.digest
    request, decided = new.start()
    logged = new.approve(bob, challenge=old.challenge(bob, nonce), nonce=nonce)
    fresh = new.approve(carol)
    bundle = new.bundle(request, decided, [(bob, logged[0], replayed), (carol, *fresh)])
    with pytest.raises(ApprovalError, match=r"approval by user:bob: .* withdrawal wd_new"):
        check(new, bundle)


def test_an_altered_withdrawal_id_or_expiry_is_refused(bob: Approver, carol: Approver) -> None:
    forge = Forge()
    bundle = approved(forge, bob, carol)
    with pytest.raises(IntegrityError, match=r"expected 'withdrawal\.requested' on 'wd_other'"):
        check(forge, replace(bundle, withdrawal_id="wd_other"))
    later = isoformat(forge.expires_at + timedelta(days=1))
    with pytest.raises(IntegrityError, match=r"approval expiry .* differs from the one the log"):
        check(forge, replace(bundle, expires_at=later))


def test_a_nonce_other_than_the_logged_one_is_refused(bob: Approver, carol: Approver) -> None:
    forge = Forge()
    bundle = approved(forge, bob, carol)
    swapped = replace(bundle.approvals[0], nonce=secrets.token_bytes(32))
    with pytest.raises(ApprovalError, match=r"does not match its audit entry \(.*nonce\)"):
        check(forge, replace(bundle, approvals=(swapped, bundle.approvals[1])))


def test_requester_cannot_approve(bob: Approver) -> None:
    forge = Forge()
    alice = Approver("user:alice", ["approver"])
    with pytest.raises(ApprovalError, match="user:alice requested this withdrawal"):
        check(forge, approved(forge, bob, alice))


def test_quorum_counts_distinct_approvers(bob: Approver) -> None:
    forge = Forge()
    with pytest.raises(ApprovalError, match=r"approved by 1/2 required approvers"):
        check(forge, approved(forge, bob))


def test_required_role_must_be_held(bob: Approver) -> None:
    forge = Forge(required_roles={"senior_approver": 1})
    dave = Approver("user:dave", ["approver"])
    with pytest.raises(ApprovalError, match="0/1 required approvers with role senior_approver"):
        check(forge, approved(forge, bob, dave))


def test_ineligible_role_is_refused(bob: Approver) -> None:
    forge = Forge()
    eve = Approver("user:eve", ["auditor"])
    with pytest.raises(ApprovalError, match="holds none of the roles eligible"):
        check(forge, approved(forge, bob, eve))


def test_substituted_credential_key_is_refused(bob: Approver, carol: Approver) -> None:
    forge = Forge()
    bundle = approved(forge, bob, carol)
    mallory = Approver("user:carol", ["senior_approver"])
    forged = replace(
        bundle,
        credentials=(
            bundle.credentials[0],
            replace(bundle.credentials[1], public_key_cose=mallory.authenticator.public_key_cose),
        ),
    )
    with pytest.raises(ApprovalError, match="not the one the log recorded"):
        check(forge, forged)


def test_expired_approvals_are_refused(bob: Approver, carol: Approver) -> None:
    forge = Forge()
    bundle = approved(forge, bob, carol)
    with pytest.raises(ApprovalError, match="expired"):
        check(forge, bundle, now_offset=timedelta(hours=1))


def test_frozen_wallet_is_refused(bob: Approver, carol: Approver) -> None:
    forge = Forge()
    with pytest.raises(ApprovalError, match="frozen: incident 42"):
        check(forge, approved(forge, bob, carol), frozen="incident 42")


# Audit proofs ---------------------------------------------------------------------------


def test_forged_checkpoint_is_refused(bob: Approver, carol: Approver) -> None:
    forge = Forge()
    request, decided = forge.start()
    answers = [(a, *forge.approve(a)) for a in (bob, carol)]
    other_key = generate_signer("kinko.example/audit")[0]
    bundle = forge.bundle(request, decided, answers, skey=other_key)
    with pytest.raises(IntegrityError, match="not signed by the known log key"):
        check(forge, bundle)


def test_entry_not_in_the_tree_is_refused(bob: Approver, carol: Approver) -> None:
    forge = Forge()
    bundle = approved(forge, bob, carol)
    proof = bundle.request_proof
    tampered = replace(
        bundle, request_proof=replace(proof, entry=proof.entry.replace(b"alice", b"zelda"))
    )
    with pytest.raises(IntegrityError, match="audit proof for the request"):
        check(forge, tampered)


def test_every_failure_is_a_kinko_error_with_a_reason(bob: Approver) -> None:
    forge = Forge()
    with pytest.raises(KinkoError) as info:
        check(forge, approved(forge, bob))
    assert info.value.code == "quorum_not_met"


@pytest.mark.parametrize("outcome", ["deny", "hold"])
def test_a_denied_or_held_decision_is_never_signed(
    bob: Approver, carol: Approver, outcome: str
) -> None:
    forge = Forge(outcome=outcome, required=0)
    with pytest.raises(ApprovalError, match=f"the policy decided '{outcome}'"):
        check(forge, approved(forge, bob, carol))


def test_auto_approval_needs_no_approvals() -> None:
    forge = Forge(outcome="allow", required=0)
    assert check(forge, approved(forge)).approvers == ()


def test_a_payment_to_a_burn_address_is_never_signed(bob: Approver, carol: Approver) -> None:
    forge = Forge(unsigned_tx=eth_transfer(destination="0x" + "00" * 20))
    with pytest.raises(IntegrityError, match=r"the transaction pays 0x0+ is the zero") as info:
        check(forge, approved(forge, bob, carol))
    assert info.value.code == "unspendable_destination"
