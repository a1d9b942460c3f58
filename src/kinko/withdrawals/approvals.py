"""Approving and rejecting: WebAuthn assertions over an approval challenge Kinko issued
to the approver for this withdrawal (it commits to the withdrawal id, the digest, the
expiry and a one-time nonce: `kinko.withdrawals.challenges`), or (when
`allow_totp_approvals` is on) a TOTP code bound to the digest by the server's HMAC
(`totp_server_attested`, weaker: see kinko.signer.attestation).

Rules: only a pending withdrawal, before it expires; distinct approvers; never the
requester; separation of duties; an eligible role for the wallet; the assertion must
verify over the challenge issued for this withdrawal, whose digest is the one the decoded
transaction hashes to. One rejection ends the request. A refused attempt is itself
audited and raised as a security event.

The approval that completes the quorum hands the withdrawal to execution
(`Executor.after_approval`) once its transaction committed and its events were published:
a hot wallet's is signed and broadcast before the approver is answered; no caller has to
ask for it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

from sqlalchemy.orm import Session

from kinko.context import Context
from kinko.core.clock import isoformat
from kinko.core.errors import ApprovalError, Conflict, InputError, KinkoError, Unavailable
from kinko.core.secretfile import read_private
from kinko.identity.four_eyes import Person, Rule, Step, check_second
from kinko.identity.names import person
from kinko.signer.attestation import BINDING_TOTP, BINDING_WEBAUTHN, attest
from kinko.signer.bundle import ACTION_APPROVAL, b64url, unb64url
from kinko.signer.quorum import quorum_shortfall, verify_approval_assertion
from kinko.store.tables.withdrawals import ApprovalRow, WithdrawalRow
from kinko.withdrawals import challenges
from kinko.withdrawals.as_signed import ALTERED, as_signed
from kinko.withdrawals.challenges import ApprovalChallenge
from kinko.withdrawals.events import announce_quorum, approval_attempt
from kinko.withdrawals.execution import Executor
from kinko.withdrawals.ports import Ports
from kinko.withdrawals.records import (
    WithdrawalView,
    approvals_of,
    binding_of,
    defer_event,
    load,
    move,
    unit_of_work,
    view,
)
from kinko.withdrawals.refusals import record_refusal
from kinko.withdrawals.states import State, parse_state


class ApprovalService:
    def __init__(self, ctx: Context, ports: Ports, *, executor: Executor | None = None) -> None:
        """`executor`: signs and broadcasts a withdrawal once its quorum is reached; None
        leaves it approved (for `kinko cosign`, or an executor run elsewhere)."""
        self.ctx = ctx
        self.ports = ports
        self.executor = executor

    def challenge(self, withdrawal_id: str, *, approver: str) -> ApprovalChallenge:
        """Issue `approver` a one-time challenge for approving `withdrawal_id` (pending,
        not theirs, not yet answered by them, an eligible role)."""
        try:
            with unit_of_work(self.ctx) as session:
                row = load(session, withdrawal_id, lock=True)
                if not self._expire_if_due(session, row):
                    self._check_approver(session, row, approver)
                    self._check_bytes(session, row)
                    return self._issue(session, row, approver)
        except ApprovalError as exc:
            # Asking to approve is an approval attempt: the monitor sees the refusal.
            record_refusal(
                self.ctx, self.ports, withdrawal_id, approver, exc.message, code=exc.code
            )
            raise
        raise ApprovalError(
            f"withdrawal {withdrawal_id} expired before it was approved; request it again",
            code="approval_expired",
        )

    def refusal(self, session: Session, withdrawal_id: str, *, approver: str) -> str | None:
        """Why `approver` may not approve `withdrawal_id` now, in words, or None if they
        may: the checks `challenge` and `approve` make (pending, not expired, the four-eyes
        rules for this wallet and asset, separation of duties), read-only. Nothing is
        written or recorded: a page asks it to decide whether to offer the button, and the
        service checks again when the vote comes."""
        row = load(session, withdrawal_id)
        if parse_state(row.state) is not State.PENDING_APPROVAL:
            return f"withdrawal {row.id} is {row.state}, not pending approval"
        if row.expires_at is not None and self.ctx.clock.now() >= row.expires_at:
            return f"withdrawal {row.id} expired before it was approved; request it again"
        try:
            self._check_approver(session, row, approver)
            self._check_bytes(session, row)
        except KinkoError as exc:
            return exc.message
        return None

    def _check_bytes(self, session: Session, row: WithdrawalRow) -> None:
        """No approval over a digest the transaction on record no longer has: its bytes
        are decoded and digested again now (`kinko.withdrawals.as_signed`)."""
        found = as_signed(self.ports.chains, session, row)
        if found is not None and found.altered is not None:
            raise ApprovalError(found.altered, code=ALTERED)

    def _issue(self, session: Session, row: WithdrawalRow, approver: str) -> ApprovalChallenge:
        ids = [c.credential_id for c in self.ports.directory.credentials_of(session, approver)]
        return challenges.issue(
            session,
            row,
            approver,
            now=self.ctx.clock.now(),
            rp_id=self.ctx.settings.webauthn_rp_id,
            credential_ids=ids,
        )

    def approve(
        self, withdrawal_id: str, *, approver: str, assertion: Mapping[str, Any]
    ) -> WithdrawalView:
        """Record `approver`'s WebAuthn assertion over the approval challenge issued to
        them for this withdrawal (`challenge`); approve at quorum, then execute."""
        answered = self._answer(withdrawal_id, approver=approver, assertion=assertion, approve=True)
        return self._onward(answered)

    def approve_totp(self, withdrawal_id: str, *, approver: str, code: str) -> WithdrawalView:
        """Record `approver`'s approval by a current TOTP code, bound server-side to the
        digest (`totp_server_attested`); refused unless `allow_totp_approvals` is on."""
        if not code.strip():
            raise InputError("totp", "must be the current code from the authenticator app")
        answered = self._answer(withdrawal_id, approver=approver, totp=code.strip(), approve=True)
        return self._onward(answered)

    def _onward(self, current: WithdrawalView) -> WithdrawalView:
        """After the approving transaction committed: at quorum, to execution."""
        if self.executor is None or current.state is not State.APPROVED:
            return current
        return self.executor.after_approval(current)

    def reject(self, withdrawal_id: str, *, approver: str, reason: str) -> WithdrawalView:
        """A rejection by any eligible approver ends the request (denied)."""
        if not reason.strip():
            raise InputError("reason", "say why you reject this withdrawal")
        return self._answer(withdrawal_id, approver=approver, reason=reason, approve=False)

    def _answer(
        self,
        withdrawal_id: str,
        *,
        approver: str,
        approve: bool,
        assertion: Mapping[str, Any] | None = None,
        totp: str | None = None,
        reason: str = "",
    ) -> WithdrawalView:
        try:
            with unit_of_work(self.ctx) as session:
                row = load(session, withdrawal_id, lock=True)
                if self._expire_if_due(session, row):
                    expired = True
                else:
                    expired = False
                    self._check_approver(session, row, approver)
                    if approve:
                        self._check_bytes(session, row)
                    if approve and totp is not None:
                        self._record_totp_approval(session, row, approver, totp)
                    elif approve:
                        assert assertion is not None
                        self._record_approval(session, row, approver, assertion)
                    else:
                        self._record_rejection(session, row, approver, reason)
                    return view(session, row)
        except ApprovalError as exc:
            record_refusal(
                self.ctx,
                self.ports,
                withdrawal_id,
                approver,
                exc.message,
                code=exc.code if approve else None,
                totp_failed=exc.code == "totp_invalid",
            )
            raise
        if expired:
            raise ApprovalError(
                f"withdrawal {withdrawal_id} expired before it was approved; request it again",
                code="approval_expired",
            )
        raise AssertionError("unreachable")

    def _expire_if_due(self, session: Session, row: WithdrawalRow) -> bool:
        if parse_state(row.state) is not State.PENDING_APPROVAL:
            raise Conflict(
                f"withdrawal {row.id} is {row.state}, not pending approval",
                code="not_pending",
            )
        if row.expires_at is not None and self.ctx.clock.now() >= row.expires_at:
            move(
                self.ctx,
                session,
                row,
                State.EXPIRED,
                actor="system:withdrawals",
                reason="approvals did not reach quorum before expiry",
            )
            self.ports.policy.release(session, row.id)
            return True
        return False

    def _check_approver(self, session: Session, row: WithdrawalRow, approver: str) -> None:
        """The four-eyes rules (`kinko.identity.four_eyes`: not the requester, each person
        once, an eligible role for this wallet and asset), then separation of duties."""
        roles = self.ports.directory.roles_for(
            session, approver, wallet=row.wallet_id, asset=row.asset
        )
        step = Step(
            what="this withdrawal",
            proposer=row.requester,
            proposer_name=person(session, row.requester),
            eligible=frozenset(row.eligible_roles),
            created_at=row.created_at,
            proposed="requested",
            codes={Rule.NOT_PROPOSER: "requester_approved", Rule.DISTINCT: "duplicate_approver"},
        )
        # The approver is signed in with their own credential: the API refused them if
        # they were not active. Expiry is the withdrawal's own state (`_expire_if_due`).
        check_second(
            step,
            Person(approver, frozenset(roles), name=person(session, approver)),
            now=self.ctx.clock.now(),
            counted=[a.approver for a in approvals_of(session, row.id)],
        )
        self.ports.directory.check_can_approve(
            session,
            approver=approver,
            requester=row.requester,
            wallet=row.wallet_id,
            asset=row.asset,
        )

    def _record_approval(
        self, session: Session, row: WithdrawalRow, approver: str, assertion: Mapping[str, Any]
    ) -> None:
        if row.digest is None or row.decision is None:
            raise Conflict(f"withdrawal {row.id} has no transaction to approve yet")
        raw_id = assertion.get("rawId")
        if not isinstance(raw_id, str):
            raise InputError("assertion.rawId", "must be the credential id in base64url")
        credential_id = unb64url(raw_id, "assertion.rawId")
        enrolled = {
            c.credential_id: c for c in self.ports.directory.credentials_of(session, approver)
        }
        credential = enrolled.get(credential_id)
        if credential is None:
            raise ApprovalError(f"{person(session, approver)} has no enrolled credential {raw_id}")
        who = f"approval by {person(session, approver)}"
        issued = challenges.take(
            session, row, approver, assertion, now=self.ctx.clock.now(), who=who
        )
        count = verify_approval_assertion(
            assertion,
            challenge=issued.challenge,
            withdrawal_id=row.id,
            digest=bytes.fromhex(row.digest),
            public_key_cose=credential.public_key_cose,
            rp_id=self.ctx.settings.webauthn_rp_id,
            origin=self.ctx.settings.webauthn_origin,
            who=who,
        )
        self.ports.directory.record_sign_count(session, credential_id, count)
        roles = sorted(
            self.ports.directory.roles_for(session, approver, wallet=row.wallet_id, asset=row.asset)
        )
        self._store_approval(
            session,
            row,
            approver,
            binding=BINDING_WEBAUTHN,
            roles=roles,
            audited={
                "credential_id": b64url(credential_id),
                "credential_key_sha256": hashlib.sha256(credential.public_key_cose).hexdigest(),
                # What the signer recomputes the challenge from (kinko.signer.binding).
                "nonce": b64url(issued.nonce),
                "expires_at": issued.expires_at,
                "challenge": b64url(issued.challenge),
            },
            credential_id=credential_id,
            evidence=dict(assertion),
        )

    def _record_totp_approval(
        self, session: Session, row: WithdrawalRow, approver: str, code: str
    ) -> None:
        settings = self.ctx.settings
        if not settings.allow_totp_approvals:
            raise ApprovalError(
                "TOTP approvals are off: approve with a WebAuthn assertion over the digest, "
                "or set allow_totp_approvals (a weaker, server-side binding)",
                code="totp_approvals_disabled",
            )
        if row.digest is None or row.decision is None:
            raise Conflict(f"withdrawal {row.id} has no transaction to approve yet")
        self.ports.directory.check_totp(session, approver, code)
        roles = sorted(
            self.ports.directory.roles_for(session, approver, wallet=row.wallet_id, asset=row.asset)
        )
        now = isoformat(self.ctx.clock.now())
        path = settings.resolved_secret_key_path
        if not path.is_file():
            raise Unavailable(f"cannot read the secret key to attest the approval ({path})")
        key = read_private(path, field="secret_key_path")
        mac = attest(key, withdrawal_id=row.id, digest_hex=row.digest, approver=approver, time=now)
        self._store_approval(
            session,
            row,
            approver,
            binding=BINDING_TOTP,
            roles=roles,
            audited={"attested_at": now, "attestation_mac": mac},
            credential_id=None,
            evidence={"attestation": {"digest": row.digest, "time": now, "mac": mac}},
        )

    def _store_approval(
        self,
        session: Session,
        row: WithdrawalRow,
        approver: str,
        *,
        binding: str,
        roles: list[str],
        audited: dict[str, Any],
        credential_id: bytes | None,
        evidence: dict[str, Any],
    ) -> None:
        """Audit the approval, keep its evidence (assertion or attestation), count quorum."""
        record = self.ctx.audit.append(
            session,
            actor=approver,
            action=ACTION_APPROVAL,
            subject=row.id,
            details={
                "approver": approver,
                "binding": binding,
                "digest": row.digest,
                "roles": roles,
                **audited,
            },
        )
        session.add(
            ApprovalRow(
                withdrawal_id=row.id,
                approver=approver,
                verdict="approve",
                binding=binding,
                digest=row.digest,
                credential_id=credential_id,
                assertion=evidence,
                roles=roles,
                audit_seq=record.seq,
                created_at=self.ctx.clock.now(),
            )
        )
        self._count(session, row, approver)

    def _count(self, session: Session, row: WithdrawalRow, approver: str) -> None:
        """After an approval: tell the monitor, and approve the withdrawal at quorum.
        TOTP approvals count only while `allow_totp_approvals` is on."""
        session.flush()
        defer_event(
            session,
            approval_attempt(
                withdrawal_id=row.id,
                approver=approver,
                requester=row.requester,
                wallet=row.wallet_id,
                now=self.ctx.clock.now(),
            ),
        )
        counted = {BINDING_WEBAUTHN} | (
            {BINDING_TOTP} if self.ctx.settings.allow_totp_approvals else set()
        )
        approvals = {
            a.approver: a.roles
            for a in approvals_of(session, row.id)
            if a.verdict == "approve" and binding_of(a) in counted
        }
        decision = row.decision
        assert decision is not None
        shortfall = quorum_shortfall(
            int(decision["required_approvals"]),
            {str(k): int(v) for k, v in dict(decision["required_roles"]).items()},
            approvals,
        )
        if shortfall is None:
            move(
                self.ctx,
                session,
                row,
                State.APPROVED,
                actor=approver,
                reason=f"quorum reached: {len(approvals)} distinct approvers",
            )
            announce_quorum(session, row, list(approvals), now=self.ctx.clock.now())

    def _record_rejection(
        self, session: Session, row: WithdrawalRow, approver: str, reason: str
    ) -> None:
        record = self.ctx.audit.append(
            session,
            actor=approver,
            action="withdrawal.rejection",
            subject=row.id,
            details={"approver": approver, "reason": reason, "digest": row.digest},
        )
        session.add(
            ApprovalRow(
                withdrawal_id=row.id,
                approver=approver,
                verdict="reject",
                binding="none",
                digest=row.digest or "",
                credential_id=None,
                assertion=None,
                roles=[],
                audit_seq=record.seq,
                created_at=self.ctx.clock.now(),
            )
        )
        move(self.ctx, session, row, State.DENIED, actor=approver, reason=f"rejected: {reason}")
        self.ports.policy.release(session, row.id)
