"""Delegations of a legal entity's signing for a wallet (service).

Legal entity A may let entity B sign for it on one wallet, from a start until an end
(Ronin's Axie DAO let Sky Mavis sign for it, and the allowance outlived its purpose). The
key inventory counts a live delegation in B's reach of the wallet's quorum
(`kinko.custody.reach`): a delegation that would let one entity reach the quorum on its own
is refused, as is one already past its end. Past its end a delegation counts for nothing;
the listing reports it ``expired``.

Registering a delegation is a four-eyes proposal (``register_delegation``,
`kinko.custody.proposals`): `check_delegation` validates it when proposed and again when
approved, `store_delegation` stores it. Revoking one is one person's, at once (it takes
access away, as a freeze does), audited and announced (``custody.delegation.revoked``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from kinko.context import Context
from kinko.core.errors import Conflict, InputError, NotFound
from kinko.core.events import SecurityEvent
from kinko.core.ids import new_id
from kinko.custody.reach import Delegation, check_reach
from kinko.store.publish import publish_after_commit
from kinko.store.tables.custody import KeyDelegationRow, KeyShareRow, WalletRow

EXPIRED_CODE = "delegation_expired"


class DelegationState(StrEnum):
    PENDING = "pending"  # not yet started (it already counts toward reach: fail closed)
    LIVE = "live"
    EXPIRED = "expired"
    REVOKED = "revoked"


@dataclass(frozen=True, slots=True)
class NewDelegation:
    wallet_id: str
    from_entity: str
    to_entity: str
    starts_at: datetime
    ends_at: datetime


def state(row: KeyDelegationRow, now: datetime) -> DelegationState:
    if row.status == DelegationState.REVOKED.value:
        return DelegationState.REVOKED
    if now >= row.ends_at:
        return DelegationState.EXPIRED
    return DelegationState.PENDING if now < row.starts_at else DelegationState.LIVE


def value(row: KeyDelegationRow, now: datetime) -> Delegation:
    """The row as reach counts it: one not yet started counts as if it had (fail closed)."""
    return Delegation(
        row.from_entity,
        row.to_entity,
        min(row.starts_at, now),
        row.ends_at,
        revoked=row.status == DelegationState.REVOKED.value,
    )


def delegations(session: Session, wallet_id: str | None = None) -> list[KeyDelegationRow]:
    query = select(KeyDelegationRow).order_by(KeyDelegationRow.created_at, KeyDelegationRow.id)
    if wallet_id is not None:
        query = query.where(KeyDelegationRow.wallet_id == wallet_id)
    return list(session.execute(query).scalars())


def check_wallet_reach(
    session: Session,
    wallet: WalletRow,
    now: datetime,
    *,
    extra_entity: str | None = None,
    extra_delegation: Delegation | None = None,
) -> None:
    """Refuse when, with the share of `extra_entity` or `extra_delegation` added, one
    legal entity would reach `wallet`'s quorum (live shares and delegations only)."""
    entities = list(
        session.execute(
            select(KeyShareRow.legal_entity).where(
                KeyShareRow.wallet_id == wallet.id, KeyShareRow.status != "revoked"
            )
        ).scalars()
    )
    if extra_entity is not None:
        entities.append(extra_entity)
    found = [value(row, now) for row in delegations(session, wallet.id)]
    if extra_delegation is not None:
        found.append(extra_delegation)
    check_reach(wallet.name, wallet.quorum_m, entities, found, now)


