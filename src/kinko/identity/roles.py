"""Role grants, user states and four-eyes proposals on identity itself.

Every change to who may do what is a proposal that a second, different, active
`security_admin` approves: granting or revoking a role, suspending, reinstating or
removing someone who holds a privileged role (reinstating anyone), removing an MFA factor,
changing the conflict matrix, and a service account's API token. What may apply at once
(the first setup's bootstrap grant, taking access away from someone unprivileged, giving up
one's own role) is listed in `kinko.identity.rules`, with the checks each proposal passes
when proposed and again when approved.
"""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from kinko.context import Context
from kinko.core.errors import Conflict, InputError, NotFound, PermissionDenied
from kinko.core.ids import new_id
from kinko.identity.approval_terms import ApprovalKind, ApprovalTerms
from kinko.identity.base import user_actor
from kinko.identity.four_eyes import PROPOSAL_LIFETIME, check_second
from kinko.identity.issuing import TokenIssuer
from kinko.identity.mfa import MfaService
from kinko.identity.model import (
    ProposalKind,
    ProposalState,
    RoleGrant,
    UserId,
    UserState,
)
from kinko.identity.people import person_now
from kinko.identity.permissions import Role
from kinko.identity.proposals import (
    Proposal,
    ProposalHandlers,
    parse_grant,
    proposal_content,
    public_payload,
    to_proposal,
)
from kinko.identity.rules import MATRIX_KEY, ProposalRules, eligibility
from kinko.identity.sessions import SessionService
from kinko.identity.sod import ConflictMatrix, check_matrix_holds, check_sod
from kinko.identity.step_ups import SecondVote
from kinko.identity.tenure import four_eyes_approved
from kinko.identity.users import UserService
from kinko.store.publish import publish_after_commit
from kinko.store.tables.identity import (
    IdentityConfigRow,
    ProposalRow,
    RoleGrantRow,
    UserRow,
)

# stdlib logging: a broken log stream must not turn into an exception here.
log = logging.getLogger("kinko.identity")
__all__ = ["MATRIX_KEY", "RoleService"]


