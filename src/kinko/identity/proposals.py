"""Proposal records and grant parsing shared by the role service and the API (no I/O)."""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol, cast

from kinko.core.errors import InputError
from kinko.identity.model import ProposalId, ProposalKind, ProposalState, RoleGrant, UserId
from kinko.identity.permissions import parse_role
from kinko.store.tables.identity import ProposalRow

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from kinko.context import Context


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
    )


# Payload keys kept out of the audit log, events and API answers (a hash of a secret the
# proposer holds: what makes a proposed token work once approved).
PRIVATE_KEYS = frozenset({"secret_sha256"})

_EVENT_TYPES = {
    ProposalKind.REMOVE_MFA: "auth.mfa",
    ProposalKind.SET_USER_STATE: "user.state",
    ProposalKind.CREATE_TOKEN: "token.create",
}


def event_type(kind: ProposalKind) -> str:
    """The security event type a proposal of `kind` is announced under."""
    module = HANDLER_MODULES.get(kind)
    if module is not None:
        return str(importlib.import_module(module).EVENT_TYPE)
    return _EVENT_TYPES.get(kind, "role.change")


# Four-eyes changes other domains own (a screening list's identity, a policy): the module whose
# `proposal_handler(ctx)` checks, applies and refuses each such kind. The role service's
# propose/approve/refuse (one mechanism: proposer != approver, both security admins)
# call it; it is imported only when such a proposal is made or decided.
HANDLER_MODULES: dict[ProposalKind, str] = {
    ProposalKind.REPLACE_LIST: "kinko.screening.proposals",
    ProposalKind.ACTIVATE_POLICY: "kinko.policy.proposals",
}


class ProposalHandler(Protocol):
    def check(self, session: Session, payload: dict[str, Any]) -> dict[str, Any]:
        """The payload to store, checked; raise a `KinkoError` to refuse the proposal."""
        ...

    def apply(
        self, session: Session, payload: dict[str, Any], *, proposal_id: str, decided_by: UserId
    ) -> None: ...

    def refuse(
        self, session: Session, payload: dict[str, Any], *, proposal_id: str, decided_by: UserId
    ) -> None: ...


def handler_for(ctx: Context, kind: ProposalKind) -> ProposalHandler | None:
    module = HANDLER_MODULES.get(kind)
    if module is None:
        return None
    return cast(ProposalHandler, importlib.import_module(module).proposal_handler(ctx))


def public_payload(payload: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in payload.items() if k not in PRIVATE_KEYS}


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
