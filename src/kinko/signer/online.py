"""The online signer (hot wallets, in process or behind `kinko signer serve`).

It re-checks the bundle with `verify_bundle` against credentials and freeze state read
from the store, and only then signs with the wallet's key. Any refusal is audited, frozen
(the wallet) and raised as a critical `signer.refused` security event before the error
propagates: one refused bundle is treated as an attack in progress.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

import structlog
from sqlalchemy.orm import Session

from kinko.chains.base import ChainAdapter
from kinko.context import Context
from kinko.core.errors import ApprovalError, IntegrityError, KinkoError, Unavailable
from kinko.core.events import SecurityEvent
from kinko.core.secretfile import read_private
from kinko.custody.model import Tier
from kinko.signer.attestation import BINDING_TOTP
from kinko.signer.bundle import ApprovalBundle
from kinko.signer.checks import EnrolledCredential, VerifiedBundle, verify_bundle

log = structlog.get_logger("kinko.signer")
# What a freeze's reason holds (1,000 characters): a refusal's whole message, which can be
# longer, goes to its audit entry and its event.
FREEZE_REASON_CHARS = 1000


class SigningAdapter(ChainAdapter, Protocol):
    def sign(self, payload: bytes, key: bytes) -> bytes: ...


class Keystore(Protocol):
    def key_for(self, wallet_id: str) -> bytes:
        """The wallet's signing key, or raise Unavailable."""
        ...


@dataclass(frozen=True, slots=True)
class RecordedWithdrawal:
    """What Kinko's own records say of the withdrawal a bundle names."""

    state: str
    approved: bool
    digest: str | None
    wallet_tier: str | None


class SignerRecords(Protocol):
    """What the online signer reads and writes in Kinko's records, inside the signer's
    own transactions: the signer's port, so that it depends on no withdrawal module
    (kinko.withdrawals.signing implements it)."""

    def credentials_of(self, session: Session, user: str) -> Sequence[EnrolledCredential]: ...

    def frozen_reason_for_wallet(self, session: Session, wallet_id: str) -> str | None: ...

    def freeze_wallet(
        self, session: Session, wallet_id: str, *, reason: str, actor: str
    ) -> None: ...

    def withdrawal(
        self, session: Session, withdrawal_id: str, wallet_id: str
    ) -> RecordedWithdrawal | None: ...


