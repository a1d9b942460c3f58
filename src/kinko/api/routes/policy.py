"""HTTP routes for freezes and the address book.

Four-eyes checks compare the person behind the credential (``user:<id>``), so a person
cannot approve their own proposal through a token either.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from kinko.api.auth import Principal, require
from kinko.api.deps import AppServices, get_ctx, second_vote
from kinko.api.scopes import Concern, Scopes
from kinko.context import Context
from kinko.core.clock import isoformat
from kinko.custody.model import Tier
from kinko.identity.names import person
from kinko.identity.views import SecondVote
from kinko.policy.addressbook import AddressProposal
from kinko.policy.freeze import UnfreezeProposal, user_actor
from kinko.policy.model import AddressBookEntry, FreezeRecord, FreezeScope, OwnerKind
from kinko.services import Services
from kinko.store.tables.custody import WalletRow
from kinko.store.tables.policy import FreezeRow

router = APIRouter(prefix="/v1", tags=["freezes", "address book"])
CtxDep = Annotated[Context, Depends(get_ctx)]


class FreezeBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    scope: FreezeScope
    target: str | None = Field(default=None, max_length=200)
    reason: str = Field(min_length=1, max_length=1000)


class ReasonBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: str = Field(min_length=1, max_length=1000)


class OptionalReason(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: str | None = Field(default=None, max_length=1000)


class ProposalBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    chain: str = Field(min_length=1, max_length=32)
    address: str = Field(min_length=1, max_length=200)
    label: str = Field(min_length=1, max_length=200)
    owner_kind: OwnerKind
    tiers: list[Tier] = Field(min_length=1)
    reason: str | None = Field(
        default=None, max_length=1000, description="why (audited); default: names the entry"
    )


class RemoveBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    chain: str = Field(min_length=1, max_length=32)
    address: str = Field(min_length=1, max_length=200)
    reason: str = Field(min_length=1, max_length=1000)


def _person(principal: Principal) -> str:
    return user_actor(principal.subject)


def _unfreeze_json(p: UnfreezeProposal) -> dict[str, Any]:
    return {
        "id": p.id,
        "freeze_id": p.freeze_id,
        "proposer": p.proposer,
        "reason": p.reason,
        "status": p.status,
        "approver": p.approver,
        "created_at": isoformat(p.created_at),
    }


def _freeze_json(session: Session, record: FreezeRecord) -> dict[str, Any]:
    """A freeze, with who froze it by name (and a frozen wallet's name) for people."""
    out = record.to_json() | {"actor_username": person(session, record.actor)}
    if record.scope is FreezeScope.WALLET and record.target is not None:
        wallet = session.get(WalletRow, record.target)
        out["wallet_name"] = None if wallet is None else wallet.name
    return out


def _entry_json(e: AddressBookEntry) -> dict[str, Any]:
    return {
        "id": e.id,
        "chain": e.chain,
        "address": e.address,
        "label": e.label,
        "owner_kind": e.owner_kind.value,
        "tiers": sorted(t.value for t in e.tiers_allowed),
        "effective_at": isoformat(e.effective_at),
    }


def _proposal_json(p: AddressProposal) -> dict[str, Any]:
    return {
        "id": p.id,
        "action": p.action,
        "chain": p.chain,
        "address": p.address,
        "label": p.label,
        "owner_kind": p.owner_kind.value,
        "tiers": sorted(t.value for t in p.tiers_allowed),
        "proposer": p.proposer,
        "status": p.status,
        "approver": p.approver,
        "created_at": isoformat(p.created_at),
    }


def _frozen(session: Session, freeze_id: str) -> FreezeRow | None:
    return session.get(FreezeRow, freeze_id)


def _chain_of_proposal(services: Services, session: Session, proposal_id: str) -> str | None:
    found = services.address_book.proposal(session, proposal_id)
    return None if found is None else found.chain


@router.post("/freezes", status_code=201, summary="Freeze at once (one person)")
def create_freeze(
    body: FreezeBody,
    ctx: CtxDep,
    services: AppServices,
    principal: Annotated[Principal, Depends(require("freeze:set"))],
) -> dict[str, Any]:
    with ctx.db.transaction() as session:
        Scopes.within(principal, "freeze:set", session).require_freeze(body.scope, body.target)
        record = services.freezes.freeze(
            session,
            scope=body.scope,
            target=body.target,
            reason=body.reason,
            actor=_person(principal),
            require_known_target=True,
        )
        return _freeze_json(session, record)


@router.get("/freezes", summary="Active freezes and pending unfreeze proposals")
def list_freezes(
    ctx: CtxDep,
    services: AppServices,
    principal: Annotated[Principal, Depends(require("custody:read"))],
) -> dict[str, Any]:
    service = services.freezes
    with ctx.db.transaction() as session:
        active = service.active_freezes(session)
        pending = service.pending_unfreezes(session)
        scopes = Scopes.within(principal, "custody:read", session)
        shown = [f for f in active if scopes.sees_freeze(f.scope, f.target)]
    ids = {f.id for f in shown}
    return {
        "freezes": [f.to_json() for f in shown],
        "unfreeze_proposals": [_unfreeze_json(p) for p in pending if p.freeze_id in ids],
    }


@router.post("/freezes/{freeze_id}/unfreeze", status_code=201, summary="Propose lifting a freeze")
def propose_unfreeze(
    freeze_id: str,
    body: ReasonBody,
    ctx: CtxDep,
    services: AppServices,
    principal: Annotated[Principal, Depends(require("freeze:release"))],
) -> dict[str, Any]:
    with ctx.db.transaction() as session:
        frozen = _frozen(session, freeze_id)
        if frozen is not None:  # else the service answers 404
            scopes = Scopes.within(principal, "freeze:release", session)
            scopes.require_freeze(frozen.scope, frozen.target)
        proposal = services.freezes.propose_unfreeze(
            session, freeze_id=freeze_id, user_id=principal.subject, reason=body.reason
        )
    return _unfreeze_json(proposal)


@router.post(
    "/unfreeze-proposals/{proposal_id}/approve",
    summary="Approve lifting a freeze (a second security_admin)",
)
def approve_unfreeze(
    proposal_id: str,
    ctx: CtxDep,
    services: AppServices,
    principal: Annotated[Principal, Depends(require("freeze:release", person=True))],
    body: SecondVote | None = None,
) -> dict[str, Any]:
    """`step_up`: your fresh assertion bound to this unfreeze (``POST /v1/auth/step-up/begin``)."""
    vote = second_vote(services, body.step_up if body else None)
    with ctx.db.transaction() as session:
        asked = services.freezes.unfreeze_proposal(session, proposal_id)
        frozen = None if asked is None else _frozen(session, asked.freeze_id)
        if frozen is not None:  # else the service answers 404
            scopes = Scopes.within(principal, "freeze:release", session)
            scopes.require_freeze(frozen.scope, frozen.target)
        record = services.freezes.approve_unfreeze(
            session, proposal_id=proposal_id, user_id=principal.subject, vote=vote
        )
        return _freeze_json(session, record) | {"released": True}


@router.get("/addressbook", summary="Entries in force or cooling off, and pending proposals")
def list_addressbook(
    ctx: CtxDep,
    services: AppServices,
    principal: Annotated[Principal, Depends(require("custody:read"))],
) -> dict[str, Any]:
    """Entries and proposals are per chain: a scoped caller sees those of the chains
    where it may read a wallet (`kinko.api.scopes`)."""
    book = services.address_book
    with ctx.db.transaction() as session:
        entries = book.entries(session)
        pending = book.pending(session)
        scopes = Scopes.within(principal, "custody:read", session)
        return {
            "entries": [_entry_json(e) for e in entries if scopes.sees(Concern(chain=e.chain))],
            "proposals": [
                _proposal_json(p) for p in pending if scopes.sees(Concern(chain=p.chain))
            ],
        }


@router.post("/addressbook/proposals", status_code=201, summary="Propose an entry or a change")
def propose_entry(
    body: ProposalBody,
    ctx: CtxDep,
    services: AppServices,
    principal: Annotated[Principal, Depends(require("addressbook:propose"))],
) -> dict[str, Any]:
    with ctx.db.transaction() as session:
        scopes = Scopes.within(principal, "addressbook:propose", session)
        scopes.require(Concern(chain=body.chain))
        proposal = services.address_book.propose(
            session,
            chain=body.chain,
            address=body.address,
            label=body.label,
            owner_kind=body.owner_kind,
            tiers_allowed=body.tiers,
            actor=_person(principal),
            reason=body.reason,
        )
    return _proposal_json(proposal)


@router.post("/addressbook/proposals/{proposal_id}/approve", summary="Approve (not the proposer)")
def approve_entry(
    proposal_id: str,
    ctx: CtxDep,
    services: AppServices,
    principal: Annotated[Principal, Depends(require("addressbook:approve", person=True))],
    body: SecondVote | None = None,
) -> dict[str, Any]:
    """`step_up`: your fresh assertion bound to this proposal (``POST /v1/auth/step-up/begin``)."""
    vote = second_vote(services, body.step_up if body else None)
    with ctx.db.transaction() as session:
        chain = _chain_of_proposal(services, session, proposal_id)
        if chain is not None:  # else the service answers 404
            Scopes.within(principal, "addressbook:approve", session).require(Concern(chain=chain))
        entry = services.address_book.approve(
            session, proposal_id=proposal_id, actor=_person(principal), vote=vote
        )
    return _entry_json(entry)


@router.post("/addressbook/proposals/{proposal_id}/reject", summary="Reject a proposal")
def reject_entry(
    proposal_id: str,
    ctx: CtxDep,
    services: AppServices,
    principal: Annotated[Principal, Depends(require("addressbook:approve"))],
    body: OptionalReason | None = None,
) -> dict[str, Any]:
    with ctx.db.transaction() as session:
        chain = _chain_of_proposal(services, session, proposal_id)
        if chain is not None:  # else the service answers 404
            Scopes.within(principal, "addressbook:approve", session).require(Concern(chain=chain))
        proposal = services.address_book.reject(
            session,
            proposal_id=proposal_id,
            actor=_person(principal),
            reason=body.reason if body else None,
        )
    return _proposal_json(proposal)


@router.post("/addressbook/remove", summary="Remove a destination at once")
def remove_entry(
    body: RemoveBody,
    ctx: CtxDep,
    services: AppServices,
    principal: Annotated[Principal, Depends(require("addressbook:propose"))],
) -> dict[str, Any]:
    with ctx.db.transaction() as session:
        scopes = Scopes.within(principal, "addressbook:propose", session)
        scopes.require(Concern(chain=body.chain))
        removed = services.address_book.remove(
            session,
            chain=body.chain,
            address=body.address,
            actor=_person(principal),
            reason=body.reason,
        )
    return {"removed": [_entry_json(e) for e in removed]}


class PolicyProposalBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    text: str = Field(min_length=1, max_length=512 * 1024, description="the policy file's text")
    source: str = Field(default="uploaded policy", min_length=1, max_length=200)
    reason: str = Field(min_length=1, max_length=500)


@router.post(
    "/policy/proposals",
    status_code=201,
    summary="Propose a policy text; a second security_admin approves it (four eyes)",
)
def propose_policy(
    body: PolicyProposalBody,
    ctx: CtxDep,
    services: AppServices,
    principal: Annotated[Principal, Depends(require("roles:propose", person=True))],
) -> dict[str, Any]:
    """A process may decide with a policy text other than the one in force only once it
    is approved (`kinko.policy.proposals`): the proposal names its version, digest and
    every way it loosens the policy in force; ``POST /v1/roles/proposals/{id}/approve``."""
    from kinko.identity.model import ProposalKind
    from kinko.identity.views import render_proposal
    from kinko.policy.loader import load_policy
    from kinko.policy.proposals import describe

    policy = load_policy(body.text, source=body.source)
    with ctx.db.transaction() as session:
        proposal = services.identity.roles.propose(
            session,
            actor=principal.subject,
            kind=ProposalKind.ACTIVATE_POLICY,
            payload=describe(ctx, session, policy),
            reason=body.reason,
        )
    return render_proposal(proposal)
