"""Proposal records and grant parsing shared by the role service and the API (no I/O)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

from kinko.core.errors import InputError, Unavailable
from kinko.identity.model import ProposalId, ProposalKind, ProposalState, RoleGrant, UserId
from kinko.identity.permissions import parse_role
from kinko.store.tables.identity import ProposalRow

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from kinko.identity.step_ups import SecondVote


@dataclass(frozen=True, slots=True)
class Proposal:
    id: ProposalId
    kind: ProposalKind
    payload: dict[str, Any]
    proposer_id: UserId
    state: ProposalState
    reason: str
    created_at: datetime
    decided_by: UserId | None
    expires_at: datetime | None = None


def to_proposal(row: ProposalRow) -> Proposal:
    return Proposal(
        ProposalId(row.id),
        ProposalKind(row.kind),
        public_payload(dict(row.payload)),
        UserId(row.proposer_id),
        ProposalState(row.state),
        row.reason,
        row.created_at,
        UserId(row.decided_by) if row.decided_by else None,
        row.expires_at,
    )


# Payload keys kept out of the audit log, events and API answers (a hash of a secret the
# proposer holds: what makes a proposed token work once approved).
PRIVATE_KEYS = frozenset({"secret_sha256"})

_EVENT_TYPES = {
    ProposalKind.REMOVE_MFA: "auth.mfa",
    ProposalKind.SET_USER_STATE: "user.state",
    ProposalKind.CREATE_TOKEN: "token.create",
}


# Four-eyes changes other domains own (a screening list's identity, a policy): identity runs
# the mechanism (proposer != approver, both security admins) and hands the kind's payload to
# a handler it is given at construction (`ProposalHandlers`, built by the composition root,
# kinko.services): identity never imports the domains it serves.
# Custody's registrations (an asset; a wallet with its tier, quorum and eligible roles; a
# key share) are proposed by someone holding ``custody:write`` and approved by a second
# person holding ``custody:write`` or ``security_admin`` (`kinko.identity.rules.eligibility`).
CUSTODY_KINDS = frozenset(
    {
        ProposalKind.REGISTER_ASSET,
        ProposalKind.REGISTER_WALLET,
        ProposalKind.REGISTER_KEY_SHARE,
        ProposalKind.REGISTER_DELEGATION,
    }
)
# The governance register's changes (self-inspection) are proposed and approved by a
# security_admin or the CISO (`kinko.identity.rules.eligibility`).
REGISTER_KINDS = frozenset({ProposalKind.REGISTER_CHANGE})
# An address-book entry is proposed by a holder of ``addressbook:propose`` and approved by
# a second person holding ``addressbook:approve``; the route checks the chain's scope.
ADDRESS_BOOK_KINDS = frozenset({ProposalKind.ADDRESS_BOOK_ENTRY})
FOREIGN_KINDS = (
    frozenset(
        {
            ProposalKind.REPLACE_LIST,
            ProposalKind.ACTIVATE_POLICY,
            ProposalKind.RELEASE_FREEZE,
            ProposalKind.RELEASE_RESPONSE,
        }
    )
    | CUSTODY_KINDS
    | REGISTER_KINDS
    | ADDRESS_BOOK_KINDS
)


class ProposalHandler(Protocol):
    @property
    def event_type(self) -> str:
        """The security event type proposals of this kind are announced under."""
        ...

    def check(self, session: Session, payload: dict[str, Any]) -> dict[str, Any]:
        """The payload to store, checked; raise a `KinkoError` to refuse the proposal."""
        ...

    def apply(
        self, session: Session, payload: dict[str, Any], *, proposal_id: str, decided_by: UserId
    ) -> None: ...

    def refuse(
        self, session: Session, payload: dict[str, Any], *, proposal_id: str, decided_by: UserId
    ) -> None: ...


ProposalHandlers = Mapping[ProposalKind, Callable[[], ProposalHandler]]
"""For each kind another domain owns, a factory of its handler (called when a proposal of
that kind is made or decided)."""


class Handlers:
    """The handlers identity was given: each kind's event type and handler, or none."""

    def __init__(self, factories: ProposalHandlers | None = None) -> None:
        self._factories = dict(factories or {})
        unknown = set(self._factories) - FOREIGN_KINDS
        if unknown:
            raise ValueError(f"identity handles {sorted(unknown)} itself")

    def handler_for(self, kind: ProposalKind) -> ProposalHandler | None:
        """The handler of a kind another domain owns; None for identity's own kinds. A
        foreign kind this process was not given a handler for is refused (fail closed)."""
        if kind not in FOREIGN_KINDS:
            return None
        factory = self._factories.get(kind)
        if factory is None:
            raise Unavailable(
                f"{kind.value} proposals are not wired in this process (no handler was given "
                "to the identity service; build it with kinko.services.build_services)"
            )
        return factory()

    def event_type(self, kind: ProposalKind) -> str:
        """The security event type a proposal of `kind` is announced under."""
        handler = self.handler_for(kind)
        if handler is not None:
            return handler.event_type
        return _EVENT_TYPES.get(kind, "role.change")


def public_payload(payload: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in payload.items() if k not in PRIVATE_KEYS}


def proposal_content(row: ProposalRow) -> dict[str, Any]:
    """What approving the proposal approves, as its approver's step-up commits to it
    (`kinko.identity.approval_terms`): the whole payload, private keys included (only
    its digest leaves the server), who proposed it, why and when."""
    return {
        "kind": row.kind,
        "payload": dict(row.payload),
        "proposer": row.proposer_id,
        "reason": row.reason,
        "created_at": row.created_at.isoformat(),
    }


def parse_grant(
    role: str, assets: list[str] | None = None, wallets: list[str] | None = None
) -> RoleGrant:
    for name, values in (("assets", assets), ("wallets", wallets)):
        for v in values or []:
            if not isinstance(v, str) or not v or len(v) > 100:
                raise InputError(name, f"{v!r} is not an asset or wallet identifier")
    return RoleGrant(
        parse_role(role), tuple(sorted(set(assets or []))), tuple(sorted(set(wallets or [])))
    )


class Proposals(Protocol):
    """Identity's proposals (`kinko.identity.roles.RoleService`), as the domains that
    hand their two-person steps to identity use them (freezes, monitor responses, the
    address book)."""

    def propose(
        self,
        session: Session,
        *,
        actor: UserId,
        kind: ProposalKind,
        payload: dict[str, Any],
        reason: str,
    ) -> Proposal: ...

    def approve(
        self, session: Session, proposal_id: str, *, actor: UserId, vote: SecondVote
    ) -> Proposal: ...

    def refuse(
        self, session: Session, proposal_id: str, *, actor: UserId, reason: str
    ) -> Proposal: ...

    def proposal(self, session: Session, proposal_id: str) -> Proposal | None: ...

    def approval_content(
        self, session: Session, proposal_id: str, actor: UserId
    ) -> dict[str, Any]: ...

    def list_proposals(
        self, session: Session, state: ProposalState | None = None
    ) -> list[Proposal]: ...
