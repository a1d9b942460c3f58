"""Export a withdrawal's approval bundle: everything the signer re-checks on its own."""

from __future__ import annotations

import json

from sqlalchemy.orm import Session

from kinko.audit.checkpoint import parse_body
from kinko.audit.note import parse_note
from kinko.context import Context
from kinko.core.clock import isoformat
from kinko.core.errors import Conflict
from kinko.signer.attestation import BINDING_TOTP
from kinko.signer.bundle import (
    ApprovalBundle,
    AuditProof,
    BundleApproval,
    BundleCredential,
    ServerAttestation,
    unb64url,
)
from kinko.store.tables.custody import WalletRow
from kinko.store.tables.withdrawals import ApprovalRow
from kinko.withdrawals.ports import Directory
from kinko.withdrawals.records import approvals_of, binding_of, load


def export_bundle(
    ctx: Context, session: Session, directory: Directory, withdrawal_id: str
) -> ApprovalBundle:
    """Build the bundle for an approved (or pending) withdrawal, with a fresh checkpoint."""
    row = load(session, withdrawal_id)
    if row.unsigned_tx is None or row.digest is None or row.decision is None:
        raise Conflict(
            f"withdrawal {withdrawal_id} is {row.state} and has no transaction to bundle yet"
        )
    if row.request_seq is None or row.decision_seq is None:
        raise Conflict(f"withdrawal {withdrawal_id} has no audit entries to prove")
    note = ctx.audit.checkpoint(session)
    size = parse_body(parse_note(note).text).size
    approvals: list[BundleApproval] = []
    credentials: dict[bytes, BundleCredential] = {}
    for answer in approvals_of(session, row.id):
        if answer.verdict == "approve" and binding_of(answer) == BINDING_TOTP:
            approvals.append(_attested(ctx, session, answer, size))
            continue
        if answer.verdict != "approve" or answer.credential_id is None:
            continue
        assertion = answer.assertion or {}
        response = assertion.get("response", {})
        handle = response.get("userHandle")
        proof = _proof(ctx, session, answer.audit_seq, size)
        approvals.append(
            BundleApproval(
                approver=answer.approver,
                credential_id=answer.credential_id,
                authenticator_data=unb64url(response["authenticatorData"], "authenticatorData"),
                client_data_json=unb64url(response["clientDataJSON"], "clientDataJSON"),
                signature=unb64url(response["signature"], "signature"),
                user_handle=None if handle is None else unb64url(handle, "userHandle"),
                audit=proof,
                nonce=_nonce(row.id, answer.approver, proof),
            )
        )
        for credential in directory.credentials_of(session, answer.approver):
            if credential.credential_id == answer.credential_id:
                credentials[credential.credential_id] = BundleCredential(
                    credential.credential_id, credential.user, credential.public_key_cose
                )
    return ApprovalBundle(
        withdrawal_id=row.id,
        wallet_id=row.wallet_id,
        chain=row.chain,
        network=row.network,
        unsigned_tx=row.unsigned_tx,
        intent=dict(row.intent or {}),
        digest=bytes.fromhex(row.digest),
        policy=dict(row.decision),
        approvals=tuple(approvals),
        credentials=tuple(credentials.values()),
        checkpoint=note,
        request_proof=_proof(ctx, session, row.request_seq, size),
        decision_proof=_proof(ctx, session, row.decision_seq, size),
        descriptor=_descriptor(session, row.wallet_id),
        expires_at="" if row.expires_at is None else isoformat(row.expires_at),
    )


def _nonce(withdrawal_id: str, approver: str, proof: AuditProof) -> bytes:
    """The one-time nonce the approval's challenge was made with, as its entry logged it."""
    details = json.loads(proof.entry).get("details", {})
    nonce = details.get("nonce")
    if not isinstance(nonce, str):
        raise Conflict(
            f"the approval of withdrawal {withdrawal_id} by {approver} was given before "
            "approvals were bound to their withdrawal (it signs the bare digest, which "
            "bundle version 3 refuses): cancel the withdrawal and request it again",
            code="approval_unbound",
        )
    return unb64url(nonce, "nonce")


def _attested(ctx: Context, session: Session, answer: ApprovalRow, size: int) -> BundleApproval:
    """A `totp_server_attested` approval: no WebAuthn fields, the server's attestation."""
    attestation = dict((answer.assertion or {}).get("attestation") or {})
    return BundleApproval(
        approver=answer.approver,
        credential_id=b"",
        authenticator_data=b"",
        client_data_json=b"",
        signature=b"",
        user_handle=None,
        audit=_proof(ctx, session, answer.audit_seq, size),
        binding=BINDING_TOTP,
        attestation=ServerAttestation(
            digest=str(attestation.get("digest", "")),
            time=str(attestation.get("time", "")),
            mac=str(attestation.get("mac", "")),
        ),
    )


def _descriptor(session: Session, wallet_id: str) -> str | None:
    """A Bitcoin wallet's descriptor (the signer decodes the PSBT with it), else None."""
    wallet = session.get(WalletRow, wallet_id)
    if wallet is None or wallet.chain != "bitcoin":
        return None
    return wallet.descriptor


def _proof(ctx: Context, session: Session, seq: int, size: int) -> AuditProof:
    record = ctx.audit.entry(session, seq)
    return AuditProof(
        index=seq, entry=record.entry, hashes=tuple(ctx.audit.inclusion_proof(session, seq, size))
    )
