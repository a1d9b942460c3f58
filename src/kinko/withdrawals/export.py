"""Export a withdrawal's approval bundle: everything the signer re-checks on its own."""

from __future__ import annotations

import json

from sqlalchemy.orm import Session

from kinko.audit.checkpoint import parse_body
from kinko.audit.note import parse_note
from kinko.context import Context
from kinko.core.clock import isoformat
from kinko.core.errors import Conflict, IntegrityError
from kinko.core.events import SecurityEvent
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
from kinko.store.tables.withdrawals import ApprovalRow, WithdrawalRow
from kinko.withdrawals.as_signed import ALTERED, as_signed, same_digest
from kinko.withdrawals.ports import Directory, Ports
from kinko.withdrawals.records import (
    approvals_of,
    binding_of,
    defer_event,
    load,
    unit_of_work,
)


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
        digest=_digest_bytes(row.id, row.digest),
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


def _digest_bytes(withdrawal_id: str, digest: str) -> bytes:
    try:
        return bytes.fromhex(digest)
    except ValueError:
        raise IntegrityError(
            f"the digest on record for withdrawal {withdrawal_id} is not a hex digest "
            f"({digest[:80]!r}): the record was rewritten; no bundle is made",
            code="digest_mismatch",
        ) from None


def checked_export(ctx: Context, ports: Ports, withdrawal_id: str, *, actor: str) -> ApprovalBundle:
    """The bundle for an offline signer, after the checks that signer would make against
    Kinko's own record: the transaction on record still has its recorded digest
    (`kinko.withdrawals.as_signed`), and that digest is the one the audit log recorded at
    the policy's decision. An offline signer refuses a rewritten record too (`kinko
    cosign`: ``digest_mismatch``), but writes nothing here; refused at export, the
    rewrite is audited (``withdrawal.bundle_refused``), the wallet frozen and the monitor
    told, as when the online signer refuses."""
    try:
        with unit_of_work(ctx) as session:
            row = load(session, withdrawal_id)
            _check_record(ctx, ports, session, row)
            return export_bundle(ctx, session, ports.directory, withdrawal_id)
    except IntegrityError as exc:
        refused_export(ctx, ports, withdrawal_id, actor, exc)
        raise


def _check_record(ctx: Context, ports: Ports, session: Session, row: WithdrawalRow) -> None:
    found = as_signed(ports.chains, session, row)
    if found is not None and found.altered is not None:
        raise IntegrityError(found.altered, code=ALTERED)
    if row.decision_seq is None or row.digest is None:
        return  # export_bundle says what is missing
    entry = json.loads(ctx.audit.entry(session, row.decision_seq).entry)
    logged = (entry.get("details") or {}).get("digest")
    if not isinstance(logged, str) or not same_digest(logged, row.digest):
        raise IntegrityError(
            f"the audit log recorded digest {logged} at the policy's decision on withdrawal "
            f"{row.id}; its record now says {row.digest}: it was rewritten after the "
            "decision. No bundle is exported; tell your security team",
            code="digest_mismatch",
        )


def refused_export(
    ctx: Context, ports: Ports, withdrawal_id: str, actor: str, exc: IntegrityError
) -> None:
    """A record that was not exported as a bundle: audited (``withdrawal.bundle_refused``),
    the wallet frozen, the monitor told."""
    with unit_of_work(ctx) as session:
        row = session.get(WithdrawalRow, withdrawal_id)
        wallet = None if row is None else row.wallet_id
        ctx.audit.append(
            session,
            actor=actor,
            action="withdrawal.bundle_refused",
            subject=withdrawal_id,
            details={"wallet": wallet, "code": exc.code, "reason": exc.message},
        )
        if wallet is not None:
            ports.freezes.freeze_wallet(
                session,
                wallet,
                reason=f"the record of withdrawal {withdrawal_id} was rewritten ({exc.code}); "
                "its bundle was not exported",
                actor="system:withdrawals",
            )
        defer_event(
            session,
            SecurityEvent(
                type="withdrawal.bundle_refused",
                time=ctx.clock.now(),
                actor=actor,
                outcome="failure",
                severity="critical",
                wallet=wallet,
                fields={"withdrawal": withdrawal_id, "code": str(exc.code), "reason": exc.message},
            ),
        )
