"""Address-book entries as the people allowed to make them make them.

An entry is an identity proposal (kind ``address_book_entry``): a holder of
``addressbook:propose`` (a requester) proposes, a second person holding
``addressbook:approve`` (a senior approver) approves. `book_people` makes the two people
once per data directory; `add_entry` proposes and approves through the composition root's
address book (`kinko.services`), with the approver's own key unless a test says
otherwise.
"""

from __future__ import annotations

from collections.abc import Iterable

from kinko.context import Context
from kinko.custody.model import Tier
from kinko.identity.approval_terms import ApprovalKind
from kinko.identity.model import UserId
from kinko.identity.permissions import Role
from kinko.identity.step_ups import UNSAFE_NO_STEP_UP, SecondVote
from kinko.policy.model import AddressBookEntry, OwnerKind
from tests.support.identity import make_user
from tests.support.services import services_of
from tests.support.votes import key_vote

_PEOPLE: dict[str, tuple[UserId, UserId]] = {}


def book_people(ctx: Context) -> tuple[UserId, UserId]:
    """(proposer, approver) of address-book entries: a requester and a senior approver."""
    key = str(ctx.settings.data_dir) + str(id(ctx))
    found = _PEOPLE.get(key)
    if found is None:
        proposer, _ = make_user(ctx, "book-proposer", [Role.REQUESTER])
        approver, _ = make_user(ctx, "book-approver", [Role.SENIOR_APPROVER])
        found = _PEOPLE[key] = (proposer, approver)
    return found


def propose_entry(
    ctx: Context,
    address: str,
    *,
    chain: str = "ethereum",
    label: str = "entry",
    owner_kind: OwnerKind = OwnerKind.OWN_WALLET,
    tiers: Iterable[Tier] = (Tier.HOT,),
    proposer: str | None = None,
) -> str:
    """Propose an entry (by `proposer`, else `book_people`'s); the proposal's id."""
    who = proposer or book_people(ctx)[0]
    with ctx.db.transaction() as session:
        proposal = services_of(ctx).address_book.propose(
            session,
            chain=chain,
            address=address,
            label=label,
            owner_kind=owner_kind,
            tiers_allowed=list(tiers),
            actor=f"user:{who.removeprefix('user:')}",
        )
    return proposal.id


def approve_entry(
    ctx: Context, proposal_id: str, *, approver: str | None = None, with_key: bool = False
) -> AddressBookEntry:
    """Approve `proposal_id` (by `approver`, else `book_people`'s); with their key when
    `with_key` (else the tests' unsafe vote: the rules are what the test is about)."""
    who = (approver or book_people(ctx)[1]).removeprefix("user:")
    vote: SecondVote = (
        key_vote(ctx, who, ApprovalKind.PROPOSAL, proposal_id) if with_key else UNSAFE_NO_STEP_UP
    )
    with ctx.db.transaction() as session:
        return services_of(ctx).address_book.approve(
            session, proposal_id=proposal_id, actor=f"user:{who}", vote=vote
        )


def add_entry(ctx: Context, address: str, **proposed: object) -> AddressBookEntry:
    """Propose and approve an entry for `address` (`propose_entry`'s options)."""
    return approve_entry(ctx, propose_entry(ctx, address, **proposed))  # type: ignore[arg-type]
