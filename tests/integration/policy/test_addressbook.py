"""Address book: four-eyes proposals (identity's, kind ``address_book_entry``), cooling-off
per tier, immediate removal."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from kinko.context import Context
from kinko.core.clock import FixedClock
from kinko.core.errors import Conflict, InputError, NotFound, PermissionDenied
from kinko.core.events import SecurityEvent
from kinko.custody.model import Tier
from kinko.identity.permissions import Role
from kinko.policy.addressbook import AddressBookService
from kinko.policy.loader import load_policy
from kinko.policy.model import OwnerKind
from kinko.services import build_services
from kinko.store.tables.audit import AuditEntryRow
from tests.integration.policy.support import COLD_ADDR, HOT_POLICY
from tests.support.addressbook import add_entry, approve_entry, book_people, propose_entry
from tests.support.identity import make_user
from tests.support.services import adopt
from tests.support.votes import no_step_up


@pytest.fixture
def book(ctx: Context) -> AddressBookService:
    """The address book of a process whose policy cools hot entries off for 24 h, warm for
    48 h and cold for 72 h."""
    return adopt(build_services(ctx, policy=load_policy(HOT_POLICY, source="t"))).address_book


def add(ctx: Context, tiers: list[Tier], label: str = "cold") -> None:
    add_entry(ctx, COLD_ADDR.lower(), label=label, tiers=tiers)


def test_entry_becomes_effective_after_the_longest_cooling_off(
    ctx: Context, book: AddressBookService, clock: FixedClock
) -> None:
    proposer, approver = book_people(ctx)
    events: list[SecurityEvent] = []
    ctx.bus.subscribe(events.append)
    add(ctx, [Tier.HOT, Tier.WARM])
    with ctx.db.transaction() as s:
        entry = book.lookup(s, "ethereum", COLD_ADDR)
    assert entry is not None
    assert entry.address == COLD_ADDR  # stored in the adapter's EIP-55 form
    assert entry.effective_at == clock.now() + timedelta(hours=48)
    assert not entry.is_effective(clock.now())
    clock.advance(timedelta(hours=48))
    assert entry.allows(Tier.WARM, clock.now())
    assert not entry.allows(Tier.COLD, clock.now())
    assert [e.type for e in events] == [
        "addressbook.proposal",  # proposed
        "addressbook.change",  # the entry made, with its destination
        "addressbook.proposal",  # approved
        "four_eyes.approved",  # with how long the approver has been eligible
    ]
    assert events[1].destination == COLD_ADDR
    step = events[-1].fields
    assert (step["step"], step["proposer"], step["approver"]) == (
        "proposal.address_book_entry",
        f"user:{proposer}",
        f"user:{approver}",
    )
    assert step["eligible_roles"] == ["senior_approver"]
    assert step["oldest_approver_grant_days"] == 0  # granted today
    with ctx.db.transaction() as s:
        actions = list(
            s.execute(
                select(AuditEntryRow.action)
                .where(~AuditEntryRow.action.startswith("identity.role_unsafe"))
                .where(~AuditEntryRow.action.startswith("identity.user"))
                .order_by(AuditEntryRow.seq)
            ).scalars()
        )
    assert actions[-3:] == [
        "identity.proposal_create",
        "addressbook.approved",
        "identity.proposal_approve",
    ]


def test_proposer_cannot_approve_and_a_decided_proposal_is_final(
    ctx: Context, book: AddressBookService
) -> None:
    proposer, approver = book_people(ctx)
    # The proposer also holds addressbook:approve: four eyes still need someone else.
    both, _ = make_user(ctx, "both", [Role.REQUESTER, Role.SENIOR_APPROVER])
    proposal_id = propose_entry(
        ctx, COLD_ADDR, label="x", owner_kind=OwnerKind.PARTNER, tiers=[Tier.COLD], proposer=both
    )
    no_key = no_step_up(ctx)  # refused by the rules, before any key
    with ctx.db.transaction() as s, pytest.raises(PermissionDenied, match="approve their own"):
        book.approve(s, proposal_id=proposal_id, actor=both, vote=no_key)
    with ctx.db.transaction() as s, pytest.raises(PermissionDenied, match="senior_approver"):
        book.approve(s, proposal_id=proposal_id, actor=proposer, vote=no_key)  # not eligible
    with ctx.db.transaction() as s:
        assert book.lookup(s, "ethereum", COLD_ADDR) is None
        assert book.reject(s, proposal_id=proposal_id, actor=approver).status == "refused"
    with ctx.db.transaction() as s, pytest.raises(Conflict, match="already refused"):
        book.approve(s, proposal_id=proposal_id, actor=approver, vote=no_key)
    with ctx.db.transaction() as s, pytest.raises(NotFound):
        book.approve(s, proposal_id="prp_nope", actor=approver, vote=no_key)


def test_an_unwired_address_book_refuses_proposals(ctx: Context) -> None:
    """Fail closed: an address book built without identity's proposals cannot take one."""
    from kinko.core.errors import Unavailable

    with ctx.db.transaction() as s, pytest.raises(Unavailable, match="build_services"):
        AddressBookService(ctx).propose(
            s,
            chain="ethereum",
            address=COLD_ADDR,
            label="x",
            owner_kind=OwnerKind.PARTNER,
            tiers_allowed=[Tier.COLD],
            actor="user:nobody",
        )


