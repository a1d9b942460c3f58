"""Signing and broadcasting an approved withdrawal, resumable after a crash.

approved -> (bundle, signer check, sign) -> signed -> (broadcast) -> broadcast.
The signed transaction is persisted in the same transaction that moves the state to
signed, and the txid with the move to broadcast. A restart looks at them: a withdrawal
that is `signed` is only broadcast (never signed again); one that was killed after the
signer produced a signature but before it was stored is signed again from the same
unsigned bytes, which yields the same transaction (RFC 6979 deterministic ECDSA), so at
most one transaction can ever exist for it.

Nobody has to ask for this: the withdrawal services hand a withdrawal on as soon as it is
approved (`after_approval`: the last approval reached the quorum, policy allowed it, a
hold was released), once that transaction has committed and its events were published.
What was left behind (a crash between the approval and the broadcast, a node that was
down) is picked up by `resume`, which `kinko serve` runs at start and then periodically.
`execute` stays the operator's explicit retry (`kinko withdraw execute`).
"""

from __future__ import annotations

import hashlib
from datetime import timedelta
from typing import Protocol

import structlog
from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from kinko.context import Context
from kinko.core.errors import Conflict, IntegrityError, KinkoError
from kinko.custody.keys import record_signatures
from kinko.custody.model import Tier
from kinko.signer.bundle import ApprovalBundle
from kinko.store.tables.custody import WalletRow
from kinko.store.tables.screening import ScreeningAlertRow
from kinko.store.tables.withdrawals import WithdrawalRow
from kinko.withdrawals.export import export_bundle, refused_export
from kinko.withdrawals.ports import Ports
from kinko.withdrawals.records import WithdrawalView, load, move, unit_of_work, view
from kinko.withdrawals.states import State, parse_state

ACTOR = "system:withdrawals"
log = structlog.get_logger("kinko.withdrawals")


class BundleSigner(Protocol):
    def sign(self, bundle: ApprovalBundle) -> bytes: ...


