"""The signer's independent check of an approval bundle (pure; python-tuf style).

`verify_bundle` takes everything as values, including `now`, and either returns a
`VerifiedBundle` or raises, naming what failed. It trusts only: the unsigned transaction's
bytes (decoded here, by the chain adapter), the log's verifier key, and — online — the
enrolled credentials. Everything else in the bundle (intent, digest, policy, roles,
requester) is compared against those or against audit entries proven to be in a checkpoint
signed by the log key.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from kinko.chains.base import CallKind, ChainAdapter, Intent
from kinko.chains.destinations import CODE as UNSPENDABLE
from kinko.chains.destinations import unspendable_payment
from kinko.core.clock import isoformat, utc
from kinko.core.errors import ApprovalError, IntegrityError, KinkoError
from kinko.signer.attestation import BINDING_TOTP, BINDING_WEBAUTHN, attestation_valid
from kinko.signer.binding import approval_challenge
from kinko.signer.bundle import (
    ACTION_APPROVAL,
    ACTION_DECIDED,
    ACTION_REQUESTED,
    ApprovalBundle,
    AuditProof,
    BundleApproval,
    b64url,
)
from kinko.signer.logproofs import TrustedCheckpoint, verify_checkpoint_note, verify_entry_included
from kinko.signer.quorum import assertion_json, check_logged_quorum, verify_approval_assertion


@dataclass(frozen=True, slots=True)
class EnrolledCredential:
    """A credential the signer trusts: from the identity store online, from the bundle
    offline (then bound by the key hash in a proven audit entry)."""

    credential_id: bytes
    user: str
    public_key_cose: bytes


@dataclass(frozen=True, slots=True)
class VerifiedBundle:
    bundle: ApprovalBundle
    intent: Intent
    digest: bytes
    requester: str
    approvers: tuple[str, ...]
    required_approvals: int
    checkpoint_size: int
    server_attested: tuple[str, ...] = ()  # approvers bound by `totp_server_attested`


def key_fingerprint(public_key_cose: bytes) -> str:
    return hashlib.sha256(public_key_cose).hexdigest()


def verify_bundle(
    bundle: ApprovalBundle,
    *,
    adapter: ChainAdapter,
    enrolled_credentials: Mapping[bytes, EnrolledCredential] | None,
    log_vkey: str,
    now: datetime,
    frozen: str | None,
    expected_rp_id: str,
    expected_origin: str,
    attestation_key: bytes | None = None,
    accept_server_attested: bool = False,
) -> VerifiedBundle:
    """Run every check the signer makes before it signs. Raises on the first failure.

    A `totp_server_attested` approval is verified with `attestation_key` (the server's
    secret key, online); without it, it is refused unless `accept_server_attested` (the
    offline signer's explicit, unsafe opt-in: only its audit entry is then checked).

    `enrolled_credentials` None means offline: the bundle's own credential list is used,
    but each key must match the fingerprint its proven approval entry recorded.
    `frozen` is the reason the wallet is frozen (online), or None.
    """
    intent, digest = _decode_and_compare(bundle, adapter)
    if frozen is not None:
        raise ApprovalError(f"wallet {bundle.wallet_id} is frozen: {frozen}", code="frozen")
    checkpoint = verify_checkpoint_note(bundle.checkpoint, log_vkey)
    requester = _requester(bundle, checkpoint)
    decision = _decision(bundle, checkpoint, digest)
    logged_expiry = decision.get("expires_at")
    expires_at = _time(logged_expiry, "decision entry expires_at")
    if not isinstance(logged_expiry, str) or bundle.expires_at != logged_expiry:
        raise IntegrityError(
            f"the bundle's approval expiry {bundle.expires_at!r} differs from the one the log "
            f"recorded ({logged_expiry!r}): the approvals sign the logged one",
            code="expiry_mismatch",
        )
    if utc(now) >= expires_at:
        raise ApprovalError(
            f"the approvals expired at {isoformat(expires_at)}; request new approvals",
            code="approval_expired",
        )
    credentials = enrolled_credentials
    if credentials is None:
        credentials = {
            c.credential_id: EnrolledCredential(c.credential_id, c.user, c.public_key_cose)
            for c in bundle.credentials
        }
    roles_by_approver: dict[str, frozenset[str]] = {}
    seen_credentials: set[bytes] = set()
    seen_nonces: set[bytes] = set()
    server_attested: list[str] = []
    for approval in bundle.approvals:
        if approval.approver == requester:
            raise ApprovalError(
                f"{requester} requested this withdrawal and cannot approve it (four eyes)",
                code="requester_approved",
            )
        if approval.approver in roles_by_approver or approval.credential_id in seen_credentials:
            raise ApprovalError(
                f"{approval.approver} approved more than once; approvals must come from "
                "distinct people",
                code="duplicate_approver",
            )
        if approval.binding == BINDING_TOTP:
            server_attested.append(approval.approver)
            roles_by_approver[approval.approver] = _verify_attested(
                bundle,
                approval,
                checkpoint,
                digest,
                key=attestation_key,
                accept_unverified=accept_server_attested,
            )
            continue
        if approval.nonce in seen_nonces:
            raise ApprovalError(
                f"approval by {approval.approver} reuses another approval's challenge nonce",
                code="nonce_reused",
            )
        seen_credentials.add(approval.credential_id)
        seen_nonces.add(approval.nonce)
        roles_by_approver[approval.approver] = _verify_approval(
            bundle,
            approval,
            checkpoint,
            digest,
            credentials,
            expires_at=logged_expiry,
            expected_rp_id=expected_rp_id,
            expected_origin=expected_origin,
        )
    required = check_logged_quorum(decision, roles_by_approver)
    return VerifiedBundle(
        bundle=bundle,
        intent=intent,
        digest=digest,
        requester=requester,
        approvers=tuple(roles_by_approver),
        required_approvals=required,
        checkpoint_size=checkpoint.size,
        server_attested=tuple(server_attested),
    )


def _decode_and_compare(bundle: ApprovalBundle, adapter: ChainAdapter) -> tuple[Intent, bytes]:
    """Re-derive intent and digest from the bytes; the bundle's own claims must match."""
    try:
        intent = adapter.decode(bundle.unsigned_tx)
        digest = adapter.signing_digest(bundle.unsigned_tx)
    except KinkoError as exc:
        raise IntegrityError(f"the unsigned transaction does not decode: {exc.message}") from exc
    if (intent.chain, intent.network) != (bundle.chain, bundle.network):
        raise IntegrityError(
            f"the transaction is for {intent.chain}/{intent.network}, "
            f"the bundle says {bundle.chain}/{bundle.network}"
        )
    differs = _intent_differences(intent.to_json(), bundle.intent)
    if not hmac.compare_digest(digest, bundle.digest):
        raise IntegrityError(
            f"digest mismatch: the unsigned transaction hashes to {digest.hex()}, "
            f"the bundle claims {bundle.digest.hex()}"
            + (f"; decoded intent differs from the bundle's: {differs}" if differs else ""),
            code="digest_mismatch",
        )
    if differs:
        raise IntegrityError(
            f"decoded intent differs from the bundle's: {differs}", code="intent_mismatch"
        )
    burnt = unspendable_payment(intent)
    if burnt is not None:  # never signed, whatever was approved
        raise IntegrityError(f"the transaction pays {burnt}", code=UNSPENDABLE)
    if intent.call_kind is CallKind.DANGEROUS:
        raise IntegrityError(
            f"the transaction is a dangerous call ({dict(intent.details)}); the signer never "
            "signs upgrades, delegatecalls or owner changes",
            code="dangerous_call",
        )
    return intent, digest


def _intent_differences(decoded: Mapping[str, Any], claimed: Mapping[str, Any]) -> str:
    """The intent fields that differ, each with both values ('' if none differ)."""
    differing = sorted(k for k in set(decoded) | set(claimed) if decoded.get(k) != claimed.get(k))
    return ", ".join(
        f"{k} (transaction: {decoded.get(k)!r}, bundle: {claimed.get(k)!r})" for k in differing
    )


def _entry(
    checkpoint: TrustedCheckpoint, proof: AuditProof, what: str, action: str, subject: str
) -> Mapping[str, Any]:
    verify_entry_included(checkpoint, proof, what)
    try:
        entry = json.loads(proof.entry)
    except ValueError:
        raise IntegrityError(f"audit entry for {what} is not JSON") from None
    if not isinstance(entry, dict) or not isinstance(entry.get("details"), dict):
        raise IntegrityError(f"audit entry for {what} is not an audit record")
    if entry.get("action") != action or entry.get("subject") != subject:
        raise IntegrityError(
            f"audit entry for {what} is {entry.get('action')!r} on {entry.get('subject')!r}, "
            f"expected {action!r} on {subject!r}"
        )
    return entry


def _requester(bundle: ApprovalBundle, checkpoint: TrustedCheckpoint) -> str:
    entry = _entry(
        checkpoint, bundle.request_proof, "the request", ACTION_REQUESTED, bundle.withdrawal_id
    )
    requester = entry["details"].get("requester")
    if not isinstance(requester, str) or not requester:
        raise IntegrityError("audit entry for the request names no requester")
    return requester


def _decision(
    bundle: ApprovalBundle, checkpoint: TrustedCheckpoint, digest: bytes
) -> Mapping[str, Any]:
    entry = _entry(
        checkpoint, bundle.decision_proof, "the decision", ACTION_DECIDED, bundle.withdrawal_id
    )
    details: Mapping[str, Any] = entry["details"]
    logged = details.get("digest")
    if not isinstance(logged, str) or not hmac.compare_digest(logged, digest.hex()):
        raise IntegrityError(
            f"the audit log recorded digest {logged} for this withdrawal, the transaction "
            f"hashes to {digest.hex()}",
            code="digest_mismatch",
        )
    if details.get("policy") != dict(bundle.policy):
        raise IntegrityError("the bundle's policy decision differs from the one the log recorded")
    if details.get("wallet") != bundle.wallet_id:
        raise IntegrityError("the bundle's wallet differs from the one the log recorded")
    if details.get("descriptor") != bundle.descriptor:
        raise IntegrityError(
            "the bundle's wallet descriptor differs from the one the log recorded",
            code="descriptor_mismatch",
        )
    return details


def _verify_approval(
    bundle: ApprovalBundle,
    approval: BundleApproval,
    checkpoint: TrustedCheckpoint,
    digest: bytes,
    credentials: Mapping[bytes, EnrolledCredential],
    *,
    expires_at: str,
    expected_rp_id: str,
    expected_origin: str,
) -> frozenset[str]:
    """A WebAuthn approval: its proven entry must match, and the assertion must verify
    over the approval challenge recomputed from this bundle's withdrawal id, the
    recomputed digest, the logged expiry and the logged nonce (`kinko.signer.binding`)."""
    who = f"approval by {approval.approver}"
    entry = _entry(checkpoint, approval.audit, who, ACTION_APPROVAL, bundle.withdrawal_id)
    details = entry["details"]
    if details.get("binding") != BINDING_WEBAUTHN:
        raise ApprovalError(
            f"{who} is bound by {details.get('binding')!r} in the log, but the bundle "
            "carries a WebAuthn assertion"
        )
    if (
        details.get("approver") != approval.approver
        or details.get("credential_id") != b64url(approval.credential_id)
        or details.get("digest") != digest.hex()
        or details.get("nonce") != b64url(approval.nonce)
    ):
        raise ApprovalError(
            f"{who} does not match its audit entry (approver, credential, digest, nonce)"
        )
    credential = credentials.get(approval.credential_id)
    if credential is None:
        raise ApprovalError(f"{who} used a credential that is not enrolled")
    if credential.user != approval.approver:
        raise ApprovalError(f"{who} used a credential enrolled to {credential.user}")
    if details.get("credential_key_sha256") != key_fingerprint(credential.public_key_cose):
        raise ApprovalError(f"{who}: the credential's public key is not the one the log recorded")
    challenge = approval_challenge(
        withdrawal_id=bundle.withdrawal_id,
        digest=digest,
        expires_at=expires_at,
        nonce=approval.nonce,
        approver=approval.approver,
    )
    verify_approval_assertion(
        assertion_json(
            credential_id=approval.credential_id,
            authenticator_data=approval.authenticator_data,
            client_data_json=approval.client_data_json,
            signature=approval.signature,
            user_handle=approval.user_handle,
        ),
        challenge=challenge,
        withdrawal_id=bundle.withdrawal_id,
        digest=digest,
        public_key_cose=credential.public_key_cose,
        rp_id=expected_rp_id,
        origin=expected_origin,
        who=who,
    )
    roles = details.get("roles")
    if not isinstance(roles, list) or not all(isinstance(r, str) for r in roles):
        raise IntegrityError(f"audit entry for {who} lists no roles")
    return frozenset(roles)


def _verify_attested(
    bundle: ApprovalBundle,
    approval: BundleApproval,
    checkpoint: TrustedCheckpoint,
    digest: bytes,
    *,
    key: bytes | None,
    accept_unverified: bool,
) -> frozenset[str]:
    """A `totp_server_attested` approval: its proven audit entry must match, and the
    server's HMAC must verify under `key` (only the online signer has it)."""
    who = f"approval by {approval.approver}"
    if key is None and not accept_unverified:
        raise ApprovalError(
            f"{who} is bound by {BINDING_TOTP!r} (a TOTP code attested by the server, weaker "
            "than WebAuthn), which this signer cannot verify; online, set "
            "allow_totp_approvals; offline, only --unsafe-accept-server-attested-approvals "
            "accepts it",
            code="weak_binding_refused",
        )
    entry = _entry(checkpoint, approval.audit, who, ACTION_APPROVAL, bundle.withdrawal_id)
    details = entry["details"]
    attestation = approval.attestation
    if details.get("binding") != BINDING_TOTP or attestation is None:
        raise ApprovalError(f"{who} is not bound by {BINDING_TOTP!r} in the log")
    if (
        details.get("approver") != approval.approver
        or not hmac.compare_digest(attestation.digest, digest.hex())
        or details.get("digest") != digest.hex()
        or details.get("attested_at") != attestation.time
        or details.get("attestation_mac") != attestation.mac
    ):
        raise ApprovalError(
            f"{who} does not match its audit entry (approver, digest, attestation)",
            code="attestation_invalid",
        )
    if key is not None and not attestation_valid(
        key,
        attestation.mac,
        withdrawal_id=bundle.withdrawal_id,
        digest_hex=attestation.digest,
        approver=approval.approver,
        time=attestation.time,
    ):
        raise IntegrityError(
            f"{who}: the server attestation does not verify under this Kinko's secret key",
            code="attestation_invalid",
        )
    roles = details.get("roles")
    if not isinstance(roles, list) or not all(isinstance(r, str) for r in roles):
        raise IntegrityError(f"audit entry for {who} lists no roles")
    return frozenset(roles)


def _time(value: object, what: str) -> datetime:
    if not isinstance(value, str):
        raise IntegrityError(f"{what} is missing")
    try:
        return utc(datetime.fromisoformat(value))
    except ValueError:
        raise IntegrityError(f"{what} is not an RFC 3339 time") from None


__all__ = ["EnrolledCredential", "VerifiedBundle", "verify_bundle"]
