"""Every two-person step answers to the one set of four-eyes rules (kinko.identity.four_eyes):
a stored proposal expires, and the second person and the proposer must both still be
active and eligible when the second one acts. On both databases."""

from __future__ import annotations

import pytest
from sqlalchemy import update

from kinko.context import Context
from kinko.core.clock import FixedClock
from kinko.core.errors import Conflict, PermissionDenied
from kinko.custody.model import Tier
from kinko.identity.four_eyes import PROPOSAL_LIFETIME
from kinko.identity.model import UserId, UserState
from kinko.identity.service import IdentityService
from kinko.policy.model import FreezeScope
from kinko.services import Services
from kinko.store.tables.identity import RoleGrantRow
from tests.integration.policy.support import COLD_ADDR
from tests.support.addressbook import book_people, propose_entry
from tests.support.identity import make_user
from tests.support.services import services_of
from tests.support.votes import no_step_up


@pytest.fixture
def admins(ctx: Context) -> tuple[UserId, UserId, UserId]:
    return tuple(  # type: ignore[return-value]
        make_user(ctx, name, ["security_admin"])[0] for name in ("sec1", "sec2", "sec3")
    )


def suspend(ctx: Context, user: UserId) -> None:
    with ctx.db.transaction() as s:
        IdentityService(ctx).users.set_state(
            s, user, UserState.SUSPENDED, actor="system:test", reason="test"
        )


def test_an_unfreeze_proposal_expires_and_needs_two_active_admins(
    ctx: Context, services: Services, clock: FixedClock, admins: tuple[UserId, UserId, UserId]
) -> None:
    sec1, sec2, sec3 = admins
    freezes = services.freezes
    with ctx.db.transaction() as s:
        frozen = freezes.freeze(s, scope=FreezeScope.ALL, target=None, reason="x", actor="u_ops")
        stale = freezes.propose_unfreeze(s, freeze_id=frozen.id, user_id=sec1, reason="ok")
    clock.advance(PROPOSAL_LIFETIME)
    with ctx.db.transaction() as s, pytest.raises(Conflict, match="expired at") as gone:
        freezes.approve_unfreeze(s, proposal_id=stale.id, user_id=sec2, vote=no_step_up(ctx))
    assert gone.value.code == "proposal_expired"
    with ctx.db.transaction() as s:
        fresh = freezes.propose_unfreeze(s, freeze_id=frozen.id, user_id=sec1, reason="ok")
    suspend(ctx, sec3)  # a suspended admin is no second pair of eyes
    with ctx.db.transaction() as s, pytest.raises(PermissionDenied) as inactive:
        freezes.approve_unfreeze(s, proposal_id=fresh.id, user_id=sec3, vote=no_step_up(ctx))
    assert inactive.value.code == "approver_inactive"
    suspend(ctx, sec1)  # nor is a proposal of someone suspended since approvable
    with ctx.db.transaction() as s, pytest.raises(Conflict, match="sec1, who proposed") as gone:
        freezes.approve_unfreeze(s, proposal_id=fresh.id, user_id=sec2, vote=no_step_up(ctx))
    assert gone.value.code == "proposer_ineligible"
    with ctx.db.transaction() as s:
        assert [f.id for f in freezes.active_freezes(s)] == [frozen.id]


def test_an_address_book_proposal_expires(ctx: Context, clock: FixedClock) -> None:
    book = services_of(ctx).address_book
    proposal_id = propose_entry(ctx, COLD_ADDR, label="cold", tiers=[Tier.COLD])
    _, approver = book_people(ctx)
    clock.advance(PROPOSAL_LIFETIME)
    with ctx.db.transaction() as s, pytest.raises(Conflict, match="expired at") as gone:
        book.approve(s, proposal_id=proposal_id, actor=approver, vote=no_step_up(ctx))
    assert gone.value.code == "proposal_expired"
    with ctx.db.transaction() as s:
        assert book.lookup(s, "ethereum", COLD_ADDR) is None


def test_an_address_book_proposal_of_someone_no_longer_a_requester_is_refused(
    ctx: Context,
) -> None:
    """The proposer of an address-book entry must still hold a role that may propose one
    (`Step.proposers`): a requester whose role was taken away meanwhile cannot have their
    entry approved, although the approver's own roles are another set."""
    book = services_of(ctx).address_book
    proposer, approver = book_people(ctx)
    proposal_id = propose_entry(ctx, COLD_ADDR, label="cold", tiers=[Tier.COLD])
    with ctx.db.transaction() as s:
        s.execute(
            update(RoleGrantRow)
            .where(RoleGrantRow.user_id == proposer)
            .values(revoked_at=ctx.clock.now())
        )
    with ctx.db.transaction() as s, pytest.raises(Conflict, match="no longer an active requester"):
        book.approve(s, proposal_id=proposal_id, actor=approver, vote=no_step_up(ctx))