class Executor:
    def __init__(self, ctx: Context, ports: Ports, signer: BundleSigner) -> None:
        self.ctx = ctx
        self.ports = ports
        self.signer = signer

    def execute(self, withdrawal_id: str) -> WithdrawalView:
        """Move an approved withdrawal as far as it can go: signed, then broadcast."""
        with unit_of_work(self.ctx) as session:
            row = load(session, withdrawal_id)
            state = parse_state(row.state)
            wallet = session.get(WalletRow, row.wallet_id)
            alert = session.execute(
                select(ScreeningAlertRow.id, ScreeningAlertRow.list_name).where(
                    ScreeningAlertRow.target_kind == "withdrawal",
                    ScreeningAlertRow.target_ref == withdrawal_id,
                )
            ).first()
        if state is State.APPROVED and alert is not None:
            # Re-screening found the destination on a list after approval (possibly in
            # another process, e.g. `kinko lists load`): never sign it.
            raise Conflict(
                f"withdrawal {withdrawal_id}'s destination was found on list {alert[1]} when "
                f"re-screened (screening alert {alert[0]}): it is not signed; hold or cancel it",
                code="screening_alert",
            )
        if state is State.APPROVED:
            self._preflight(withdrawal_id, wallet)
        elif state is State.SIGNED:  # signed (online, or offline and recorded): only sent
            if wallet is None:
                raise Conflict(f"withdrawal {withdrawal_id}'s wallet is unknown")
            self.ports.chains.require_broadcast(wallet)
        if state is State.APPROVED:
            self._sign(withdrawal_id)
            state = State.SIGNED
        if state is State.SIGNED:
            self._broadcast(withdrawal_id)
        elif state is not State.BROADCAST:
            raise Conflict(
                f"withdrawal {withdrawal_id} is {state.value}; only approved withdrawals are "
                "signed",
                code="not_approved",
            )
        with unit_of_work(self.ctx) as session:
            return view(session, load(session, withdrawal_id))

    def after_approval(self, current: WithdrawalView) -> WithdrawalView:
        """The withdrawal services call this once `current` became approved and that
        transaction committed (and its events were published, so a hold the monitor
        decided on them is already in place). A hot-wallet withdrawal is signed (the
        online signer re-checks everything) and broadcast at once; what it is afterwards
        is returned. When that cannot happen now the state says so: still approved (the
        node is unreachable: `resume` or `kinko withdraw execute` tries again), failed
        (the signer refused: audited, wallet frozen, `signer.refused` raised). Warm and
        cold wallets wait for `kinko cosign`; without a node for the chain nothing is
        tried."""
        if current.state is not State.APPROVED or not self.ports.chains.can_broadcast(
            current.chain
        ):
            return current
        with self.ctx.db.reading() as session:
            wallet = session.get(WalletRow, current.wallet_id)
            hot = wallet is not None and wallet.tier == Tier.HOT.value
        return self._attempt(current.id) if hot else current

    def resume(self, *, idle_for: timedelta | None = None) -> list[WithdrawalView]:
        """Execute what was left behind: hot-wallet withdrawals still approved or signed
        (a crash between the approval and the broadcast, a node that was down), except
        those re-screening put on a list (they wait for a person). `idle_for`: only those
        unchanged for that long, so that the pass leaves alone the withdrawal an approving
        request is executing right now (`kinko serve` uses a minute); None: all."""
        with self.ctx.db.reading() as session:
            known = session.execute(select(WalletRow.chain).distinct()).scalars()
            online = [chain for chain in known if self.ports.chains.can_broadcast(chain)]
        if not online:
            return []  # no node for any chain: nothing can go out
        query = (
            select(WithdrawalRow.id)
            .join(WalletRow, WalletRow.id == WithdrawalRow.wallet_id)
            .where(
                WithdrawalRow.state.in_([State.APPROVED.value, State.SIGNED.value]),
                WithdrawalRow.chain.in_(online),
                WalletRow.tier == Tier.HOT.value,
                ~exists().where(
                    ScreeningAlertRow.target_kind == "withdrawal",
                    ScreeningAlertRow.target_ref == WithdrawalRow.id,
                ),
            )
            .order_by(WithdrawalRow.updated_at, WithdrawalRow.id)
        )
        if idle_for is not None:
            query = query.where(WithdrawalRow.updated_at <= self.ctx.clock.now() - idle_for)
        with self.ctx.db.reading() as session:
            left = list(session.execute(query).scalars())
        return [self._attempt(withdrawal_id) for withdrawal_id in left]

    def _attempt(self, withdrawal_id: str) -> WithdrawalView:
        """`execute`, where a failure is an outcome (logged, and visible in the state),
        not an error for whoever approved."""
        try:
            return self.execute(withdrawal_id)
        except KinkoError as exc:
            log.warning(
                "approved withdrawal not executed",
                withdrawal=withdrawal_id,
                code=exc.code,
                reason=exc.message,
            )
            with self.ctx.db.reading() as session:
                return view(session, load(session, withdrawal_id))

    def _preflight(self, withdrawal_id: str, wallet: WalletRow | None) -> None:
        """Refuse before the signer is asked: warm and cold keys never sign online, and
        nothing is signed that could not be broadcast."""
        if wallet is None:
            raise Conflict(f"withdrawal {withdrawal_id}'s wallet is unknown")
        if wallet.tier != Tier.HOT.value:
            raise Conflict(
                f"wallet {wallet.id} is {wallet.tier}: its keys never sign online; export the "
                f"bundle (kinko withdraw bundle export {withdrawal_id} --out FILE) and sign it "
                "on the offline machine with 'kinko cosign FILE --key KEYFILE --vkey VKEY'",
                code="offline_signing_required",
            )
        self.ports.chains.require_broadcast(wallet)

    def _bundle(self, withdrawal_id: str) -> ApprovalBundle:
        try:
            with unit_of_work(self.ctx) as session:
                return export_bundle(self.ctx, session, self.ports.directory, withdrawal_id)
        except IntegrityError as exc:
            refused_export(self.ctx, self.ports, withdrawal_id, "system:withdrawals", exc)
            raise

    def _sign(self, withdrawal_id: str) -> None:
        try:
            # The signer re-checks everything the bundle claims (and records its refusal);
            # a record that does not even make a bundle is recorded here the same way.
            bundle = self._bundle(withdrawal_id)
            signed = self.signer.sign(bundle)
        except KinkoError as exc:
            with unit_of_work(self.ctx) as session:
                self.ctx.audit.hold_head(session)  # the lock order: the audit head first
                row = load(session, withdrawal_id, lock=True)
                move(self.ctx, session, row, State.FAILED, actor="signer", reason=exc.message)
                self.ports.policy.release(session, row.id)
            raise
        with unit_of_work(self.ctx) as session:
            self.ctx.audit.hold_head(session)  # the lock order: the audit head first
            row = load(session, withdrawal_id, lock=True)
            if row.signed_tx is not None:
                return  # another worker stored it first; keep the first.
            row.signed_tx = signed
            self._record_signatures(session, row.wallet_id, row.id, signed)
            move(
                self.ctx,
                session,
                row,
                State.SIGNED,
                actor="signer",
                details={"signed_tx_sha256": hashlib.sha256(signed).hexdigest()},
            )

    def _record_signatures(
        self, session: Session, wallet_id: str, withdrawal_id: str, signed: bytes
    ) -> None:
        """Keep our own ECDSA signatures for `kinko custody nonce-check` (repeated r)."""
        wallet = session.get(WalletRow, wallet_id)
        if wallet is None:
            return
        adapter = self.ports.chains.wallet_adapter(wallet)
        record_signatures(
            self.ctx,
            session,
            wallet.chain,
            f"withdrawal:{withdrawal_id}",
            adapter.signatures(signed),
        )

    def _broadcast(self, withdrawal_id: str) -> None:
        with unit_of_work(self.ctx) as session:
            row = load(session, withdrawal_id)
            wallet = session.get(WalletRow, row.wallet_id)
            signed = row.signed_tx
        if wallet is None or signed is None:
            raise Conflict(f"withdrawal {withdrawal_id} has no signed transaction to send")
        txid = self.ports.chains.broadcast(wallet, signed)
        with unit_of_work(self.ctx) as session:
            self.ctx.audit.hold_head(session)  # the lock order: the audit head first
            row = load(session, withdrawal_id, lock=True)
            if row.txid is not None:
                return  # another worker broadcast it first: the same signed bytes.
            row.txid = txid
            move(self.ctx, session, row, State.BROADCAST, actor=ACTOR, details={"txid": txid})

    def confirm(self, withdrawal_id: str, *, txid: str) -> WithdrawalView:
        """The chain watcher saw `txid` confirmed."""
        with unit_of_work(self.ctx) as session:
            self.ctx.audit.hold_head(session)  # the lock order: the audit head first
            row = load(session, withdrawal_id, lock=True)
            if row.txid != txid:
                raise Conflict(
                    f"withdrawal {withdrawal_id} was broadcast as {row.txid}, not {txid}"
                )
            move(self.ctx, session, row, State.CONFIRMED, actor="chain-watcher")
            return view(session, row)

    def abandon(self, withdrawal_id: str, *, actor: str, reason: str) -> WithdrawalView:
        """Mark a signed or broadcast withdrawal failed: its transaction will never confirm
        (replaced, dropped, or its chain was reset). The signed bytes stay on record."""
        with unit_of_work(self.ctx) as session:
            self.ctx.audit.hold_head(session)  # the lock order: the audit head first
            row = load(session, withdrawal_id, lock=True)
            if move(self.ctx, session, row, State.FAILED, actor=actor, reason=reason):
                self.ports.policy.release(session, row.id)
            return view(session, row)
