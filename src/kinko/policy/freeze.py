"""Freezes: one person stops outflows at once; two security admins lift them.

A freeze covers one wallet, one asset (``chain:SYMBOL``), one chain, or everything. It
takes effect in the caller's transaction, is audited (``freeze.set``) and published as a
``freeze.set`` security event. Lifting it is identity's one four-eyes mechanism: a
``release_freeze`` proposal by one ``security_admin`` and an approval by a different one
with their bound step-up (`kinko.policy.freeze_release` applies it): the proposer can
never approve their own proposal, and both must still be active security admins when the
second one acts.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from kinko.context import Context
from kinko.core.errors import InputError, NotFound, Unavailable
from kinko.core.events import SecurityEvent
from kinko.core.ids import new_id
from kinko.identity.model import ProposalKind, ProposalState, UserId
from kinko.identity.proposals import Proposal, Proposals
from kinko.identity.step_ups import SecondVote
from kinko.policy.freeze_release import forget_active
from kinko.policy.model import FreezeId, FreezeRecord, FreezeScope, PolicyRequest
from kinko.store.db import sole_writer_memo
from kinko.store.publish import publish_after_commit
from kinko.store.tables.custody import AssetRow, WalletRow
from kinko.store.tables.policy import FreezeRow

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
    def __init__(self, ctx: Context, *, proposals: Proposals | None = None) -> None:
        """`proposals`: identity's, through which freezes are lifted (the composition
        root, kinko.services, hands them in; without them lifting is `Unavailable`)."""
        self.ctx = ctx
        self.proposals = proposals

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
        forget_active(session)
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

    # --- lifting a freeze: an identity proposal (kinko.policy.freeze_release) ------------
    def propose_unfreeze(
        self, session: Session, *, freeze_id: str, user_id: str, reason: str
    ) -> UnfreezeProposal:
        """Propose lifting a freeze: identity's ``release_freeze`` proposal, which an
        active ``security_admin`` makes and a different one approves."""
        proposal = self._proposals().propose(
            session,
            actor=UserId(user_id.removeprefix("user:")),
            kind=ProposalKind.RELEASE_FREEZE,
            payload={"freeze_id": freeze_id},
            reason=reason,
        )
        return _unfreeze(proposal)

    def approve_unfreeze(
        self, session: Session, *, proposal_id: str, user_id: str, vote: SecondVote
    ) -> FreezeRecord:
        """Lift the freeze: identity's four-eyes rules for a second security admin, then
        `vote` (their bound step-up on this proposal), then the handler lifts it."""
        self.unfreeze_proposal(session, proposal_id, required=True)
        done = self._proposals().approve(
            session, proposal_id, actor=UserId(user_id.removeprefix("user:")), vote=vote
        )
        row = session.get(FreezeRow, str(done.payload["freeze_id"]))
        assert row is not None  # the handler just lifted it
        return to_record(row)

    def unfreeze_proposal(
        self, session: Session, proposal_id: str, *, required: bool = False
    ) -> UnfreezeProposal | None:
        """The unfreeze proposal `proposal_id` (None, or NotFound when `required`)."""
        found = self._proposals().proposal(session, proposal_id)
        if found is None or found.kind is not ProposalKind.RELEASE_FREEZE:
            if required:
                raise NotFound(f"no unfreeze proposal {proposal_id}")
            return None
        return _unfreeze(found)

    def pending_unfreezes(self, session: Session) -> list[UnfreezeProposal]:
        pending = self._proposals().list_proposals(session, ProposalState.PENDING)
        return [_unfreeze(p) for p in pending if p.kind is ProposalKind.RELEASE_FREEZE]

    def _proposals(self) -> Proposals:
        if self.proposals is None:
            raise Unavailable(
                "lifting a freeze is an identity proposal, and this freeze service was given "
                "none (build it with kinko.services.build_services)"
            )
        return self.proposals


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


def _unfreeze(proposal: Proposal) -> UnfreezeProposal:
    return UnfreezeProposal(
        id=proposal.id,
        freeze_id=FreezeId(str(proposal.payload["freeze_id"])),
        proposer=user_actor(proposal.proposer_id),
        reason=proposal.reason,
        status=proposal.state.value,
        approver=user_actor(proposal.decided_by) if proposal.decided_by else None,
        created_at=proposal.created_at,
    )
