"""Where a four-eyes vote may be cast: the same permission and scope as the step's own
route, checked before a challenge is issued (``POST /v1/auth/step-up/begin``) or the
console's approval page is shown, so that nobody is asked for their key for a vote the
route would refuse."""

from __future__ import annotations

from sqlalchemy.orm import Session

from kinko.api.routes.monitor import response_in_scope
from kinko.api.scopes import Concern, Scopes
from kinko.core.errors import PermissionDenied
from kinko.identity.approval_terms import ApprovalKind
from kinko.identity.model import Principal, ProposalKind
from kinko.identity.proposals import Proposal
from kinko.policy.model import FreezeScope
from kinko.services import Services


def proposal_in_sight(principal: Principal, session: Session, proposal: Proposal) -> bool:
    """Whether a reader of identity's proposals (``users:read``) may see `proposal`: one
    about a freeze or an address-book entry only within the scope of what it touches (the
    others are identity's own, organisation-wide data)."""
    scopes = Scopes.within(principal, "users:read", session)
    payload = proposal.payload
    if proposal.kind is ProposalKind.RELEASE_FREEZE:
        return scopes.sees_freeze(FreezeScope(payload["scope"]), payload.get("target"))
    if proposal.kind is ProposalKind.ADDRESS_BOOK_ENTRY:
        return scopes.sees(Concern(chain=str(payload["chain"])))
    return True


def vote_in_scope(
    principal: Principal, session: Session, services: Services, kind: ApprovalKind, subject: str
) -> None:
    """Refuse a vote (its challenge, its page, a refusal of the proposal) `principal`
    could not cast on the step's own route: its permission and the scope of what it
    touches (a freeze, an address-book entry's chain, a response's alert). The route
    checks again when the vote comes."""
    if kind.permission is not None:
        _holds(principal, kind.permission)
    if kind is ApprovalKind.RESPONSE_RELEASE:
        response_in_scope(session, services.triage, subject, principal)
        return
    found = services.identity.roles.proposal(session, subject)
    if found is None:
        return
    if found.kind is ProposalKind.RELEASE_RESPONSE:
        response = str(found.payload.get("response_id"))
        response_in_scope(session, services.triage, response, principal)
    elif found.kind is ProposalKind.RELEASE_FREEZE:
        scopes = Scopes.within(principal, "freeze:release", session)
        scopes.require_freeze(FreezeScope(found.payload["scope"]), found.payload.get("target"))
    elif found.kind is ProposalKind.ADDRESS_BOOK_ENTRY:
        _holds(principal, "addressbook:approve")
        scopes = Scopes.within(principal, "addressbook:approve", session)
        scopes.require(Concern(chain=str(found.payload["chain"])))


def _holds(principal: Principal, permission: str) -> None:
    """Refuse `principal` without `permission`, as the step's route would (403)."""
    if not principal.has(permission):
        raise PermissionDenied(f"this needs the {permission} permission", code="missing_permission")
