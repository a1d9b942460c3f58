"""The address book: where warm and cold wallets may send.

Adding or changing an entry is identity's one four-eyes mechanism (a proposal of kind
``address_book_entry``, ADR 0005): a holder of ``addressbook:propose`` proposes, a
different person holding ``addressbook:approve`` approves with their bound step-up
(`kinko.identity.step_ups`), in time, both still active; the route checks the chain's
scope. Identity hands the payload to `AddressEntryHandler`: checked and normalised when
proposed, entered when approved. The entry counts only after a cooling-off period (per
tier, default 48 h) measured from the approval; a change leaves the old entry in force
until the new one becomes effective. Removal is immediate and needs one person. An
approved entry and a removal are audited and announced as ``addressbook.change`` (with
the destination, which the default pack's change-then-withdraw sequence groups by).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from kinko.chains.destinations import refuse_unspendable_anywhere
from kinko.context import Context
from kinko.core.clock import isoformat, utc
from kinko.core.errors import InputError, NotFound, Unavailable
from kinko.core.events import SecurityEvent
from kinko.core.ids import new_id
from kinko.custody.model import Tier
from kinko.identity.model import ProposalKind, ProposalState, UserId
from kinko.identity.proposals import Proposal, Proposals
from kinko.identity.step_ups import SecondVote
from kinko.policy.model import AddressBookEntry, EntryId, OwnerKind
from kinko.store.db import sole_writer_memo
from kinko.store.publish import publish_after_commit
from kinko.store.tables.policy import AddressBookEntryRow

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
    """An address-book proposal, as the address book shows it (identity keeps it)."""

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
KIND = ProposalKind.ADDRESS_BOOK_ENTRY
EVENT_TYPE = "addressbook.change"


class AddressBookService:
    def __init__(
        self,
        ctx: Context,
        *,
        proposals: Proposals | None = None,
        cooling_off: CoolingOff | Callable[[], CoolingOff] | None = None,
        normalize: Normalizer | None = None,
    ) -> None:
        """`proposals`: identity's, through which entries are proposed and approved (the
        composition root gives them; without, only reading and removal work).
        `cooling_off` per tier, or a function giving it, called when an approval first
        needs it (so that listing entries never reads the policy)."""
        self.ctx = ctx
        self.proposals = proposals
        self._cooling_off = cooling_off
        self._resolved: dict[Tier, timedelta] | None = None
        self.normalize = normalize or adapter_normalizer()

    @property
    def cooling_off(self) -> dict[Tier, timedelta]:
        if self._resolved is None:
            given = self._cooling_off() if callable(self._cooling_off) else self._cooling_off
            self._resolved = dict(given or dict.fromkeys(Tier, DEFAULT_COOLING_OFF))
        return self._resolved

    # -- the four-eyes steps, on identity's proposals ------------------------------------

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
        reason: str | None = None,
    ) -> AddressProposal:
        """Propose adding `address` (or changing its entry, if it has one)."""
        payload = {
            "chain": chain,
            "address": address,
            "label": label,
            "owner_kind": owner_kind.value,
            "tiers": sorted(t.value for t in tiers_allowed),
        }
        why = reason.strip() if reason else f"address-book entry {label.strip()!r} on {chain}"
        proposal = self._proposals().propose(
            session, actor=_user(actor), kind=KIND, payload=payload, reason=why
        )
        return _proposal(proposal)

    def approve(
        self, session: Session, *, proposal_id: str, actor: str, vote: SecondVote
    ) -> AddressBookEntry:
        """Approve a proposal: identity's four-eyes rules (another person holding
        ``addressbook:approve``), then `vote` (their bound step-up), then the entry is
        made; it becomes effective after the cooling-off."""
        self.proposal(session, proposal_id, required=True)
        self._proposals().approve(session, proposal_id, actor=_user(actor), vote=vote)
        row = session.execute(
            select(AddressBookEntryRow).where(AddressBookEntryRow.proposal_id == proposal_id)
        ).scalar_one()
        return _entry(row)

    def reject(
        self, session: Session, *, proposal_id: str, actor: str, reason: str | None = None
    ) -> AddressProposal:
        self.proposal(session, proposal_id, required=True)
        done = self._proposals().refuse(
            session, proposal_id, actor=_user(actor), reason=reason or "rejected"
        )
        return _proposal(done)

    def proposal(
        self, session: Session, proposal_id: str, *, required: bool = False
    ) -> AddressProposal | None:
        """The address-book proposal `proposal_id` (None, or NotFound when `required`)."""
        found = self._proposals().proposal(session, proposal_id)
        if found is None or found.kind is not KIND:
            if required:
                raise NotFound(f"no address-book proposal {proposal_id}")
            return None
        return _proposal(found)

    def pending(self, session: Session) -> list[AddressProposal]:
        pending = self._proposals().list_proposals(session, ProposalState.PENDING)
        return [_proposal(p) for p in pending if p.kind is KIND]

    def _proposals(self) -> Proposals:
        if self.proposals is None:
            raise Unavailable(
                "address-book entries are identity proposals, and this address book was "
                "given none (build it with kinko.services.build_services)"
            )
        return self.proposals

    # -- what the handler does ------------------------------------------------------------

    def checked(self, session: Session, payload: Mapping[str, Any]) -> dict[str, Any]:
        """A proposal's payload, checked and normalised: the address in its chain's
        canonical form, never a burn address, and whether it adds or changes an entry."""
        chain = payload.get("chain")
        if not isinstance(chain, str) or not chain:
            raise InputError("chain", "name the chain of the address, e.g. ethereum")
        label = payload.get("label")
        if not isinstance(label, str) or not label.strip() or len(label) > 200:
            raise InputError("label", "give a label of 1 to 200 characters")
        owner = payload.get("owner_kind")
        try:
            owner_kind = OwnerKind(str(owner))
        except ValueError:
            kinds = ", ".join(k.value for k in OwnerKind)
            raise InputError("owner_kind", f"{owner!r} is not one of {kinds}") from None
        tiers = payload.get("tiers")
        if not isinstance(tiers, list) or not tiers:
            raise InputError("tiers", "name at least one wallet tier (hot, warm, cold)")
        try:
            allowed = sorted({Tier(t).value for t in tiers})
        except ValueError:
            raise InputError("tiers", f"{tiers!r}: use hot, warm or cold") from None
        address = payload.get("address")
        if not isinstance(address, str) or not address:
            raise InputError("address", "give the destination's address")
        normalized = self.normalize(chain, address)
        # A burn address is never a place to send to (kinko.chains.destinations).
        refuse_unspendable_anywhere(chain, normalized, field="address")
        return {
            "action": "change" if self._current(session, chain, normalized) else "add",
            "chain": chain,
            "address": normalized,
            "label": label.strip(),
            "owner_kind": owner_kind.value,
            "tiers": allowed,
        }

    def enter(
        self, session: Session, payload: Mapping[str, Any], *, proposal_id: str, approver: str
    ) -> AddressBookEntryRow:
        """Make the approved entry, effective after the longest cooling-off of its tiers;
        the entry it changes stays in force until then."""
        checked = self.checked(session, payload)  # the chain or burn list may have changed
        proposal = self._proposals().proposal(session, proposal_id)
        proposer = "unknown" if proposal is None else f"user:{proposal.proposer_id}"
        now = self.ctx.clock.now()
        tiers = frozenset(Tier(t) for t in checked["tiers"])
        effective_at = now + max(self.cooling_off.get(t, DEFAULT_COOLING_OFF) for t in tiers)
        for old in self._current(session, checked["chain"], checked["address"]):
            old.superseded_at = effective_at if utc(old.effective_at) <= now else now
            _forget(session)
        row = AddressBookEntryRow(
            id=new_id("abe"),
            chain=checked["chain"],
            address=checked["address"],
            label=checked["label"],
            owner_kind=checked["owner_kind"],
            tiers_allowed=list(checked["tiers"]),
            proposal_id=proposal_id,
            proposed_by=proposer,
            approved_by=approver,
            created_at=now,
            effective_at=effective_at,
        )
        session.add(row)
        _forget(session)
        session.flush()
        details = checked | {
            "entry": row.id,
            "proposal": proposal_id,
            "proposer": proposer,
            "effective_at": isoformat(effective_at),
        }
        self._record(session, approver, "addressbook.approved", proposal_id, details)
        return row

    # -- the entries ------------------------------------------------------------------------

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

    def _current(self, session: Session, chain: str, address: str) -> list[AddressBookEntryRow]:
        now = self.ctx.clock.now()
        # Read once per transaction where nothing else can change it (see sole_writer_memo);
        # this service's own writes clear the memo.
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
                type=EVENT_TYPE,
                time=self.ctx.clock.now(),
                actor=actor,
                outcome="success",
                destination=str(details.get("address")),
                fields={"action": action, "subject": subject},
            ),
        )


class AddressEntryHandler:
    """What identity's ``address_book_entry`` proposals do to the address book."""

    event_type = "addressbook.proposal"

    def __init__(self, book: AddressBookService) -> None:
        self.book = book

    def check(self, session: Session, payload: dict[str, Any]) -> dict[str, Any]:
        return self.book.checked(session, payload)

    def apply(
        self, session: Session, payload: dict[str, Any], *, proposal_id: str, decided_by: UserId
    ) -> None:
        self.book.enter(session, payload, proposal_id=proposal_id, approver=f"user:{decided_by}")

    def refuse(
        self, session: Session, payload: dict[str, Any], *, proposal_id: str, decided_by: UserId
    ) -> None:
        """Nothing to undo: no entry was made (identity audits the refusal)."""


def _user(actor: str) -> UserId:
    return UserId(actor.removeprefix("user:"))


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


def _proposal(proposal: Proposal) -> AddressProposal:
    payload = proposal.payload
    return AddressProposal(
        id=proposal.id,
        action=str(payload["action"]),
        chain=str(payload["chain"]),
        address=str(payload["address"]),
        label=str(payload["label"]),
        owner_kind=OwnerKind(payload["owner_kind"]),
        tiers_allowed=frozenset(Tier(t) for t in payload["tiers"]),
        proposer=f"user:{proposal.proposer_id}",
        status=proposal.state.value,
        approver=f"user:{proposal.decided_by}" if proposal.decided_by else None,
        created_at=proposal.created_at,
    )
