"""Role grants, the conflict matrix and four-eyes proposals on identity itself.

Granting a privileged role, removing an MFA factor and changing the conflict matrix are
proposals: a second, different `security_admin` approves them. The one exception is the
bootstrap: while fewer than two security admins exist, the sole admin's grant of
`security_admin` applies at once (audited as ``identity.role_bootstrap_grant``), since
nobody else could approve it.
"""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from kinko.core.errors import Conflict, InputError, NotFound, PermissionDenied
from kinko.core.ids import new_id
from kinko.identity.base import ServiceBase, user_actor
from kinko.identity.model import (
    ProposalKind,
    ProposalState,
    RoleGrant,
    UserId,
    UserState,
)
from kinko.identity.permissions import PRIVILEGED_ROLES, Role
from kinko.identity.proposals import Proposal, event_type, parse_grant, to_proposal
from kinko.identity.sod import DEFAULT_MATRIX, ConflictMatrix, check_matrix_holds, check_sod
from kinko.store.tables.identity import (
    IdentityConfigRow,
    ProposalRow,
    RoleGrantRow,
    UserRow,
)

# stdlib logging: a broken log stream must not turn into an exception here.
log = logging.getLogger("kinko.identity")
MATRIX_KEY = "sod_conflicts"


class RoleService(ServiceBase):
    def roles_of(self, session: Session, user_id: str) -> tuple[RoleGrant, ...]:
        rows = session.execute(
            select(RoleGrantRow)
            .where(RoleGrantRow.user_id == user_id, RoleGrantRow.revoked_at.is_(None))
            .order_by(RoleGrantRow.id)
        ).scalars()
        return tuple(RoleGrant(Role(r.role), tuple(r.assets), tuple(r.wallets)) for r in rows)

    def conflict_matrix(self, session: Session) -> ConflictMatrix:
        row = session.get(IdentityConfigRow, MATRIX_KEY)
        return DEFAULT_MATRIX if row is None else ConflictMatrix.parse(row.value)

    def _require_admin(self, session: Session, actor: UserId) -> UserRow:
        row = self.user_row(session, actor)
        if row.state != UserState.ACTIVE.value or not any(
            g.role == Role.SECURITY_ADMIN for g in self.roles_of(session, actor)
        ):
            raise PermissionDenied("only an active security_admin may do this")
        return row

    def _admin_count(self, session: Session) -> int:
        return int(
            session.execute(
                select(func.count(func.distinct(RoleGrantRow.user_id)))
                .join(UserRow, UserRow.id == RoleGrantRow.user_id)
                .where(
                    RoleGrantRow.role == Role.SECURITY_ADMIN.value,
                    RoleGrantRow.revoked_at.is_(None),
                    UserRow.state == UserState.ACTIVE.value,
                )
            ).scalar_one()
        )

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
        from kinko.identity.users import UserService

        UserService(self.ctx).revoke_access_sessions_only(session, user_id)

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
        self._require_admin(session, actor)
        if not reason.strip():
            raise InputError("reason", "say why (it goes in the audit log)")
        payload = self._check_payload(session, kind, payload)
        row = ProposalRow(
            id=new_id("prp"),
            kind=kind.value,
            payload=payload,
            proposer_id=actor,
            state=ProposalState.PENDING.value,
            reason=reason,
            created_at=self.now(),
        )
        session.add(row)
        session.flush()
        self.audit(
            session,
            actor=user_actor(actor),
            action="identity.proposal_create",
            subject=f"proposal:{row.id}",
            kind=kind.value,
            payload=payload,
            reason=reason,
        )
        self.emit(
            session,
            event_type(kind),
            actor=user_actor(actor),
            outcome="proposed",
            fields={"proposal": row.id, "kind": kind.value, **payload},
        )
        if kind == ProposalKind.GRANT_ROLE:
            role = Role(payload["role"])
            bootstrap = role == Role.SECURITY_ADMIN and self._admin_count(session) < 2
            if role not in PRIVILEGED_ROLES or bootstrap:
                action = "identity.role_bootstrap_grant" if bootstrap else "identity.role_grant"
                self._apply(session, row, decided_by=actor, action=action)
        return to_proposal(row)

    def _check_payload(
        self, session: Session, kind: ProposalKind, payload: dict[str, Any]
    ) -> dict[str, Any]:
        if kind == ProposalKind.GRANT_ROLE:
            user = self.user_row(session, str(payload.get("user_id", "")))
            grant = parse_grant(
                str(payload.get("role", "")), payload.get("assets"), payload.get("wallets")
            )
            check_sod(self.roles_of(session, user.id), grant, self.conflict_matrix(session))
            return {"user_id": user.id, **grant.to_dict()}
        if kind == ProposalKind.REMOVE_MFA:
            user = self.user_row(session, str(payload.get("user_id", "")))
            factor = str(payload.get("factor", "all"))
            if factor != "all" and not factor.startswith(("webauthn:", "totp:")):
                raise InputError("factor", "use 'all', 'webauthn:<credential id>' or 'totp:<id>'")
            return {"user_id": user.id, "factor": factor}
        matrix = ConflictMatrix.parse(payload.get("conflicts"))
        return {"conflicts": matrix.to_list()}

    def approve(self, session: Session, proposal_id: str, *, actor: UserId) -> Proposal:
        self._require_admin(session, actor)
        row = self._pending(session, proposal_id)
        if row.proposer_id == actor:
            raise PermissionDenied(
                "four eyes: nobody approves their own proposal; ask another security_admin",
                code="self_approval",
            )
        self._apply(session, row, decided_by=actor, action="identity.proposal_approve")
        return to_proposal(row)

    def refuse(self, session: Session, proposal_id: str, *, actor: UserId, reason: str) -> Proposal:
        self._require_admin(session, actor)
        row = self._pending(session, proposal_id)
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
            event_type(ProposalKind(row.kind)),
            actor=user_actor(actor),
            outcome="refused",
            fields={"proposal": row.id, "kind": row.kind},
        )
        return to_proposal(row)

    def _pending(self, session: Session, proposal_id: str) -> ProposalRow:
        row = session.execute(
            select(ProposalRow).where(ProposalRow.id == proposal_id).with_for_update()
        ).scalar_one_or_none()
        if row is None:
            raise NotFound(f"no proposal {proposal_id}")
        if row.state != ProposalState.PENDING.value:
            raise Conflict(f"proposal {proposal_id} is already {row.state}")
        return row

    def _apply(
        self, session: Session, row: ProposalRow, *, decided_by: UserId, action: str
    ) -> None:
        kind, payload = ProposalKind(row.kind), row.payload
        if kind == ProposalKind.GRANT_ROLE:
            grant = parse_grant(payload["role"], payload["assets"], payload["wallets"])
            self._insert_grant(
                session,
                UserId(payload["user_id"]),
                grant,
                by=user_actor(decided_by),
                proposal=row.id,
            )
        elif kind == ProposalKind.REMOVE_MFA:
            from kinko.identity.mfa import MfaService

            MfaService(self.ctx).remove_factors(
                session, UserId(payload["user_id"]), payload["factor"]
            )
        else:
            self._set_matrix(session, ConflictMatrix.parse(payload["conflicts"]), decided_by)
        row.state, row.decided_by, row.decided_at = (
            ProposalState.APPROVED.value,
            decided_by,
            self.now(),
        )
        self.audit(
            session,
            actor=user_actor(decided_by),
            action=action,
            subject=f"proposal:{row.id}",
            kind=kind.value,
            payload=dict(payload),
        )
        self.emit(
            session,
            event_type(kind),
            actor=user_actor(decided_by),
            outcome="approved",
            severity="medium",
            fields={"proposal": row.id, "kind": kind.value, **payload},
        )

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

    def revoke_role(
        self, session: Session, user_id: UserId, role: Role, *, actor: UserId, reason: str
    ) -> int:
        """Take a role away (reducing privilege needs one admin). Returns grants revoked."""
        self._require_admin(session, actor)
        if role == Role.SECURITY_ADMIN and user_id != actor and self._admin_count(session) <= 2:
            raise Conflict("revoking would leave fewer than two security admins; grant one first")
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
        self.audit(
            session,
            actor=user_actor(actor),
            action="identity.role_revoke",
            subject=user_actor(user_id),
            role=role.value,
            reason=reason,
        )
        self.emit(
            session,
            "role.change",
            actor=user_actor(actor),
            outcome="revoked",
            fields={"user": user_id, "role": role.value},
        )
        return count

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
