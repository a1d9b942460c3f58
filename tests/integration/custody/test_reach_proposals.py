"""No legal entity reaches a wallet's quorum on its own (issue 18, Ronin): key shares and
delegations go through identity's four-eyes proposals (the composition root's), and the
key inventory refuses, when proposed and again when approved, what would let one entity
reach m; a delegation past its end counts for nothing; revocation is one person's, at
once. On both databases."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from kinko.context import Context
from kinko.core.clock import FixedClock
from kinko.core.errors import Conflict, InputError
from kinko.custody import delegations, keys
from kinko.custody.reach import CODE
from kinko.identity.approval_terms import ApprovalKind
from kinko.identity.model import ProposalKind, ProposalState
from kinko.services import Services
from kinko.store.tables.audit import AuditEntryRow
from tests.integration.custody.exchange import Wallets, set_up
from tests.support.identity import make_user
from tests.support.votes import key_vote

CEREMONY = {"performed_at": "2026-11-01", "witnesses": ["a", "b"], "procedure": "KGC-7"}
DAY = timedelta(days=1)


class Desk:
    """Two operators (custody:write) who propose and approve through identity."""

    def __init__(self, ctx: Context, services: Services) -> None:
        self.ctx, self.services = ctx, services
        self.ids: Wallets = set_up(ctx)
        self.olga = make_user(ctx, "olga", ["operator"])[0]
        self.otto = make_user(ctx, "otto", ["operator"])[0]
        self.n = 0

    def propose(self, kind: ProposalKind, payload: dict[str, Any]) -> str:
        with self.ctx.db.transaction() as s:
            return self.services.identity.roles.propose(
                s, actor=self.olga, kind=kind, payload=payload, reason="test"
            ).id

    def approve(self, proposal: str) -> str:
        vote = key_vote(self.ctx, self.otto, ApprovalKind.PROPOSAL, proposal)
        with self.ctx.db.transaction() as s:
            return self.services.identity.roles.approve(
                s, proposal, actor=self.otto, vote=vote
            ).state.value

    def share(self, entity: str, wallet: str | None = None) -> dict[str, Any]:
        self.n += 1
        holder = make_user(self.ctx, f"holder{self.n}", with_authenticator=False)[0]
        return {
            "wallet_id": wallet or self.ids.btc_cold,
            "holder": holder,
            "device": f"hsm-{self.n}",
            "site": "tokyo",
            "legal_entity": entity,
            "public_key": f"02{self.n:064x}",
            "ceremony": CEREMONY,
        }

    def delegation(self, a: str, b: str, *, ends: timedelta = 30 * DAY) -> dict[str, Any]:
        now = self.ctx.clock.now()
        return {
            "wallet_id": self.ids.btc_cold,
            "from_entity": a,
            "to_entity": b,
            "ends_at": (now + ends).isoformat(),
        }

    def register(self, kind: ProposalKind, payload: dict[str, Any]) -> None:
        assert self.approve(self.propose(kind, payload)) == ProposalState.APPROVED.value


@pytest.fixture
def desk(ctx: Context, services: Services) -> Desk:
    return Desk(ctx, services)


SHARE, DELEGATION = ProposalKind.REGISTER_KEY_SHARE, ProposalKind.REGISTER_DELEGATION


def test_a_share_within_one_entitys_reach_is_refused_when_proposed(desk: Desk) -> None:
    desk.register(SHARE, desk.share("Kinko KK"))  # btc-cold is 2-of-3
    with pytest.raises(Conflict) as err:
        desk.propose(SHARE, desk.share("Kinko KK"))
    assert err.value.code == CODE
    assert "'Kinko KK' would reach 2 shares" in err.value.message
    assert "quorum is 2" in err.value.message and "another legal entity" in err.value.message
    desk.register(SHARE, desk.share("Custodian AG"))  # another entity: accepted


def test_the_check_runs_again_when_approved(desk: Desk) -> None:
    first = desk.propose(SHARE, desk.share("Kinko KK"))
    second = desk.propose(SHARE, desk.share("Kinko KK"))  # nothing stored yet: reach 1
    assert desk.approve(first) == "approved"
    with pytest.raises(Conflict, match="would reach 2"):
        desk.approve(second)
    with desk.ctx.db.reading() as s:
        assert [k.legal_entity for k in keys.shares(s, desk.ids.btc_cold)] == ["Kinko KK"]


def test_a_delegation_is_checked_again_when_approved(desk: Desk) -> None:
    desk.register(SHARE, desk.share("Kinko KK"))
    pending = desk.propose(DELEGATION, desk.delegation("Custodian AG", "Kinko KK"))  # reach 1
    desk.register(SHARE, desk.share("Custodian AG"))  # meanwhile Custodian AG holds a share
    with pytest.raises(Conflict) as err:
        desk.approve(pending)
    assert err.value.code == CODE and "'Kinko KK' would reach 2" in err.value.message
    with desk.ctx.db.reading() as s:
        assert delegations.delegations(s, desk.ids.btc_cold) == []


def test_a_live_delegation_counts_and_one_past_its_end_counts_for_nothing(
    desk: Desk, clock: FixedClock
) -> None:
    desk.register(SHARE, desk.share("Kinko KK"))
    desk.register(SHARE, desk.share("Custodian AG"))
    # Custodian AG's signing delegated to Kinko KK: Kinko KK would reach 2 of 2.
    with pytest.raises(Conflict) as err:
        desk.propose(DELEGATION, desk.delegation("Custodian AG", "Kinko KK"))
    assert err.value.code == CODE and "1 delegated by Custodian AG" in err.value.message
    # A delegation already past its end is refused.
    with pytest.raises(InputError) as ended:
        desk.propose(DELEGATION, desk.delegation("Custodian AG", "Vault Ltd", ends=-DAY))
    assert (ended.value.field, ended.value.code) == ("ends_at", "delegation_expired")
    # To an entity holding nothing: accepted; its share would then be refused ...
    desk.register(DELEGATION, desk.delegation("Custodian AG", "Vault Ltd", ends=2 * DAY))
    with pytest.raises(Conflict, match="'Vault Ltd' would reach 2"):
        desk.propose(SHARE, desk.share("Vault Ltd"))
    # ... until the delegation is past its end: then it counts for nothing, and the
    # listing says it expired.
    clock.advance(3 * DAY)
    desk.register(SHARE, desk.share("Vault Ltd"))
    with desk.ctx.db.reading() as s:
        (row,) = delegations.delegations(s, desk.ids.btc_cold)
        assert delegations.state(row, clock.now()) is delegations.DelegationState.EXPIRED


def test_revocation_is_one_persons_at_once_and_audited(desk: Desk) -> None:
    desk.register(SHARE, desk.share("Kinko KK"))
    desk.register(DELEGATION, desk.delegation("Vault Ltd", "Kinko KK"))
    with desk.ctx.db.reading() as s:
        (row,) = delegations.delegations(s, desk.ids.btc_cold)
    ctx = desk.ctx
    with pytest.raises(InputError, match="reason"), ctx.db.transaction() as s:
        delegations.revoke(ctx, s, row.id, reason=" ", actor=f"user:{desk.olga}")
    with ctx.db.transaction() as s:
        delegations.revoke(ctx, s, row.id, reason="contract ended", actor=f"user:{desk.olga}")
    with pytest.raises(Conflict, match="already revoked"), ctx.db.transaction() as s:
        delegations.revoke(ctx, s, row.id, reason="again", actor=f"user:{desk.olga}")
    with ctx.db.reading() as s:
        actions = list(
            s.execute(
                select(AuditEntryRow.action, AuditEntryRow.subject).where(
                    AuditEntryRow.action.like("custody.delegation.%")
                )
            ).all()
        )
        (after,) = delegations.delegations(s, desk.ids.btc_cold)
    assert [tuple(a) for a in actions] == [
        ("custody.delegation.register", row.id),
        ("custody.delegation.revoke", row.id),
    ]
    assert delegations.state(after, ctx.clock.now()).value == "revoked"
    assert after.revoked_by == f"user:{desk.olga}"
    # Revoked: the delegation no longer counts, Vault Ltd's share is accepted.
    desk.register(SHARE, desk.share("Vault Ltd"))


def test_a_single_key_wallet_takes_its_one_share(desk: Desk) -> None:
    desk.register(SHARE, desk.share("Kinko KK", desk.ids.eth_hot))  # 1-of-1