def test_a_change_keeps_the_old_entry_until_the_new_one_is_effective(
    ctx: Context, book: AddressBookService, clock: FixedClock
) -> None:
    add(ctx, [Tier.HOT], label="old")
    clock.advance(timedelta(hours=25))
    proposal_id = propose_entry(ctx, COLD_ADDR, label="new", tiers=[Tier.HOT, Tier.COLD])
    with ctx.db.transaction() as s:
        found = book.proposal(s, proposal_id)
        assert found is not None and found.action == "change"
    approve_entry(ctx, proposal_id)
    with ctx.db.transaction() as s:
        current = book.lookup(s, "ethereum", COLD_ADDR)
    assert current is not None and current.label == "old"
    assert current.allows(Tier.HOT, clock.now())
    clock.advance(timedelta(hours=72))
    with ctx.db.transaction() as s:
        current = book.lookup(s, "ethereum", COLD_ADDR)
        assert len(book.entries(s)) == 1
    assert current is not None and current.label == "new"
    assert current.allows(Tier.COLD, clock.now())


def test_removal_is_immediate(ctx: Context, book: AddressBookService, clock: FixedClock) -> None:
    add(ctx, [Tier.HOT])
    clock.advance(timedelta(hours=25))
    with ctx.db.transaction() as s:
        removed = book.remove(
            s, chain="ethereum", address=COLD_ADDR, actor="u_carol", reason="partner offboarded"
        )
        assert len(removed) == 1
        assert book.lookup(s, "ethereum", COLD_ADDR) is None
        assert book.entries(s) == []
    with ctx.db.transaction() as s, pytest.raises(NotFound):
        book.remove(s, chain="ethereum", address=COLD_ADDR, actor="u_carol", reason="again")


@pytest.mark.parametrize(
    ("address", "label", "tiers", "field"),
    [
        ("0xnothex", "x", [Tier.HOT], "address"),
        (COLD_ADDR, "", [Tier.HOT], "label"),
        (COLD_ADDR, "x", [], "tiers"),
    ],
)
def test_bad_proposals_name_the_field(
    ctx: Context, book: AddressBookService, address: str, label: str, tiers: list[Tier], field: str
) -> None:
    with pytest.raises(InputError) as caught:
        propose_entry(ctx, address, label=label, owner_kind=OwnerKind.PARTNER, tiers=tiers)
    assert field in caught.value.field


def test_a_mistyped_checksum_is_refused(ctx: Context, book: AddressBookService) -> None:
    bad = COLD_ADDR[:-1] + "e"  # flips the case of one letter of an EIP-55 address
    with pytest.raises(InputError):
        propose_entry(ctx, bad, label="x", owner_kind=OwnerKind.PARTNER)
