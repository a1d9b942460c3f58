"""Address book: four-eyes proposals, cooling-off per tier, immediate removal."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from kinko.context import Context
from kinko.core.clock import FixedClock
from kinko.core.errors import Conflict, InputError, NotFound, PermissionDenied
from kinko.core.events import SecurityEvent
from kinko.custody.model import Tier
from kinko.identity.step_ups import UNSAFE_NO_STEP_UP
from kinko.policy.addressbook import AddressBookService
from kinko.policy.model import OwnerKind
from kinko.store.tables.audit import AuditEntryRow
from tests.integration.policy.support import COLD_ADDR
from tests.support.votes import no_step_up

COOLING = {
    Tier.HOT: timedelta(hours=1),
    Tier.WARM: timedelta(hours=48),
    Tier.COLD: timedelta(hours=72),
}


@pytest.fixture
def book(ctx: Context) -> AddressBookService:
    return AddressBookService(ctx, cooling_off=COOLING)


def add(ctx: Context, book: AddressBookService, tiers: list[Tier], label: str = "cold") -> str:
    with ctx.db.transaction() as s:
        proposal = book.propose(
            s,
            chain="ethereum",
            address=COLD_ADDR.lower(),
            label=label,
            owner_kind=OwnerKind.OWN_WALLET,
            tiers_allowed=tiers,
            actor="u_alice",
        )
        book.approve(s, proposal_id=proposal.id, actor="u_bob", vote=UNSAFE_NO_STEP_UP)
    return proposal.id


def test_entry_becomes_effective_after_the_longest_cooling_off(
    ctx: Context, book: AddressBookService, clock: FixedClock
) -> None:
    events: list[SecurityEvent] = []
    ctx.bus.subscribe(events.append)
    add(ctx, book, [Tier.HOT, Tier.WARM])
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
        "addressbook.change",  # proposed
        "addressbook.change",  # approved
        "four_eyes.approved",  # with how long the approver has been eligible
    ]
    step = events[-1].fields
    assert (step["step"], step["proposer"], step["approver"]) == (
        "addressbook.approve",
        "user:u_alice",
        "user:u_bob",
    )
    assert step["oldest_approver_grant_days"] == 0  # u_bob holds no senior_approver grant
    with ctx.db.transaction() as s:
        actions = list(
            s.execute(select(AuditEntryRow.action).order_by(AuditEntryRow.seq)).scalars()
        )
    assert actions == ["addressbook.add_proposed", "addressbook.approved"]


def test_proposer_cannot_approve_and_a_decided_proposal_is_final(
    ctx: Context, book: AddressBookService
) -> None:
    with ctx.db.transaction() as s:
        proposal = book.propose(
            s,
            chain="ethereum",
            address=COLD_ADDR,
            label="x",
            owner_kind=OwnerKind.PARTNER,
            tiers_allowed=[Tier.COLD],
            actor="u_alice",
        )
    no_key = no_step_up(ctx)  # refused by the rules, before any key
    with ctx.db.transaction() as s, pytest.raises(PermissionDenied, match="second person"):
        book.approve(s, proposal_id=proposal.id, actor="u_alice", vote=no_key)
    with ctx.db.transaction() as s:
        assert book.lookup(s, "ethereum", COLD_ADDR) is None
        book.reject(s, proposal_id=proposal.id, actor="u_bob")
    with ctx.db.transaction() as s, pytest.raises(Conflict, match="already rejected"):
        book.approve(s, proposal_id=proposal.id, actor="u_bob", vote=no_key)
    with ctx.db.transaction() as s, pytest.raises(NotFound):
        book.approve(s, proposal_id="abp_nope", actor="u_bob", vote=no_key)


def test_a_change_keeps_the_old_entry_until_the_new_one_is_effective(
    ctx: Context, book: AddressBookService, clock: FixedClock
) -> None:
    add(ctx, book, [Tier.HOT], label="old")
    clock.advance(timedelta(hours=2))
    with ctx.db.transaction() as s:
        proposal = book.propose(
            s,
            chain="ethereum",
            address=COLD_ADDR,
            label="new",
            owner_kind=OwnerKind.OWN_WALLET,
            tiers_allowed=[Tier.HOT, Tier.COLD],
            actor="u_alice",
        )
        assert proposal.action == "change"
        book.approve(s, proposal_id=proposal.id, actor="u_bob", vote=UNSAFE_NO_STEP_UP)
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
    add(ctx, book, [Tier.HOT])
    clock.advance(timedelta(hours=2))
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
    with ctx.db.transaction() as s, pytest.raises(InputError) as caught:
        book.propose(
            s,
            chain="ethereum",
            address=address,
            label=label,
            owner_kind=OwnerKind.PARTNER,
            tiers_allowed=tiers,
            actor="u_alice",
        )
    assert field in caught.value.field


def test_a_mistyped_checksum_is_refused(ctx: Context, book: AddressBookService) -> None:
    bad = COLD_ADDR[:-1] + "e"  # flips the case of one letter of an EIP-55 address
    with ctx.db.transaction() as s, pytest.raises(InputError):
        book.propose(
            s,
            chain="ethereum",
            address=bad,
            label="x",
            owner_kind=OwnerKind.PARTNER,
            tiers_allowed=[Tier.HOT],
            actor="u_alice",
        )