class RoleService(ProposalRules):
    def __init__(
        self,
        ctx: Context,
        handlers: ProposalHandlers | None = None,
        *,
        users: UserService,
        tokens: TokenIssuer,
        mfa: MfaService,
        sessions: SessionService,
    ) -> None:
        """Identity's own services, which apply what a proposal decides
        (`kinko.identity.service` builds them once and hands them in)."""
        super().__init__(ctx, handlers, tokens=tokens)
        self.users = users
        self.mfa = mfa
        self.sessions = sessions

    def _insert_grant(
        self, session: Session, user_id: UserId, grant: RoleGrant, *, by: str, proposal: str | None
    ) -> None:
        user = self.user_row(session, user_id, lock=True)
        if user.state in (UserState.SUSPENDED.value, UserState.REMOVED.value):
            raise Conflict(f"user {user.username} is {user.state}; roles cannot be granted")
        held = self.roles_of(session, user_id)
        if grant in held:
            raise Conflict(f"{user.username} already holds {grant.role.value} with that scope")
        check_sod(held, grant, self.conflict_matrix(session))
        session.add(
            RoleGrantRow(
                user_id=user_id,
                role=grant.role.value,
                assets=list(grant.assets),
                wallets=list(grant.wallets),
                granted_at=self.now(),
                granted_by=by,
                proposal_id=proposal,
            )
        )
        # A privilege change ends existing sessions: the user signs in again (rotation).
        self.sessions.end_all(session, user_id)

    def propose(
        self,
        session: Session,
        *,
        actor: UserId,
        kind: ProposalKind,
        payload: dict[str, Any],
        reason: str,
    ) -> Proposal:
        """Record a proposal, or apply it at once when four eyes are not required."""
        self.require_proposer(session, actor, kind)
        if not reason.strip():
            raise InputError("reason", "say why (it goes in the audit log)")
        payload = self.check_payload(session, kind, payload, actor=actor)
        row = ProposalRow(
            id=new_id("prp"),
            kind=kind.value,
            payload=payload,
            proposer_id=actor,
            state=ProposalState.PENDING.value,
            reason=reason,
            created_at=self.now(),
            expires_at=self.now() + PROPOSAL_LIFETIME,
        )
        session.add(row)
        session.flush()
        fields = self.event_fields(session, kind, payload, row.id)
        self.audit(
            session,
            actor=user_actor(actor),
            action="identity.proposal_create",
            subject=f"proposal:{row.id}",
            kind=kind.value,
            payload=public_payload(payload),
            reason=reason,
        )
        self.emit(
            session,
            self.handlers.event_type(kind),
            actor=user_actor(actor),
            outcome="proposed",
            fields=fields,
        )
        action = self.at_once(session, kind, payload, actor)
        if action is not None:
            self._apply(session, row, decided_by=actor, action=action, at_once=True)
        return to_proposal(row)

    def approval_content(self, session: Session, proposal_id: str, actor: UserId) -> dict[str, Any]:
        """What `actor` would approve (their step-up commits to its digest), once the
        four-eyes rules say they may: a person who may not is told why before any key."""
        row = session.get(ProposalRow, proposal_id)
        if row is None:
            raise NotFound(f"no proposal {proposal_id}")
        self._check_vote(session, row, actor)
        return proposal_content(row)

    def _check_vote(self, session: Session, row: ProposalRow, actor: UserId) -> None:
        # The four-eyes rules (kinko.identity.four_eyes): pending, not the proposer, not
        # the person it is about, an active security_admin; the proposer still one too.
        check_second(
            self.step(session, row),
            person_now(session, actor, self.deciding_roles(session, actor, row)),
            now=self.now(),
            proposer_now=person_now(session, row.proposer_id),
        )

    def approve(
        self, session: Session, proposal_id: str, *, actor: UserId, vote: SecondVote
    ) -> Proposal:
        """The second vote: the four-eyes rules, then `vote` confirmed (the approver's
        bound step-up, `kinko.identity.step_ups`), then the change applies."""
        row = self._locked(session, proposal_id)
        kind = ProposalKind(row.kind)
        self._check_vote(session, row, actor)
        vote.confirm(
            session, ApprovalTerms.of(ApprovalKind.PROPOSAL, row.id, actor, proposal_content(row))
        )
        if self.handlers.handler_for(kind) is None:  # a handler checks again when applying
            # Checked again now: the roles, states and admins may have changed meanwhile.
            self.check_payload(session, kind, dict(row.payload), actor=UserId(row.proposer_id))
        self._apply(session, row, decided_by=actor, action="identity.proposal_approve")
        return to_proposal(row)

    def refuse(self, session: Session, proposal_id: str, *, actor: UserId, reason: str) -> Proposal:
        row = self._pending(session, proposal_id)
        self.require_decider(session, actor, ProposalKind(row.kind))
        handler = self.handlers.handler_for(ProposalKind(row.kind))
        if handler is not None:
            handler.refuse(session, dict(row.payload), proposal_id=row.id, decided_by=actor)
        row.state, row.decided_by, row.decided_at = ProposalState.REFUSED.value, actor, self.now()
        self.audit(
            session,
            actor=user_actor(actor),
            action="identity.proposal_refuse",
            subject=f"proposal:{row.id}",
            reason=reason,
        )
        self.emit(
            session,
            self.handlers.event_type(ProposalKind(row.kind)),
            actor=user_actor(actor),
            outcome="refused",
            fields={"proposal": row.id, "kind": row.kind},
        )
        return to_proposal(row)

    def _locked(self, session: Session, proposal_id: str) -> ProposalRow:
        row = session.execute(
            select(ProposalRow).where(ProposalRow.id == proposal_id).with_for_update()
        ).scalar_one_or_none()
        if row is None:
            raise NotFound(f"no proposal {proposal_id}")
        return row

    def _pending(self, session: Session, proposal_id: str) -> ProposalRow:
        row = self._locked(session, proposal_id)
        if row.state != ProposalState.PENDING.value:
            raise Conflict(f"proposal {proposal_id} is already {row.state}")
        return row

    def _apply(
        self,
        session: Session,
        row: ProposalRow,
        *,
        decided_by: UserId,
        action: str,
        at_once: bool = False,
    ) -> None:
        kind, payload = ProposalKind(row.kind), dict(row.payload)
        fields = self.event_fields(session, kind, payload, row.id)
        bootstrap = action == "identity.role_bootstrap_grant"
        by = user_actor(decided_by)
        handler = self.handlers.handler_for(kind)
        if handler is not None:
            handler.apply(session, payload, proposal_id=row.id, decided_by=decided_by)
        elif kind == ProposalKind.GRANT_ROLE:
            grant = parse_grant(payload["role"], payload["assets"], payload["wallets"])
            self._insert_grant(session, UserId(payload["user_id"]), grant, by=by, proposal=row.id)
        elif kind == ProposalKind.REVOKE_ROLE:
            self._revoke_grants(session, UserId(payload["user_id"]), Role(payload["role"]))
        elif kind == ProposalKind.SET_USER_STATE:
            self.users.set_state(
                session,
                UserId(payload["user_id"]),
                UserState(payload["state"]),
                actor=by,
                reason=row.reason,
                proposal=row.id,
            )
        elif kind == ProposalKind.CREATE_TOKEN:
            self.tokens.create_from_proposal(session, payload, actor=by, proposal=row.id)
        elif kind == ProposalKind.REMOVE_MFA:
            self.mfa.remove_factors(session, UserId(payload["user_id"]), payload["factor"])
        else:
            self._set_matrix(session, ConflictMatrix.parse(payload["conflicts"]), decided_by)
        row.state, row.decided_by, row.decided_at = (
            ProposalState.APPROVED.value,
            decided_by,
            self.now(),
        )
        details: dict[str, Any] = {"kind": kind.value, "payload": public_payload(payload)}
        if bootstrap:
            details["bootstrap"] = "first setup"
        elif not at_once:
            details["proposer"] = user_actor(row.proposer_id)
        self.audit(session, actor=by, action=action, subject=f"proposal:{row.id}", **details)
        high = bootstrap or fields.get("privileged") is True
        self.emit(
            session,
            self.handlers.event_type(kind),
            actor=by,
            outcome="approved",
            severity="high" if high else "medium",
            fields={**fields, "at_once": at_once, "bootstrap": bootstrap},
        )
        if not at_once:  # a second security_admin approved: how long have they been one?
            step = four_eyes_approved(
                session,
                step=f"proposal.{kind.value}",
                subject=f"proposal:{row.id}",
                proposer=row.proposer_id,
                approver=decided_by,
                roles=sorted(eligibility(kind)[1]),
                now=self.now(),
                fields={"proposal": row.id, "kind": kind.value},
            )
            publish_after_commit(session, self.ctx.bus, step)

    def _set_matrix(self, session: Session, matrix: ConflictMatrix, by: UserId) -> None:
        users = session.execute(
            select(UserRow).where(UserRow.state != UserState.REMOVED.value)
        ).scalars()
        for user in users:
            try:
                check_matrix_holds(self.roles_of(session, user.id), matrix)
            except PermissionDenied as exc:
                raise Conflict(
                    f"the new matrix is already violated by {user.username}: {exc.message}"
                ) from None
        row = session.get(IdentityConfigRow, MATRIX_KEY)
        if row is None:
            session.add(
                IdentityConfigRow(
                    key=MATRIX_KEY,
                    value=matrix.to_list(),
                    updated_at=self.now(),
                    updated_by=user_actor(by),
                )
            )
        else:
            row.value, row.updated_at, row.updated_by = matrix.to_list(), self.now(), user_actor(by)

    def _revoke_grants(self, session: Session, user_id: UserId, role: Role) -> int:
        result = session.execute(
            update(RoleGrantRow)
            .where(
                RoleGrantRow.user_id == user_id,
                RoleGrantRow.role == role.value,
                RoleGrantRow.revoked_at.is_(None),
            )
            .values(revoked_at=self.now())
        )
        count = int(getattr(result, "rowcount", 0) or 0)
        if count == 0:
            raise NotFound(f"user {user_id} does not hold {role.value}")
        self.sessions.end_all(session, user_id)
        return count

    def revoke_role(
        self, session: Session, user_id: UserId, role: Role, *, actor: UserId, reason: str
    ) -> Proposal:
        """Propose taking a role away; one's own role goes at once (`ProposalRules`)."""
        return self.propose(
            session,
            actor=actor,
            kind=ProposalKind.REVOKE_ROLE,
            payload={"user_id": user_id, "role": role.value},
            reason=reason,
        )

    def change_state(
        self, session: Session, user_id: UserId, state: UserState, *, actor: UserId, reason: str
    ) -> Proposal:
        """Propose suspending, reinstating (`ACTIVE`) or removing a user; suspending or
        removing someone without a privileged role applies at once."""
        return self.propose(
            session,
            actor=actor,
            kind=ProposalKind.SET_USER_STATE,
            payload={"user_id": user_id, "state": state.value},
            reason=reason,
        )

    def proposal(self, session: Session, proposal_id: str) -> Proposal | None:
        row = session.get(ProposalRow, proposal_id)
        return None if row is None else to_proposal(row)

    def list_proposals(
        self, session: Session, state: ProposalState | None = None
    ) -> list[Proposal]:
        q = select(ProposalRow).order_by(ProposalRow.created_at, ProposalRow.id)
        if state is not None:
            q = q.where(ProposalRow.state == state.value)
        return [to_proposal(r) for r in session.execute(q).scalars()]

    def unsafe_direct_grant(
        self, session: Session, user_id: UserId, grant: RoleGrant, *, reason: str
    ) -> None:
        """UNSAFE: grant a role without four eyes. For tests and `kinko demo` only.

        The separation-of-duties check still applies; the grant is audited as
        ``identity.role_unsafe_grant`` and logged as a warning.
        """
        log.warning(
            "unsafe direct role grant (four eyes bypassed): user=%s role=%s reason=%s",
            user_id,
            grant.role.value,
            reason,
        )
        self._insert_grant(session, user_id, grant, by="system:unsafe", proposal=None)
        self.audit(
            session,
            actor="system:unsafe",
            action="identity.role_unsafe_grant",
            subject=user_actor(user_id),
            reason=reason,
            **grant.to_dict(),
        )
        self.emit(
            session,
            "role.change",
            actor="system:unsafe",
            outcome="granted",
            severity="high",
            fields={"user": user_id, "role": grant.role.value, "unsafe": True},
        )
