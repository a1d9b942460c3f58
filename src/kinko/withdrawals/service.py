"""WithdrawalService: request -> screening -> policy -> unsigned tx (decoded back).

A new request is checked without a lock first (`intake.py`); then its record, screening
and decision commit together, in a transaction it may share with concurrent requests
(`group_commit.py`). Every later step is its own transaction with its audit entry inside
it; `advance` looks at the persisted state and runs the next step, so a process killed
between two steps resumes where it stopped. Approvals live in `approvals.py`, signing and
broadcast in `execution.py`: a withdrawal that policy allows (or whose released hold it
then allows) is handed to the executor here, once its transaction committed; no caller
has to ask for it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError as DBIntegrityError
from sqlalchemy.orm import Session

from kinko.chains.base import CallKind
from kinko.context import Context
from kinko.core.clock import isoformat
from kinko.core.errors import Conflict, InputError
from kinko.core.ids import new_id
from kinko.custody.model import Tier, WalletId
from kinko.policy.model import Outcome, PolicyRequest, ScreeningVerdict
from kinko.signer.bundle import ACTION_DECIDED, ACTION_REQUESTED
from kinko.store.dialect import locks_rows
from kinko.store.paging import newest_visible
from kinko.store.tables.custody import WalletRow
from kinko.store.tables.withdrawals import WithdrawalRow
from kinko.withdrawals.as_signed import AsSigned, as_signed
from kinko.withdrawals.cancel import cancel as cancel_withdrawal
from kinko.withdrawals.events import announce_request
from kinko.withdrawals.execution import Executor
from kinko.withdrawals.group_commit import GroupCommit
from kinko.withdrawals.holds import hold_row
from kinko.withdrawals.intake import (
    Checked,
    WithdrawalRequest,
    WriteOrder,
    check_request,
    existing_for_key,
    same_body,
)
from kinko.withdrawals.lookup import find_asset, find_wallet, remember_asset
from kinko.withdrawals.ports import Ports, Verdict
from kinko.withdrawals.records import (
    WithdrawalView,
    audit_later,
    load,
    move,
    unit_of_work,
    view,
)
from kinko.withdrawals.states import State, parse_state

__all__ = ["DEFAULT_APPROVAL_TTL", "WithdrawalRequest", "WithdrawalService"]

DEFAULT_APPROVAL_TTL = timedelta(hours=24)
SYSTEM = "system:withdrawals"


class WithdrawalService:
    def __init__(
        self,
        ctx: Context,
        ports: Ports,
        *,
        executor: Executor | None = None,
        approval_ttl: timedelta = DEFAULT_APPROVAL_TTL,
    ) -> None:
        """`executor`: signs and broadcasts what becomes approved (`Executor.after_approval`);
        None for a service that only holds or reads (nothing it does approves)."""
        self.ctx = ctx
        self.ports = ports
        self.executor = executor
        self.approval_ttl = approval_ttl
        self._writes = GroupCommit[WithdrawalView](ctx)

    # -- request ---------------------------------------------------------------------------

    def request(
        self,
        body: WithdrawalRequest,
        *,
        requester: str,
        idempotency_key: str,
        channel: str,
        authorise: Callable[[str, str], None] | None = None,
    ) -> WithdrawalView:
        """Record the request and run it to its decision. Same key + same body returns the
        same withdrawal; same key + another body is a Conflict (409).

        `authorise(asset, wallet_id)` is called with the asset symbol and the source wallet
        the request resolves to (named, or the default hot wallet) before anything is
        written; it raises to refuse (the caller's asset and wallet scopes)."""
        if not idempotency_key or len(idempotency_key) > 200:
            raise InputError("Idempotency-Key", "send a unique key of 1 to 200 characters")
        fingerprint = body.fingerprint(requester)
        # Everything that needs no lock is read and checked first, outside the writers'
        # queue (on SQLite there is one writer at a time): the idempotency key, the asset,
        # amount, source wallet and address, and the screening of the destination.
        with self.ctx.db.reading() as reader:
            existing = existing_for_key(reader, idempotency_key)
            checked = None if existing is not None else check_request(reader, body, self.ports)
        if existing is not None:
            return self.advance(same_body(existing, fingerprint))
        assert checked is not None
        if authorise is not None:
            authorise(checked.asset.symbol, checked.wallet_id)
        order = WriteOrder(body, requester, idempotency_key, fingerprint, channel, checked)
        return self.write(order)

    def _onward(self, current: WithdrawalView) -> WithdrawalView:
        """An approved withdrawal goes to execution (signed and broadcast if its wallet is
        hot and its chain has a node); anything else is answered as it is."""
        if self.executor is None or current.state is not State.APPROVED:
            return current
        return self.executor.after_approval(current)

    def write(self, order: WriteOrder) -> WithdrawalView:
        """The write phase of a checked request: the withdrawal row, its screening and
        its decision, in one transaction shared with the requests waiting beside it."""
        checked = order.checked

        def write(session: Session) -> WithdrawalView:
            # Request, screening and decision commit together: one durable step, and the
            # new row is written once, with its decision.
            row, wallet = self._create(
                session,
                checked,
                body=order.body,
                requester=order.requester,
                key=order.key,
                fingerprint=order.fingerprint,
                channel=order.channel,
            )
            screening = self._run_steps(session, row, wallet, checked.screening)
            now = self.ctx.clock.now()
            announce_request(session, row, screening, now=now, first_seen=checked.first_seen)
            return view(session, row, approvals=())

        try:
            # Concurrent requests share the transaction (kinko.withdrawals.group_commit).
            created = self._writes.run(write)
        except DBIntegrityError:
            # A concurrent request with the same key won the insert; answer as it did (the
            # copy that created it hands it on, not this one).
            with unit_of_work(self.ctx) as session:
                found = existing_for_key(session, order.key)
                if found is None:
                    raise
                withdrawal_id = same_body(found, order.fingerprint)
            return self.advance(withdrawal_id)
        # Handed on by the request that created it, in the caller's thread, once the group
        # commit answered it (its events published): never in the writer's turn, which the
        # next batch waits for.
        return self._onward(created)

    def _create(
        self,
        session: Session,
        checked: Checked,
        *,
        body: WithdrawalRequest,
        requester: str,
        key: str,
        fingerprint: str,
        channel: str,
    ) -> tuple[WithdrawalRow, WalletRow]:
        # The wallet again, now under the write lock: it may have been retired meanwhile.
        asset, amount, destination = checked.asset, checked.amount, checked.destination
        remember_asset(session, asset)  # assets are never edited: no need to read it again
        wallet = find_wallet(session, asset, checked.wallet_id)
        network = checked.network
        now = self.ctx.clock.now()
        row = WithdrawalRow(
            id=new_id("wd"),
            idempotency_key=key,
            request_hash=fingerprint,
            requester=requester,
            channel=channel,
            wallet_id=wallet.id,
            chain=wallet.chain,
            network=network,
            asset=asset.symbol,
            amount=amount.base_units,
            destination=destination,
            customer_ref=body.customer_ref,
            memo=body.memo,
            state=State.REQUESTED.value,
            eligible_roles=list(wallet.eligible_roles),
            version=0,
            created_at=now,
            updated_at=now,
        )
        session.add(row)
        audit_later(
            session,
            actor=requester,
            action=ACTION_REQUESTED,
            subject=row.id,
            details={
                "requester": requester,
                "channel": channel,
                "wallet": wallet.id,
                "asset": asset.key,
                "amount": str(amount.base_units),
                "destination": destination,
                "customer_ref": body.customer_ref,
                "request_sha256": fingerprint,
            },
            on_record=lambda record: setattr(row, "request_seq", record.seq),
        )
        return row, wallet

    # -- the steps -------------------------------------------------------------------------

    def advance(self, withdrawal_id: str) -> WithdrawalView:
        """Run the next automatic steps from the persisted state (resume after a crash)."""
        with unit_of_work(self.ctx) as session:
            row = load(session, withdrawal_id, lock=True)
            self._run_steps(session, row)
            return view(session, row)

    def _run_steps(
        self,
        session: Session,
        row: WithdrawalRow,
        wallet: WalletRow | None = None,
        screened: Verdict | None = None,
    ) -> str | None:
        """Run screening and the decision as far as they go; the screening status seen.
        `wallet`: the source wallet's row when this transaction created the withdrawal;
        `screened`: its destination's verdict, when screened just before."""
        screening: str | None = None
        for _ in range(2):
            state = parse_state(row.state)
            if state is State.REQUESTED:
                screening = self._screen(session, row, screened)
            elif state is State.SCREENED:
                self._decide(session, row, wallet)
            else:
                break
        return screening

    def _screen(self, session: Session, row: WithdrawalRow, verdict: Verdict | None) -> str:
        if verdict is None:
            verdict = self.ports.screener.screen_address(
                session, chain=row.chain, address=row.destination
            )
        status = str(verdict.status)
        details = {"screening": status}
        if status == "clear":
            move(self.ctx, session, row, State.SCREENED, actor=SYSTEM, details=details)
        elif status == "hit":
            move(
                self.ctx,
                session,
                row,
                State.DENIED,
                actor=SYSTEM,
                reason="destination is on a sanctions or stolen-funds list",
                details=details,
            )
        else:
            self._hold(session, row, f"screening is {status}: lists missing or stale", SYSTEM)
        return status

    def _decide(
        self, session: Session, row: WithdrawalRow, loaded: WalletRow | None = None
    ) -> None:
        # Lock the wallet: per-wallet choices (the next account nonce) are serialised, and
        # read it afresh under the lock. On SQLite `BEGIN IMMEDIATE` already holds the
        # single write lock, so the row `_create` loaded in this transaction is current.
        wallet: WalletRow | None = loaded
        if locks_rows(session):
            wallet = session.execute(
                select(WalletRow)
                .where(WalletRow.id == row.wallet_id)
                .with_for_update()
                .execution_options(populate_existing=True)
            ).scalar_one_or_none()
        elif wallet is None:
            wallet = session.get(WalletRow, row.wallet_id)
        if wallet is None:
            raise Conflict(f"wallet {row.wallet_id} disappeared")
        asset = find_asset(session, f"{row.chain}:{row.asset}")
        adapter = self.ports.chains.wallet_adapter(wallet)
        unsigned = self.ports.chains.build_unsigned(
            session, wallet, asset, row.amount, row.destination
        )
        # Decode what was built: approvers and policy judge the bytes, not the request.
        intent = adapter.decode(unsigned)
        digest = adapter.signing_digest(unsigned)
        if intent.destination != row.destination or intent.amount != row.amount:
            move(
                self.ctx,
                session,
                row,
                State.FAILED,
                actor=SYSTEM,
                reason="the built transaction does not do what was requested",
                details={"intent": intent.to_json()},
            )
            return
        policy_request = PolicyRequest(
            wallet_id=WalletId(wallet.id),
            tier=Tier(wallet.tier),
            chain=intent.chain,
            asset=row.asset,
            amount=intent.amount,
            destination=intent.destination,
            customer_ref=row.customer_ref,
            requester=row.requester,
            call_kind=CallKind(intent.call_kind),
            source=row.channel,
        )
        decision = self.ports.policy.evaluate_and_reserve(
            session,
            policy_request,
            withdrawal_id=row.id,
            screening=ScreeningVerdict.CLEAR,
            first=loaded is not None,
        )
        expires = self.ctx.clock.now() + self.approval_ttl
        row.unsigned_tx = unsigned
        row.intent = intent.to_json()
        row.digest = digest.hex()
        nonce = intent.details.get("nonce")
        row.account_nonce = nonce if isinstance(nonce, int) else None
        row.decision = decision.to_json()
        row.expires_at = expires
        audit_later(
            session,
            actor=SYSTEM,
            action=ACTION_DECIDED,
            subject=row.id,
            details={
                "wallet": wallet.id,
                "digest": digest.hex(),
                "unsigned_tx_sha256": hashlib.sha256(unsigned).hexdigest(),
                "intent": intent.to_json(),
                "policy": decision.to_json(),
                "eligible_roles": sorted(wallet.eligible_roles),
                "expires_at": isoformat(expires),
                # The signer decodes a Bitcoin PSBT with the descriptor recorded here.
                **({"descriptor": wallet.descriptor} if wallet.descriptor else {}),
            },
            on_record=lambda record: setattr(row, "decision_seq", record.seq),
        )
        summary = decision.summary()
        if decision.outcome is Outcome.DENY:
            self.ports.policy.release(session, row.id)
            move(self.ctx, session, row, State.DENIED, actor=SYSTEM, reason=summary)
        elif decision.outcome is Outcome.HOLD:
            self._hold(session, row, summary, SYSTEM)
        elif decision.outcome is Outcome.ALLOW:
            move(self.ctx, session, row, State.APPROVED, actor=SYSTEM, reason=summary)
        else:
            move(self.ctx, session, row, State.PENDING_APPROVAL, actor=SYSTEM, reason=summary)

    # -- holds and cancellation ------------------------------------------------------------

    def _hold(self, session: Session, row: WithdrawalRow, reason: str, actor: str) -> None:
        hold_row(self.ctx, self.ports.policy, session, row, reason=reason, actor=actor)

    def release_hold(self, withdrawal_id: str, *, actor: str, reason: str) -> WithdrawalView:
        """Release a hold: screening and policy run again from the top, at once."""
        if not reason.strip():
            raise InputError("reason", "say why the hold can be released")
        with unit_of_work(self.ctx) as session:
            row = load(session, withdrawal_id, lock=True)
            if parse_state(row.state) is not State.HELD:
                raise Conflict(f"withdrawal {withdrawal_id} is {row.state}, not held")
            move(
                self.ctx,
                session,
                row,
                State.REQUESTED,
                actor=actor,
                reason=reason,
                action="withdrawal.hold_released",
            )
            self._run_steps(session, row)
            decided = view(session, row)
        return self._onward(decided)

    def cancel(
        self,
        withdrawal_id: str,
        *,
        actor: str,
        reason: str,
        authorise: Callable[[WithdrawalView], None] | None = None,
    ) -> WithdrawalView:
        """Cancel before it is signed (`kinko.withdrawals.cancel`); `authorise(view)`
        raises to refuse the caller."""
        return cancel_withdrawal(
            self.ctx, self.ports, withdrawal_id, actor=actor, reason=reason, authorise=authorise
        )

    # -- reading ---------------------------------------------------------------------------

    def get(self, withdrawal_id: str) -> WithdrawalView:
        with unit_of_work(self.ctx) as session:
            return view(session, load(session, withdrawal_id))

    def as_signed(self, withdrawal_id: str) -> AsSigned | None:
        """What a signature of `withdrawal_id` would cover: its transaction on record,
        decoded and digested now (`kinko.withdrawals.as_signed`); None before it is built."""
        with self.ctx.db.reading() as session:
            return as_signed(self.ports.chains, session, load(session, withdrawal_id))

    def list(
        self,
        *,
        state: str | None = None,
        limit: int = 100,
        visible: Callable[[WithdrawalView], bool] | None = None,
    ) -> list[WithdrawalView]:
        """The newest `limit` withdrawals (in `state`) that `visible` accepts.

        The limit counts what the caller may see: rows outside a scoped caller's assets or
        wallets are skipped page by page, so they never push the caller's own off the list.
        """
        query = select(WithdrawalRow).order_by(
            WithdrawalRow.created_at.desc(), WithdrawalRow.id.desc()
        )
        if state is not None:
            if state not in {s.value for s in State}:
                known = ", ".join(s.value for s in State)
                raise InputError("state", f"{state!r} is not a state; use one of {known}")
            query = query.where(WithdrawalRow.state == state)
        with unit_of_work(self.ctx) as session:
            return newest_visible(
                session, query, limit=limit, convert=lambda r: view(session, r), visible=visible
            )
