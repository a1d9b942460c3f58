"""The address book: where warm and cold wallets may send.

Adding or changing an entry is a four-eyes proposal: one person proposes, a different
person approves (the rules of `kinko.identity.four_eyes`; who may approve at all is the
route's ``addressbook:approve`` permission), and the entry counts only after a cooling-off
period (per tier, default 48 h) measured from the approval. A change leaves the old entry
in force until the new one becomes effective. Removal is immediate and needs one person.
Every step is audited and published as an ``addressbook.change`` security event.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from kinko.chains.destinations import refuse_unspendable_anywhere
from kinko.context import Context
from kinko.core.clock import isoformat, utc
from kinko.core.errors import Conflict, InputError, NotFound, Unavailable
from kinko.core.events import SecurityEvent
from kinko.core.ids import new_id
from kinko.custody.model import Tier
from kinko.identity.approval_terms import ApprovalKind, ApprovalTerms
from kinko.identity.four_eyes import PROPOSAL_LIFETIME, Person, Step, check_second
from kinko.identity.names import person
from kinko.identity.step_ups import SecondVote
from kinko.identity.tenure import four_eyes_approved, roles_holding
from kinko.policy.model import AddressBookEntry, EntryId, OwnerKind
from kinko.store.db import sole_writer_memo
from kinko.store.publish import publish_after_commit
from kinko.store.tables.policy import AddressBookEntryRow, AddressBookProposalRow

DEFAULT_COOLING_OFF = timedelta(hours=48)
Normalizer = Callable[[str, str], str]
CoolingOff = Mapping[Tier, timedelta]


def adapter_normalizer() -> Normalizer:
    """Normalise with the chain adapters; fails closed without one.

    An address is tried on every network of its chain (`address_networks`) and must be
    valid on at least one. An Ethereum address reads the same on every network (EIP-55).
    A Bitcoin address names its network (bech32 prefix ``bc``/``tb``/``bcrt``, base58
    version byte), so its normalised form does too: an entry for ``bcrt1…`` can only
    equal a destination that a regtest wallet's adapter normalised, never a mainnet one.
    """

    def normalize(chain: str, address: str) -> str:
        return address_networks(chain, address)[0]

    return normalize


def chain_networks(chain: str) -> tuple[str, ...]:
    """The networks an address of `chain` is tried on: each Bitcoin network; else mainnet."""
    if chain != "bitcoin":
        return ("mainnet",)
    try:
        from kinko.chains.bitcoin.networks import NETWORKS
    except ImportError as exc:
        raise Unavailable("no bitcoin adapter is installed to check addresses") from exc
    return tuple(NETWORKS)


def address_networks(chain: str, address: str) -> tuple[str, tuple[str, ...]]:
    """`address` normalised, and the networks of `chain` it is valid on (at least one).

    Refuses an address no network accepts with an InputError on ``address``: the most
    specific reason (a bad checksum on the network whose prefix it carries) if there is
    one, else that it belongs to no known network.
    """
    from kinko.chains.registry import get_adapter

    forms: dict[str, str] = {}
    refusals: list[InputError] = []
    for network in chain_networks(chain):
        try:
            adapter = get_adapter(chain, network)
        except ImportError as exc:
            raise Unavailable(f"no {chain} adapter is installed to check {address!r}") from exc
        try:
            forms[network] = adapter.normalize_address(address)
        except InputError as exc:
            refusals.append(exc)
    if not forms:
        specific = [e for e in refusals if e.code != "wrong_network"]
        if specific:
            raise specific[0]
        raise InputError(
            "address",
            f"{address!r} is not a {chain} address on any network Kinko knows "
            f"({', '.join(chain_networks(chain))}); check the address and the chain",
            code="wrong_network",
        )
    if len(set(forms.values())) != 1:
        raise InputError(
            "address",
            f"{address!r} normalises differently on {', '.join(forms)}; refusing to guess",
        )
    return next(iter(forms.values())), tuple(forms)


@dataclass(frozen=True, slots=True)
class AddressProposal:
    id: str
    action: str
    chain: str
    address: str
    label: str
    owner_kind: OwnerKind
    tiers_allowed: frozenset[Tier]
    proposer: str
    status: str
    approver: str | None
    created_at: datetime


# Read on every decision: built once (only the execution is left per call).
_CURRENT = select(AddressBookEntryRow).where(
    AddressBookEntryRow.chain == bindparam("chain"),
    AddressBookEntryRow.address == bindparam("address"),
    AddressBookEntryRow.removed_at.is_(None),
)


class AddressBookService:
    def __init__(
        self,
        ctx: Context,
        *,
        cooling_off: CoolingOff | Callable[[], CoolingOff] | None = None,
        normalize: Normalizer | None = None,
    ) -> None:
        """`cooling_off` per tier, or a function giving it, called when an approval first
        needs it (so that listing entries never reads the policy)."""
        self.ctx = ctx
        self._cooling_off = cooling_off
        self._resolved: dict[Tier, timedelta] | None = None
        self.normalize = normalize or adapter_normalizer()

    @property
    def cooling_off(self) -> dict[Tier, timedelta]:
        if self._resolved is None:
            given = self._cooling_off() if callable(self._cooling_off) else self._cooling_off
            self._resolved = dict(given or dict.fromkeys(Tier, DEFAULT_COOLING_OFF))
        return self._resolved

    def propose(
        self,
        session: Session,
        *,
        chain: str,
        address: str,
        label: str,
        owner_kind: OwnerKind,
        tiers_allowed: Iterable[Tier],
        actor: str,
    ) -> AddressProposal:
        """Propose adding `address` (or changing its entry, if it has one)."""
        tiers = frozenset(tiers_allowed)
        if not tiers:
            raise InputError("tiers", "name at least one wallet tier (hot, warm, cold)")
        if not label.strip() or len(label) > 200:
            raise InputError("label", "give a label of 1 to 200 characters")
        normalized = self.normalize(chain, address)
        # A burn address is never a place to send to (kinko.chains.destinations).
        refuse_unspendable_anywhere(chain, normalized, field="address")
        action = "change" if self._current(session, chain, normalized) else "add"
        row = AddressBookProposalRow(
            id=new_id("abp"),
            action=action,
            chain=chain,
            address=normalized,
            label=label.strip(),
            owner_kind=owner_kind.value,
            tiers_allowed=sorted(t.value for t in tiers),
            proposer=actor,
            status="pending",
            created_at=self.ctx.clock.now(),
            expires_at=self.ctx.clock.now() + PROPOSAL_LIFETIME,
        )
        session.add(row)
        _forget(session)
        session.flush()
        self._record(session, actor, f"addressbook.{action}_proposed", row.id, _row_details(row))
        return _proposal(row)

    def approval_content(self, session: Session, proposal_id: str, actor: str) -> dict[str, object]:
        """What `actor` would approve (their step-up's digest), once the four-eyes rules
        say they may."""
        proposal = session.get(AddressBookProposalRow, proposal_id)
        if proposal is None:
            raise NotFound(f"no address-book proposal {proposal_id}")
        self._check_vote(session, proposal, f"user:{actor.removeprefix('user:')}")
        return _approval_content(proposal)

    def _check_vote(self, session: Session, proposal: AddressBookProposalRow, actor: str) -> None:
        four_eyes = Step(
            what=f"address-book proposal {proposal.id}",
            proposer=proposal.proposer,
            proposer_name=person(session, proposal.proposer),
            # Who may approve at all is the caller's permission (addressbook:approve,
            # checked by the route of the person acting); the rules here: another person.
            eligible=None,
            created_at=proposal.created_at,
            expires_at=proposal.expires_at,
            state=proposal.status,
        )
        now = self.ctx.clock.now()
        check_second(four_eyes, Person(actor, name=person(session, actor)), now=now)

    def approve(
        self, session: Session, *, proposal_id: str, actor: str, vote: SecondVote
    ) -> AddressBookEntry:
        """Approve a proposal (`vote`: the approver's bound step-up,
        `kinko.identity.step_ups`); the entry becomes effective after the cooling-off."""
        proposal = session.execute(
            select(AddressBookProposalRow)
            .where(AddressBookProposalRow.id == proposal_id)
            .with_for_update()
        ).scalar_one_or_none()
        if proposal is None:
            raise NotFound(f"no address-book proposal {proposal_id}")
        now = self.ctx.clock.now()
        self._check_vote(session, proposal, actor)
        content = _approval_content(proposal)
        vote.confirm(
            session, ApprovalTerms.of(ApprovalKind.ADDRESS_BOOK, proposal.id, actor, content)
        )
        tiers = frozenset(Tier(t) for t in proposal.tiers_allowed)
        effective_at = now + max(self.cooling_off.get(t, DEFAULT_COOLING_OFF) for t in tiers)
        for old in self._current(session, proposal.chain, proposal.address):
            old.superseded_at = effective_at if utc(old.effective_at) <= now else now
            _forget(session)
        row = AddressBookEntryRow(
            id=new_id("abe"),
            chain=proposal.chain,
            address=proposal.address,
            label=proposal.label,
            owner_kind=proposal.owner_kind,
            tiers_allowed=list(proposal.tiers_allowed),
            proposal_id=proposal.id,
            proposed_by=proposal.proposer,
            approved_by=actor,
            created_at=now,
            effective_at=effective_at,
        )
        proposal.status = "approved"
        proposal.approver = actor
        proposal.decided_at = now
        session.add(row)
        _forget(session)
        session.flush()
        details = _row_details(proposal) | {
            "entry": row.id,
            "proposer": proposal.proposer,
            "effective_at": isoformat(effective_at),
        }
        self._record(session, actor, "addressbook.approved", proposal.id, details)
        step = four_eyes_approved(
            session,
            step="addressbook.approve",
            subject=proposal.id,
            proposer=proposal.proposer,
            approver=actor,
            roles=roles_holding("addressbook:approve"),
            now=now,
            fields={"entry": row.id, "chain": row.chain, "address": row.address},
        )
        publish_after_commit(session, self.ctx.bus, step)
        return _entry(row)

    def reject(self, session: Session, *, proposal_id: str, actor: str) -> AddressProposal:
        proposal = session.get(AddressBookProposalRow, proposal_id, with_for_update=True)
        if proposal is None:
            raise NotFound(f"no address-book proposal {proposal_id}")
        if proposal.status != "pending":
            raise Conflict(f"address-book proposal {proposal_id} is already {proposal.status}")
        proposal.status = "rejected"
        proposal.approver = actor
        proposal.decided_at = self.ctx.clock.now()
        session.flush()
        self._record(session, actor, "addressbook.rejected", proposal.id, _row_details(proposal))
        return _proposal(proposal)

    def remove(
        self, session: Session, *, chain: str, address: str, actor: str, reason: str
    ) -> list[AddressBookEntry]:
        """Remove every entry for `address` at once (no second person, no cooling-off)."""
        if not reason.strip():
            raise InputError("reason", "say why the destination is removed")
        normalized = self.normalize(chain, address)
        rows = self._current(session, chain, normalized)
        if not rows:
            raise NotFound(f"{normalized} on {chain} is not in the address book")
        now = self.ctx.clock.now()
        for row in rows:
            row.removed_at = now
            _forget(session)
            row.removed_by = actor
        session.flush()
        details = {"chain": chain, "address": normalized, "reason": reason.strip()}
        self._record(session, actor, "addressbook.removed", normalized, details)
        return [_entry(r) for r in rows]

    def lookup(self, session: Session, chain: str, address: str) -> AddressBookEntry | None:
        """The entry that governs `address` now: the effective one, else the one cooling off."""
        now = self.ctx.clock.now()
        rows = self._current(session, chain, address)
        live = [r for r in rows if r.superseded_at is None or utc(r.superseded_at) > now]
        effective = [r for r in live if utc(r.effective_at) <= now]
        chosen = effective or live
        if not chosen:
            return None
        return _entry(max(chosen, key=lambda r: utc(r.effective_at)))

    def entries(self, session: Session) -> list[AddressBookEntry]:
        """Entries in force or cooling off (not removed, not superseded)."""
        now = self.ctx.clock.now()
        rows = session.execute(
            select(AddressBookEntryRow)
            .where(AddressBookEntryRow.removed_at.is_(None))
            .order_by(AddressBookEntryRow.chain, AddressBookEntryRow.address)
        ).scalars()
        return [_entry(r) for r in rows if r.superseded_at is None or utc(r.superseded_at) > now]

    def pending(self, session: Session) -> list[AddressProposal]:
        rows = session.execute(
            select(AddressBookProposalRow)
            .where(AddressBookProposalRow.status == "pending")
            .order_by(AddressBookProposalRow.created_at)
        ).scalars()
        return [_proposal(r) for r in rows]

    def _current(self, session: Session, chain: str, address: str) -> list[AddressBookEntryRow]:
        now = self.ctx.clock.now()
        # Read once per transaction where nothing else can change it (see sole_writer_memo);
        # this service's own writes below clear the memo.
        memo = sole_writer_memo(session, "address_book")
        rows = None if memo is None else memo.get((chain, address))
        if rows is None:
            params = {"chain": chain, "address": address}
            rows = tuple(session.execute(_CURRENT, params).scalars())
            if memo is not None:
                memo[(chain, address)] = rows
        return [r for r in rows if r.superseded_at is None or utc(r.superseded_at) > now]

    def _record(
        self, session: Session, actor: str, action: str, subject: str, details: Mapping[str, object]
    ) -> None:
        self.ctx.audit.append(session, actor=actor, action=action, subject=subject, details=details)
        publish_after_commit(
            session,
            self.ctx.bus,
            SecurityEvent(
                type="addressbook.change",
                time=self.ctx.clock.now(),
                actor=actor,
                outcome="success",
                destination=str(details.get("address")),
                fields={"action": action, "subject": subject},
            ),
        )


def _row_details(row: AddressBookProposalRow) -> dict[str, object]:
    return {
        "action": row.action,
        "chain": row.chain,
        "address": row.address,
        "label": row.label,
        "owner_kind": row.owner_kind,
        "tiers": list(row.tiers_allowed),
    }


def _approval_content(row: AddressBookProposalRow) -> dict[str, object]:
    return {
        **_row_details(row),
        "proposer": row.proposer,
        "created_at": row.created_at.isoformat(),
    }


def _forget(session: Session) -> None:
    memo = sole_writer_memo(session, "address_book")
    if memo is not None:
        memo.clear()


def _entry(row: AddressBookEntryRow) -> AddressBookEntry:
    return AddressBookEntry(
        id=EntryId(row.id),
        chain=row.chain,
        address=row.address,
        label=row.label,
        owner_kind=OwnerKind(row.owner_kind),
        tiers_allowed=frozenset(Tier(t) for t in row.tiers_allowed),
        effective_at=row.effective_at,
    )


def _proposal(row: AddressBookProposalRow) -> AddressProposal:
    return AddressProposal(
        id=row.id,
        action=row.action,
        chain=row.chain,
        address=row.address,
        label=row.label,
        owner_kind=OwnerKind(row.owner_kind),
        tiers_allowed=frozenset(Tier(t) for t in row.tiers_allowed),
        proposer=row.proposer,
        status=row.status,
        approver=row.approver,
        created_at=row.created_at,
    )