class OnlineSigner:
    def __init__(
        self,
        ctx: Context,
        records: SignerRecords,
        *,
        keystore: Keystore,
        adapter_for: Callable[[str, str], SigningAdapter],
        log_vkey: str,
    ) -> None:
        self.ctx = ctx
        self.records = records
        self.keystore = keystore
        self.adapter_for = adapter_for
        self.log_vkey = log_vkey

    def check(self, bundle: ApprovalBundle) -> VerifiedBundle:
        """Verify, or refuse (audit + freeze + critical event) and raise."""
        adapter = self.adapter_for(bundle.chain, bundle.network)
        self._publish(bundle, "signer.request", adapter=adapter, severity="info")
        try:
            with self.ctx.db.transaction() as session:
                enrolled = {
                    c.credential_id: c
                    for approval in bundle.approvals
                    for c in self.records.credentials_of(session, approval.approver)
                }
                frozen = self.records.frozen_reason_for_wallet(session, bundle.wallet_id)
                recorded = self.records.withdrawal(session, bundle.withdrawal_id, bundle.wallet_id)
            verified = verify_bundle(
                bundle,
                adapter=adapter,
                enrolled_credentials=enrolled,
                log_vkey=self.log_vkey,
                now=self.ctx.clock.now(),
                frozen=frozen,
                expected_rp_id=self.ctx.settings.webauthn_rp_id,
                expected_origin=self.ctx.settings.webauthn_origin,
                attestation_key=self._attestation_key(bundle),
            )
            tier = None if recorded is None else recorded.wallet_tier
            if recorded and verified.required_approvals < 1 and tier != Tier.HOT.value:
                raise ApprovalError(
                    f"wallet {bundle.wallet_id} is {tier}: only hot-wallet withdrawals may be "
                    "signed without approvals",
                    code="quorum_not_met",
                )
            self._check_record(bundle, recorded)
            return verified
        except KinkoError as exc:
            self._refuse(bundle, exc)
            raise

    def _attestation_key(self, bundle: ApprovalBundle) -> bytes | None:
        """The server's secret key, to verify `totp_server_attested` approvals; None (they
        are refused) unless `allow_totp_approvals` is on."""
        settings = self.ctx.settings
        if not settings.allow_totp_approvals or all(
            a.binding != BINDING_TOTP for a in bundle.approvals
        ):
            return None
        path = settings.resolved_secret_key_path
        if not path.is_file():
            raise Unavailable(f"cannot read the secret key {path} to verify TOTP approvals")
        return read_private(path, field="secret_key_path")

    @staticmethod
    def _check_record(bundle: ApprovalBundle, recorded: RecordedWithdrawal | None) -> None:
        """Online, the withdrawal itself must still be approved, for this very digest: a
        cancelled, rejected, held or expired withdrawal is not signed from an old bundle."""
        if recorded is None:
            raise IntegrityError(f"no withdrawal {bundle.withdrawal_id} in this Kinko")
        digest = recorded.digest
        if not recorded.approved:
            raise ApprovalError(
                f"withdrawal {bundle.withdrawal_id} is {recorded.state}, not approved",
                code="not_approved",
            )
        if digest is None or not hmac.compare_digest(digest, bundle.digest.hex()):
            raise IntegrityError(
                f"withdrawal {bundle.withdrawal_id} was approved for digest {digest}, the "
                f"bundle carries {bundle.digest.hex()}",
                code="digest_mismatch",
            )

    def sign(self, bundle: ApprovalBundle) -> bytes:
        verified = self.check(bundle)
        adapter = self.adapter_for(bundle.chain, bundle.network)
        signed = adapter.sign(verified.bundle.unsigned_tx, self.keystore.key_for(bundle.wallet_id))
        with self.ctx.db.transaction() as session:
            self.ctx.audit.append(
                session,
                actor="signer:online",
                action="signer.signed",
                subject=bundle.withdrawal_id,
                details={
                    "wallet": bundle.wallet_id,
                    "digest": verified.digest.hex(),
                    "approvers": list(verified.approvers),
                    "checkpoint_size": verified.checkpoint_size,
                },
            )
        self._publish(bundle, "signer.sign", adapter=adapter, severity="info")
        return signed

    def _refuse(self, bundle: ApprovalBundle, exc: KinkoError) -> None:
        reason = f"signer refused withdrawal {bundle.withdrawal_id}: {exc.message}"
        if len(reason) > FREEZE_REASON_CHARS:  # a mismatch lists every differing field
            reason = reason[: FREEZE_REASON_CHARS - 40] + " … (whole reason in the audit log)"
        log.warning("signer refused", withdrawal=bundle.withdrawal_id, reason=exc.message)
        with self.ctx.db.transaction() as session:
            self.ctx.audit.append(
                session,
                actor="signer:online",
                action="signer.refused",
                subject=bundle.withdrawal_id,
                details={"wallet": bundle.wallet_id, "code": exc.code, "reason": exc.message},
            )
            self.records.freeze_wallet(
                session, bundle.wallet_id, reason=reason, actor="signer:online"
            )
        self._publish(
            bundle,
            "signer.refused",
            adapter=self.adapter_for(bundle.chain, bundle.network),
            severity="critical",
            refusal=exc,
        )

    def _publish(
        self,
        bundle: ApprovalBundle,
        kind: str,
        *,
        adapter: ChainAdapter,
        severity: str,
        refusal: KinkoError | None = None,
    ) -> None:
        """`signer.request` / `.sign` / `.refused` for the monitor (docs/monitor.md): the call
        kind is what the signer itself decodes from the bytes, not what the bundle claims."""
        fields: dict[str, str] = {
            "withdrawal": bundle.withdrawal_id,
            "withdrawal_id": bundle.withdrawal_id,
        }
        asset: str | None = None
        amount: int | None = None
        destination: str | None = None
        try:
            intent = adapter.decode(bundle.unsigned_tx)
        except KinkoError:
            fields["call_kind"] = "undecodable"
        else:
            fields["call_kind"] = str(intent.call_kind)
            asset, amount, destination = intent.asset, intent.amount, intent.destination
        if refusal is not None:
            fields.update(code=refusal.code, reason=refusal.code, message=refusal.message)
        self.ctx.bus.publish(
            SecurityEvent(
                type=kind,
                time=self.ctx.clock.now(),
                actor="signer:online",
                outcome="failure" if refusal is not None else None,
                wallet=bundle.wallet_id,
                asset=asset,
                amount=amount,
                destination=destination,
                severity=severity,
                fields=fields,
            )
        )
