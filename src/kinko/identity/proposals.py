"""Proposal records and grant parsing shared by the role service and the API (no I/O)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from kinko.core.errors import InputError
from kinko.identity.model import ProposalId, ProposalKind, ProposalState, RoleGrant, UserId
from kinko.identity.permissions import parse_role
from kinko.store.tables.identity import ProposalRow


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
        dict(row.payload),
        UserId(row.proposer_id),
        ProposalState(row.state),
        row.reason,
        row.created_at,
        UserId(row.decided_by) if row.decided_by else None,
    )


def event_type(kind: ProposalKind) -> str:
    return "auth.mfa" if kind == ProposalKind.REMOVE_MFA else "role.change"


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