def check_delegation(session: Session, new: NewDelegation, now: datetime) -> WalletRow:
    """Validate `new` against its wallet's live shares and delegations; the wallet row,
    locked (serialises with the wallet's key-share registrations)."""
    row = session.get(WalletRow, new.wallet_id, with_for_update=True)
    if row is None:
        raise NotFound(f"no wallet {new.wallet_id!r}")
    for name in ("from_entity", "to_entity"):
        if not str(getattr(new, name)).strip():
            raise InputError(name, "must not be empty")
    if new.from_entity == new.to_entity:
        raise InputError("to_entity", "an entity does not delegate to itself")
    for name in ("starts_at", "ends_at"):
        if getattr(new, name).tzinfo is None:
            raise InputError(name, "give a time zone (e.g. 2027-01-31T00:00:00+00:00)")
    if new.ends_at <= now:
        raise InputError(
            "ends_at",
            f"the delegation ended at {new.ends_at.isoformat()}: a delegation past its end "
            "is refused; propose a new one with a future end if it is still needed",
            code=EXPIRED_CODE,
        )
    if new.ends_at <= new.starts_at:
        raise InputError("ends_at", "must be after starts_at")
    for other in delegations(session, new.wallet_id):
        if (other.from_entity, other.to_entity) == (new.from_entity, new.to_entity) and state(
            other, now
        ) in (DelegationState.LIVE, DelegationState.PENDING):
            raise Conflict(
                f"{new.from_entity} already delegates to {new.to_entity} on wallet "
                f"{row.name} ({other.id}, until {other.ends_at.isoformat()})"
            )
    candidate = Delegation(new.from_entity, new.to_entity, min(new.starts_at, now), new.ends_at)
    check_wallet_reach(session, row, now, extra_delegation=candidate)
    return row


def store_delegation(
    ctx: Context,
    session: Session,
    new: NewDelegation,
    *,
    actor: str,
    proposal: str | None,
    proposer: str | None,
) -> str:
    """Check and store `new`, audit and announce it: an approved proposal's last step."""
    now = ctx.clock.now()
    check_delegation(session, new, now)
    delegation_id = new_id("dlg")
    session.add(
        KeyDelegationRow(
            id=delegation_id,
            wallet_id=new.wallet_id,
            from_entity=new.from_entity,
            to_entity=new.to_entity,
            starts_at=new.starts_at,
            ends_at=new.ends_at,
            status="active",
            proposal=proposal,
            created_at=now,
        )
    )
    details: dict[str, Any] = {
        "wallet": new.wallet_id,
        "from_entity": new.from_entity,
        "to_entity": new.to_entity,
        "starts_at": new.starts_at.isoformat(),
        "ends_at": new.ends_at.isoformat(),
        "proposal": proposal,
        "proposer": proposer,
    }
    _record(ctx, session, "register", delegation_id, details, actor=actor)
    return delegation_id


def revoke(ctx: Context, session: Session, delegation_id: str, *, reason: str, actor: str) -> None:
    """Revoke a delegation at once (one person: it takes access away); audited."""
    row = session.get(KeyDelegationRow, delegation_id, with_for_update=True)
    if row is None:
        raise NotFound(f"no delegation {delegation_id!r}")
    if not reason.strip():
        raise InputError("reason", "say why the delegation is revoked")
    if row.status == DelegationState.REVOKED.value:
        raise Conflict(f"delegation {delegation_id} is already revoked")
    was = state(row, ctx.clock.now())
    row.status, row.revoked_at = DelegationState.REVOKED.value, ctx.clock.now()
    row.revoked_by, row.revoke_reason = actor, reason
    details = {
        "wallet": row.wallet_id,
        "from_entity": row.from_entity,
        "to_entity": row.to_entity,
        "was": was.value,
        "reason": reason,
    }
    _record(ctx, session, "revoke", delegation_id, details, actor=actor)


def _record(
    ctx: Context, session: Session, verb: str, subject: str, details: dict[str, Any], *, actor: str
) -> None:
    ctx.audit.append(
        session, actor=actor, action=f"custody.delegation.{verb}", subject=subject, details=details
    )
    publish_after_commit(
        session,
        ctx.bus,
        SecurityEvent(
            type=f"custody.delegation.{verb}{'d' if verb.endswith('e') else 'ed'}",
            time=ctx.clock.now(),
            actor=actor,
            outcome="success",
            wallet=str(details["wallet"]),
            severity="medium",
            fields={"delegation": subject, **details},
        ),
    )


def to_json(row: KeyDelegationRow, now: datetime) -> dict[str, Any]:
    return {
        "id": row.id,
        "wallet_id": row.wallet_id,
        "from_entity": row.from_entity,
        "to_entity": row.to_entity,
        "starts_at": row.starts_at.isoformat(),
        "ends_at": row.ends_at.isoformat(),
        "state": state(row, now).value,
        "proposal": row.proposal,
        "revoked_at": row.revoked_at.isoformat() if row.revoked_at else None,
        "revoked_by": row.revoked_by,
        "revoke_reason": row.revoke_reason,
    }
