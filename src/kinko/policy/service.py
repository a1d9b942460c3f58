"""`PolicyService`: gather the context from the store, decide, reserve velocity.

All of it happens in the caller's transaction, so a reservation, its audit entry and the
withdrawal's own state change commit together or not at all.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from datetime import timedelta

import structlog
from sqlalchemy import select
from sqlalchemy.orm import Session

from kinko.audit.service import AuditItem
from kinko.context import Context
from kinko.custody.model import Tier
from kinko.policy import velocity, versions
from kinko.policy.addressbook import AddressBookService
from kinko.policy.diff import Weakening
from kinko.policy.engine import evaluate
from kinko.policy.freeze import FreezeService
from kinko.policy.loader import default_policy, load_policy_file
from kinko.policy.model import (
    Decision,
    Outcome,
    PolicyContext,
    PolicyRequest,
    ScreeningVerdict,
    VelocityKey,
)
from kinko.policy.rules import Policy
from kinko.store.tables.custody import WalletRow

log = structlog.get_logger("kinko.policy")


def configured_policy(ctx: Context, *, warn: bool = True) -> Policy:
    """The policy named by ``policy_path``, else the packaged sample (with a warning,
    unless the caller chose the sample on purpose: `warn` False, e.g. the demo).

    Call it only where a decision needs the policy (deciding a withdrawal, the cooling-off
    of an approved address): the warning then appears where the sample policy matters,
    not on every command that merely lists or shows."""
    if ctx.settings.policy_path is not None:
        return load_policy_file(ctx.settings.policy_path)
    if warn:
        log.warning(
            "no policy_path configured; deciding with the packaged sample policy "
            "(set policy_path in kinko.toml or KINKO_POLICY_PATH; see docs/policy.md)"
        )
    return default_policy()


def _own_wallet(session: Session, request: PolicyRequest) -> str | None:
    """The exchange's wallet whose address (as its chain adapter normalised it, like the
    request's destination) the request pays into, if any."""
    return session.execute(
        select(WalletRow.id)
        .where(WalletRow.chain == request.chain, WalletRow.address == request.destination)
        .limit(1)
    ).scalar_one_or_none()


class PolicyService:
    """Decisions under `policy`, or under the configured one, read on first use."""

    def __init__(
        self,
        ctx: Context,
        policy: Policy | None = None,
        *,
        freezes: FreezeService,
        addresses: AddressBookService,
    ) -> None:
        """`freezes`, `addresses`: the process's freeze service and address book (the
        composition root, `kinko.services`, hands them in)."""
        self.ctx = ctx
        self._policy = policy
        # Read from this process's configuration: it must be approved to take over.
        self._configured = policy is None
        self.addresses = addresses
        self.freezes = freezes

    def deciding_with(self, policy: Policy) -> PolicyService:
        """This service deciding with `policy` instead, with the same address book and
        freezes (a test's or a benchmark's policy)."""
        other = copy.copy(self)
        other._policy = policy
        other._configured = False
        return other

    @property
    def policy(self) -> Policy:
        if self._policy is None:
            self._policy = configured_policy(self.ctx)
        return self._policy

    @property
    def cooling_off(self) -> Mapping[Tier, timedelta]:
        return self.policy.cooling_off

    def context_for(
        self, session: Session, request: PolicyRequest, *, screening: ScreeningVerdict
    ) -> PolicyContext:
        """Read what the engine needs (locks nothing; use `evaluate_and_reserve` to act)."""
        now = self.ctx.clock.now()
        totals = velocity.totals(session, request, self.policy.velocity_keys(request), now)
        return self._context(session, request, totals, screening)

    def _context(
        self,
        session: Session,
        request: PolicyRequest,
        totals: dict[VelocityKey, int],
        screening: ScreeningVerdict,
    ) -> PolicyContext:
        freezes = tuple(self.freezes.active_freezes(session))
        return PolicyContext(
            velocity=totals,
            address_entry=self.addresses.lookup(session, request.chain, request.destination),
            freezes=freezes,
            screening=screening,
            destination_wallet=_own_wallet(session, request) if freezes else None,
        )

    def evaluate_and_reserve(
        self,
        session: Session,
        request: PolicyRequest,
        *,
        withdrawal_id: str,
        screening: ScreeningVerdict,
        first: bool = False,
    ) -> Decision:
        """Decide on `request`; unless denied, reserve its amount in every velocity window.

        The request's velocity counters stay locked until the caller's transaction ends,
        so concurrent requests see each other's reservations. Deciding again for the same
        `withdrawal_id` replaces its earlier reservation instead of counting it twice;
        `first=True` says there is none (the withdrawal was created in this transaction).
        """
        # Lock order (AuditLog.hold_head): the audit head, then velocity counters (sorted).
        self.ctx.audit.hold_head(session)
        velocity.lock_counters(session, velocity.counter_keys(request))
        self.record_version(session)
        now = self.ctx.clock.now()
        replaced = 0 if first else velocity.release(session, withdrawal_id, now)
        wanted = self.policy.velocity_keys(request)
        windows = velocity.open_windows(session, request, wanted, now)
        decision = evaluate(
            self.policy,
            request,
            self._context(session, request, windows.totals(wanted), screening),
            now,
        )
        if decision.outcome is not Outcome.DENY:
            velocity.reserve(
                session, request, withdrawal_id=withdrawal_id, now=now, windows=windows
            )
        # Deferred to the end of the caller's unit of work when it has one (one head lock).
        self.ctx.audit.defer(
            session,
            AuditItem(
                actor=f"policy:{self.policy.version}",
                action="policy.decision",
                subject=withdrawal_id,
                details={
                    "request": request.to_json(),
                    "decision": decision.to_json(),
                    "reserved": decision.outcome is not Outcome.DENY,
                    "replaced_reservation": str(replaced) if replaced else None,
                },
            ),
        )
        return decision

    def release(self, session: Session, withdrawal_id: str) -> int:
        """Stop counting a denied / cancelled / expired / rejected withdrawal's amount.

        Returns the amount released (0 when nothing was reserved, e.g. released already).
        """
        # Lock order, as in `evaluate_and_reserve`: the audit head, then the counters
        # (velocity.release locks them; this transaction's audit entry comes later).
        self.ctx.audit.hold_head(session)
        amount = velocity.release(session, withdrawal_id, self.ctx.clock.now())
        if amount:
            self.ctx.audit.defer(
                session,
                AuditItem(
                    actor="policy",
                    action="policy.release",
                    subject=withdrawal_id,
                    details={"amount": str(amount)},
                ),
            )
        return amount

    def record_version(self, session: Session) -> list[Weakening]:
        """Make this policy the one in force (call at start-up); returns how it loosens the
        previous one, each of which is audited and published as ``policy.change``."""
        return versions.activate(self.ctx, session, self.policy, configured=self._configured)
