"""Freezes: one person stops outflows at once; two security admins lift them.

A freeze covers one wallet, one asset (``chain:SYMBOL``), one chain, or everything. It
takes effect in the caller's transaction, is audited (``freeze.set``) and published as a
``freeze.set`` security event. Lifting it is a proposal by one ``security_admin`` and an
approval by a different one, under the four-eyes rules (`kinko.identity.four_eyes`): the
proposer can never approve their own proposal, and both must still be active security
admins when the second one acts.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from kinko.context import Context
from kinko.core.errors import Conflict, InputError, NotFound
from kinko.core.events import SecurityEvent
from kinko.core.ids import new_id
from kinko.identity.approval_terms import ApprovalKind, ApprovalTerms
from kinko.identity.four_eyes import (
    PROPOSAL_LIFETIME,
    Person,
    Rule,
    Step,
    check_first,
    check_second,
)
from kinko.identity.names import person
from kinko.identity.people import person_now
from kinko.identity.step_ups import SecondVote
from kinko.identity.tenure import four_eyes_approved
from kinko.policy.model import FreezeId, FreezeRecord, FreezeScope, PolicyRequest
from kinko.policy.roles import RolesOf, identity_roles
from kinko.store.db import sole_writer_memo
from kinko.store.publish import publish_after_commit
from kinko.store.tables.custody import AssetRow, WalletRow
from kinko.store.tables.policy import FreezeRow, UnfreezeProposalRow

SECURITY_ADMIN = "security_admin"
_ASSET_TARGET = re.compile(r"^[a-z][a-z0-9_-]*:[A-Z0-9][A-Z0-9._-]*$")
_CHAIN_TARGET = re.compile(r"^[a-z][a-z0-9_-]*$")


@dataclass(frozen=True, slots=True)
class UnfreezeProposal:
    id: str
    freeze_id: FreezeId
    proposer: str
    reason: str
    status: str
    approver: str | None
    created_at: datetime


def user_actor(user_id: str) -> str:
    """The audit actor for a staff user, as identity writes it: ``user:<id>``."""
    return user_id if user_id.startswith("user:") else f"user:{user_id}"


def parse_target(scope: FreezeScope, target: str | None) -> str | None:
    """The canonical target for `scope`, or an InputError naming the fix."""
    if scope is FreezeScope.ALL:
        if target:
            raise InputError("target", "a freeze of everything takes no target")
        return None
    if not target or not target.strip():
        raise InputError("target", f"a {scope.value} freeze needs a target")
    target = target.strip()
    if scope is FreezeScope.ASSET and not _ASSET_TARGET.match(target):
        raise InputError(
            "target", f"{target!r} is not an asset; write chain:SYMBOL, e.g. ethereum:ETH"
        )
    if scope is FreezeScope.CHAIN and not _CHAIN_TARGET.match(target):
        raise InputError("target", f"{target!r} is not a lower-case chain name, e.g. bitcoin")
    return target


def to_record(row: FreezeRow) -> FreezeRecord:
    return FreezeRecord(
        id=FreezeId(row.id),
        scope=FreezeScope(row.scope),
        target=row.target,
        reason=row.reason,
        actor=row.actor,
        created_at=row.created_at,
    )


# Read on every decision: built once (only the execution is left per call).
_ACTIVE = select(FreezeRow).where(FreezeRow.released_at.is_(None)).order_by(FreezeRow.created_at)


class FreezeService:
    def __init__(self, ctx: Context, *, roles_of: RolesOf | None = None) -> None:
        self.ctx = ctx
        self.roles_of = roles_of or identity_roles(ctx)

    def freeze(
        self,
        session: Session,
        *,
        scope: FreezeScope,
        target: str | None,
        reason: str,
        actor: str,
        require_known_target: bool = False,
    ) -> FreezeRecord:
        """Freeze now. Freezing what is already frozen returns the existing freeze.

        People typing a target pass `require_known_target=True`, so that a typo in an
        emergency is refused instead of silently freezing nothing; automatic responses
        freeze whatever id their evidence names.
        """
        target = parse_target(scope, target)
        if require_known_target and target is not None:
            _require_known(session, scope, target)
        if not reason.strip():
            raise InputError("reason", "say why (it is shown to whoever lifts the freeze)")
        existing = session.execute(
            select(FreezeRow).where(
                FreezeRow.scope == scope.value,
                FreezeRow.target.is_(None) if target is None else FreezeRow.target == target,
                FreezeRow.released_at.is_(None),
            )
        ).scalar_one_or_none()
        now = self.ctx.clock.now()
        if existing is not None:
            self.ctx.audit.append(
                session,
                actor=actor,
                action="freeze.repeat",
                subject=existing.id,
                details={"scope": scope.value, "target": target, "reason": reason},
            )
            return to_record(existing)
        row = FreezeRow(
            id=new_id("frz"),
            scope=scope.value,
            target=target,
            reason=reason.strip(),
            actor=actor,
            created_at=now,
        )
        session.add(row)
        _forget_active(session)
        session.flush()
        self.ctx.audit.append(
            session,
            actor=actor,
            action="freeze.set",
            subject=row.id,
            details={"scope": scope.value, "target": target, "reason": row.reason},
        )
        publish_after_commit(
            session,
            self.ctx.bus,
            SecurityEvent(
                type="freeze.set",
                time=now,
                actor=actor,
                outcome="success",
                severity="high",
                wallet=target if scope is FreezeScope.WALLET else None,
                asset=target if scope is FreezeScope.ASSET else None,
                fields={"freeze_id": row.id, "scope": scope.value, "target": target},
            ),
        )
        return to_record(row)

    def active_freezes(self, session: Session) -> list[FreezeRecord]:
        memo = sole_writer_memo(session, "freezes")
        if memo is not None and "active" in memo:
            return list(memo["active"])
        records = [to_record(row) for row in session.execute(_ACTIVE).scalars()]
        if memo is not None:
            memo["active"] = tuple(records)
        return records

    def is_frozen(self, session: Session, request: PolicyRequest) -> list[FreezeRecord]:
        """The active freezes covering `request` (empty when it may move)."""
        return [f for f in self.active_freezes(session) if f.covers(request)]

    def propose_unfreeze(
        self, session: Session, *, freeze_id: str, user_id: str, reason: str
    ) -> UnfreezeProposal:
        """Propose lifting a freeze; `user_id` must be an active ``security_admin``."""
        actor = user_actor(user_id)
        check_first(self._person(session, actor), {SECURITY_ADMIN}, "propose an unfreeze")
        if not reason.strip():
            raise InputError("reason", "say why the freeze can be lifted")
        freeze = self._active(session, freeze_id)
        row = UnfreezeProposalRow(
            id=new_id("unf"),
            freeze_id=freeze.id,
            proposer=actor,
            reason=reason.strip(),
            status="pending",
            created_at=self.ctx.clock.now(),
            expires_at=self.ctx.clock.now() + PROPOSAL_LIFETIME,
        )
        session.add(row)
        session.flush()
        self.ctx.audit.append(
            session,
            actor=actor,
            action="freeze.release_proposed",
            subject=freeze.id,
            details={"proposal": row.id, "reason": row.reason},
        )
        return _proposal(row)

    def approval_content(self, session: Session, proposal_id: str, actor: str) -> dict[str, Any]:
        """What `actor` would approve by lifting the freeze (their step-up's digest), once
        the four-eyes rules say they may."""
        proposal = session.get(UnfreezeProposalRow, proposal_id)
        if proposal is None:
            raise NotFound(f"no unfreeze proposal {proposal_id}")
        self._check_vote(session, proposal, user_actor(actor.removeprefix("user:")))
        return _unfreeze_content(session, proposal)

    def _check_vote(self, session: Session, proposal: UnfreezeProposalRow, actor: str) -> None:
        step = Step(
            what=f"this unfreeze ({proposal.id})",
            proposer=proposal.proposer,
            proposer_name=person(session, proposal.proposer),
            eligible=frozenset({SECURITY_ADMIN}),
            created_at=proposal.created_at,
            expires_at=proposal.expires_at,
            state=proposal.status,
            codes={Rule.NOT_PROPOSER: "forbidden"},  # what this route has always answered
        )
        check_second(
            step,
            self._person(session, actor),
            now=self.ctx.clock.now(),
            proposer_now=self._person(session, proposal.proposer),
        )

    def approve_unfreeze(
        self, session: Session, *, proposal_id: str, user_id: str, vote: SecondVote
    ) -> FreezeRecord:
        """Lift the freeze: `user_id` must be a security admin other than the proposer,
        and `vote` confirms their bound step-up (`kinko.identity.step_ups`)."""
        actor = user_actor(user_id)
        proposal = session.execute(
            select(UnfreezeProposalRow)
            .where(UnfreezeProposalRow.id == proposal_id)
            .with_for_update()
        ).scalar_one_or_none()
        if proposal is None:
            raise NotFound(f"no unfreeze proposal {proposal_id}")
        now = self.ctx.clock.now()
        self._check_vote(session, proposal, actor)
        content = _unfreeze_content(session, proposal)
        vote.confirm(session, ApprovalTerms.of(ApprovalKind.UNFREEZE, proposal.id, actor, content))
        freeze = self._active(session, proposal.freeze_id)
        proposal.status = "approved"
        proposal.approver = actor
        proposal.decided_at = now
        freeze.released_at = now
        _forget_active(session)
        freeze.released_by = [proposal.proposer, actor]
        session.flush()
        self.ctx.audit.append(
            session,
            actor=actor,
            action="freeze.released",
            subject=freeze.id,
            details={"proposal": proposal.id, "proposer": proposal.proposer, "approver": actor},
        )
        publish_after_commit(
            session,
            self.ctx.bus,
            SecurityEvent(
                type="admin.action",
                time=now,
                actor=actor,
                outcome="success",
                severity="medium",
                fields={
                    "action": "freeze.released",
                    "freeze_id": freeze.id,
                    "proposer": proposal.proposer,
                },
            ),
        )
        approved = four_eyes_approved(
            session,
            step="freeze.release",
            subject=freeze.id,
            proposer=proposal.proposer,
            approver=actor,
            roles=[SECURITY_ADMIN],
            now=now,
            fields={"freeze_id": freeze.id, "proposal": proposal.id},
        )
        publish_after_commit(session, self.ctx.bus, approved)
        return to_record(freeze)

    def pending_unfreezes(self, session: Session) -> list[UnfreezeProposal]:
        rows = session.execute(
            select(UnfreezeProposalRow)
            .where(UnfreezeProposalRow.status == "pending")
            .order_by(UnfreezeProposalRow.created_at)
        ).scalars()
        return [_proposal(r) for r in rows]

    def _person(self, session: Session, ref: str) -> Person:
        """`ref` as the four-eyes rules see them: roles from `roles_of`, state from identity."""
        return person_now(session, ref, self.roles_of(session, ref.removeprefix("user:")))

    def _active(self, session: Session, freeze_id: str) -> FreezeRow:
        row = session.execute(
            select(FreezeRow).where(FreezeRow.id == freeze_id).with_for_update()
        ).scalar_one_or_none()
        if row is None:
            raise NotFound(f"no freeze {freeze_id}; list them with 'kinko freeze list'")
        if row.released_at is not None:
            raise Conflict(f"freeze {freeze_id} was already lifted")
        return row


def _unfreeze_content(session: Session, proposal: UnfreezeProposalRow) -> dict[str, Any]:
    freeze = session.get(FreezeRow, proposal.freeze_id)
    return {
        "freeze": proposal.freeze_id,
        "scope": None if freeze is None else freeze.scope,
        "target": None if freeze is None else freeze.target,
        "proposer": proposal.proposer,
        "reason": proposal.reason,
        "created_at": proposal.created_at.isoformat(),
    }


def _forget_active(session: Session) -> None:
    memo = sole_writer_memo(session, "freezes")
    if memo is not None:
        memo.clear()


def _require_known(session: Session, scope: FreezeScope, target: str) -> None:
    from kinko.chains.registry import families

    if scope is FreezeScope.WALLET and session.get(WalletRow, target) is None:
        raise InputError("target", f"there is no wallet {target!r}; check 'kinko wallet list'")
    if scope is FreezeScope.CHAIN and target not in families():
        on_chain = session.execute(select(WalletRow.id).where(WalletRow.chain == target).limit(1))
        if on_chain.first() is None:
            raise InputError("target", f"no chain {target!r}; known: {', '.join(families())}")
    if scope is FreezeScope.ASSET:
        chain, _, symbol = target.partition(":")
        asset = session.execute(
            select(AssetRow.id).where(AssetRow.chain == chain, AssetRow.symbol == symbol)
        ).first()
        if asset is None:
            raise InputError(
                "target", f"there is no asset {target!r}; register it with 'kinko wallet asset-add'"
            )


def _proposal(row: UnfreezeProposalRow) -> UnfreezeProposal:
    return UnfreezeProposal(
        id=row.id,
        freeze_id=FreezeId(row.freeze_id),
        proposer=row.proposer,
        reason=row.reason,
        status=row.status,
        approver=row.approver,
        created_at=row.created_at,
    )
