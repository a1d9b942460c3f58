"""The exchange a replay runs against, and what the replay reads back from it.

A `Bench` is built by the caller from the composition root (`kinko.services`; the CLI's
`kinko.cli.replay.bench_for`): the real withdrawal services, signer, freezes and monitor on
an in-process Ethereum chain (eth-tester / py-evm). The readers below take the outcome
from the chain and from Kinko's own records (audit log, alerts, freezes), never from the
replay's own belief about what should have happened.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import select

from kinko.context import Context
from kinko.core.clock import FixedClock
from kinko.core.errors import InputError
from kinko.custody.keys import NonceReport
from kinko.custody.model import Tier
from kinko.identity.model import ProposalKind
from kinko.identity.softauthn import SoftAuthenticator
from kinko.monitor.service import MonitorService
from kinko.monitor.triage import TriageService
from kinko.policy.freeze import FreezeService
from kinko.policy.model import OwnerKind
from kinko.store.tables.audit import AuditEntryRow
from kinko.store.tables.monitor import AlertRow
from kinko.withdrawals.stack import WithdrawalStack


class Booker(Protocol):
    def __call__(
        self,
        address: str,
        label: str,
        *,
        chain: str = "ethereum",
        owner_kind: OwnerKind | None = None,
        tiers: tuple[Tier, ...] = (),
    ) -> None:
        """`address` into the address book by four eyes: by default as one of the
        exchange's own Ethereum wallets, for hot and warm wallets."""


@dataclass(frozen=True)
class Bench:
    """The exchange under replay. `users` maps a person's name (alice the requester, bob
    and carol the approvers) to their user id; `authenticators` holds their security keys."""

    ctx: Context
    w3: Any
    stack: WithdrawalStack
    freezes: FreezeService
    start_monitor: Callable[[], MonitorService]
    users: Mapping[str, str]
    authenticators: Mapping[str, SoftAuthenticator]
    book: Booker
    """Put (address, label) in the address book, by four eyes (`Booker`)."""
    triage: TriageService
    person: Callable[[str], str]
    """Enrol a member of staff by name (no security key); their user id."""
    register: Callable[[ProposalKind, dict[str, Any]], str]
    """A custody registration (a key share, a delegation) by four eyes, through identity's
    proposals: an operator proposes, a security admin approves with their key; the
    proposal id (a `KinkoError` when refused, proposed or approved)."""
    nonce_check: Callable[[str], NonceReport]
    """The nonce self-test as `actor` (the composition root's: a failed test freezes)."""
    hot_wallet: str = "wal_eth_hot"
    warm_wallet: str = "wal_eth_warm"

    @property
    def clock(self) -> FixedClock:
        clock = self.ctx.clock
        if not isinstance(clock, FixedClock):  # fail closed: chain time drives Kinko's clock
            raise InputError("clock", "a replay needs a FixedClock it can move with the chain")
        return clock

    def approve(self, name: str, withdrawal_id: str) -> Any:
        """`name` approves over the challenge Kinko issues them (a person with a security
        key who approves what their screen shows)."""
        approvals = self.stack.approvals
        issued = approvals.challenge(withdrawal_id, approver=self.users[name])
        assertion = self.authenticators[name].assert_(
            challenge=issued.challenge, origin=self.ctx.settings.webauthn_origin
        )
        return approvals.approve(withdrawal_id, approver=self.users[name], assertion=assertion)

    def balance(self, address: str) -> int:
        return int(self.w3.eth.get_balance(address))

    def chain_time(self, block: int | str = "latest") -> datetime:
        return datetime.fromtimestamp(int(self.w3.eth.get_block(block)["timestamp"]), UTC)

    def pass_time(self, seconds: int) -> datetime:
        """Let `seconds` pass on the chain (its next block's time) and on Kinko's clock."""
        target = int(max(self.chain_time(), self.clock.now()).timestamp()) + seconds
        self.w3.provider.ethereum_tester.time_travel(target)
        return self.sync_clock()

    def sync_clock(self, after: timedelta = timedelta(0)) -> datetime:
        """Kinko's clock to the chain's latest block time plus `after` (never backwards)."""
        when = max(self.chain_time() + after, self.clock.now())
        self.clock.set(when)
        return when


@dataclass(frozen=True, slots=True)
class Entry:
    seq: int
    time: datetime
    action: str
    subject: str
    details: Mapping[str, Any]


def audit_entries(ctx: Context, *, after_seq: int = 0, prefix: str = "") -> list[Entry]:
    """The audit log's entries after `after_seq` whose action starts with `prefix`."""
    with ctx.db.reading() as session:
        rows = session.execute(
            select(AuditEntryRow)
            .where(AuditEntryRow.seq > after_seq, AuditEntryRow.action.like(f"{prefix}%"))
            .order_by(AuditEntryRow.seq)
        ).scalars()
        out = []
        for row in rows:
            body = json.loads(row.entry)
            details = body.get("details") if isinstance(body, dict) else None
            out.append(Entry(row.seq, _aware(row.time), row.action, row.subject, details or {}))
    return out


def last_seq(ctx: Context) -> int:
    entries = audit_entries(ctx)
    return entries[-1].seq if entries else 0


@dataclass(frozen=True, slots=True)
class Alert:
    id: str
    rule_id: str
    created_at: datetime


def alerts(ctx: Context) -> list[Alert]:
    with ctx.db.reading() as session:
        rows = session.execute(select(AlertRow).order_by(AlertRow.created_at)).scalars()
        return [Alert(r.id, r.rule_id, _aware(r.created_at)) for r in rows]


def _aware(when: datetime) -> datetime:
    return when if when.tzinfo else when.replace(tzinfo=UTC)
