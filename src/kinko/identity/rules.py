"""What each identity proposal may change, checked when proposed and again when approved.

`ProposalRules` is the half of `RoleService` that reads: whether a proposal is allowed at
all (nobody proposes a change about themselves, the last two security admins stay, a
token proposal is for a service account), whether it applies at once or waits for a
second security admin, and the fields its security events carry.

Four eyes, always, except:

* the **bootstrap** (first setup only): the sole security admin Kinko has ever had grants
  `security_admin` to a second person, at once (nobody else could approve). Once two
  people have held `security_admin` it never applies again, whoever is suspended since;
* taking access away from someone who holds no privileged role (suspend or remove);
* giving up one's own role.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from kinko.context import Context
from kinko.core.errors import Conflict, InputError, PermissionDenied
from kinko.identity.base import ServiceBase
from kinko.identity.four_eyes import Step, check_first
from kinko.identity.issuing import TokenIssuer
from kinko.identity.model import ProposalKind, RoleGrant, UserId, UserState
from kinko.identity.people import person_now, roles_held
from kinko.identity.permissions import PRIVILEGED_ROLES, Role, parse_role
from kinko.identity.proposals import (
    ADDRESS_BOOK_KINDS,
    CUSTODY_KINDS,
    REGISTER_KINDS,
    Handlers,
    ProposalHandlers,
    parse_grant,
    public_payload,
)
from kinko.identity.sod import DEFAULT_MATRIX, ConflictMatrix, check_sod
from kinko.identity.tenure import roles_holding
from kinko.store.tables.identity import IdentityConfigRow, ProposalRow, RoleGrantRow, UserRow

MATRIX_KEY = "sod_conflicts"
# Proposals about a person (the payload's user_id) that raise their access: the person
# they are about neither proposes nor approves them.
_RAISING = frozenset({ProposalKind.GRANT_ROLE, ProposalKind.CREATE_TOKEN})
_STATES = {
    "suspended": UserState.SUSPENDED,
    "active": UserState.ACTIVE,
    "removed": UserState.REMOVED,
}


_ADMINS = frozenset({Role.SECURITY_ADMIN.value})
_REGISTER_KEEPERS = frozenset({Role.SECURITY_ADMIN.value, Role.CISO.value})

_CUSTODY_WRITERS = frozenset(roles_holding("custody:write"))
_ADDRESS_PROPOSERS = frozenset(roles_holding("addressbook:propose"))
_ADDRESS_APPROVERS = frozenset(roles_holding("addressbook:approve"))
# Kinds whose proposers and approvers are named by `eligibility` (not only security admins).
_ROLE_NAMED = CUSTODY_KINDS | REGISTER_KINDS | ADDRESS_BOOK_KINDS


def eligibility(kind: ProposalKind) -> tuple[frozenset[str], frozenset[str]]:
    """(who may propose, who may approve) a proposal of `kind`, as role names.

    Custody's registrations (an asset, a wallet, a key share) are proposed by a holder of
    ``custody:write`` and approved by a second person holding ``custody:write`` or
    ``security_admin``; changes to the governance register (self-inspection) by a
    ``security_admin`` or the ``ciso`` and a second one of them; every other kind by two
    security admins. An address-book entry: a holder of ``addressbook:propose`` and a
    second person holding ``addressbook:approve``."""
    if kind in ADDRESS_BOOK_KINDS:
        return _ADDRESS_PROPOSERS, _ADDRESS_APPROVERS
    if kind in CUSTODY_KINDS:
        return _CUSTODY_WRITERS, _CUSTODY_WRITERS | _ADMINS
    if kind in REGISTER_KINDS:
        return _REGISTER_KEEPERS, _REGISTER_KEEPERS
    return _ADMINS, _ADMINS


class ProposalRules(ServiceBase):
    def __init__(
        self, ctx: Context, handlers: ProposalHandlers | None = None, *, tokens: TokenIssuer
    ) -> None:
        """`tokens`: identity's token issuer, which checks and mints a service account's
        token (`kinko.identity.service` hands it in)."""
        super().__init__(ctx)
        self.tokens = tokens
        # The kinds other domains own (a screening list, a policy), as the composition
        # root (kinko.services) wired them; without one such a proposal is refused.
        self.handlers = Handlers(handlers)

    def roles_of(self, session: Session, user_id: str) -> tuple[RoleGrant, ...]:
        return roles_held(session, user_id)

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

    def require_proposer(self, session: Session, actor: UserId, kind: ProposalKind) -> None:
        """`actor` may propose (or refuse) a proposal of `kind`: an active security admin,
        or for custody's registrations an active holder of ``custody:write`` (the
        register's changes: a security admin or the CISO; `eligibility`)."""
        if kind not in _ROLE_NAMED:
            self._require_admin(session, actor)
            return
        proposers, _ = eligibility(kind)
        check_first(person_now(session, actor), proposers, f"propose a {kind.value}")

    def require_decider(self, session: Session, actor: UserId, kind: ProposalKind) -> None:
        """`actor` may refuse a proposal of `kind`: someone eligible to approve it."""
        if kind not in _ROLE_NAMED:
            self._require_admin(session, actor)
            return
        _, approvers = eligibility(kind)
        check_first(person_now(session, actor), approvers, f"decide a {kind.value}")

    def deciding_roles(self, session: Session, actor: UserId, row: ProposalRow) -> list[str]:
        """The roles `actor` approves `row` with. For the register's changes only unscoped
        grants count; for custody's registrations only grants covering what is registered:
        an unscoped grant (an asset, a wallet spans every asset), or for a key share one
        limited to its wallet alone (fail closed)."""
        grants = self.roles_of(session, actor)
        if ProposalKind(row.kind) in REGISTER_KINDS:  # organisation-wide: unscoped grants
            return [g.role.value for g in grants if g.unscoped]
        if ProposalKind(row.kind) not in CUSTODY_KINDS:
            return [g.role.value for g in grants]
        wallet = row.payload.get("wallet_id")
        return [
            g.role.value
            for g in grants
            if g.unscoped
            or (
                ProposalKind(row.kind) == ProposalKind.REGISTER_KEY_SHARE
                and not g.assets
                and wallet in g.wallets
            )
        ]

    def _admin_count(self, session: Session) -> int:
        """Active people holding `security_admin` now."""
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

    def bootstrap_open(self, session: Session) -> bool:
        """True only during the first setup: fewer than two people have EVER held
        `security_admin` (grants are never deleted, so suspending or revoking people
        cannot bring this back)."""
        ever = session.execute(
            select(func.count(func.distinct(RoleGrantRow.user_id))).where(
                RoleGrantRow.role == Role.SECURITY_ADMIN.value
            )
        ).scalar_one()
        return int(ever) < 2

    def _privileged(self, grants: tuple[RoleGrant, ...]) -> bool:
        return any(g.role in PRIVILEGED_ROLES for g in grants)

    def _keep_two_admins(self, session: Session, user: UserRow, what: str) -> None:
        """Refuse taking away one of the last two active security admins."""
        if user.state != UserState.ACTIVE.value:
            return
        if not any(g.role == Role.SECURITY_ADMIN for g in self.roles_of(session, user.id)):
            return
        if self._admin_count(session) <= 2:
            raise Conflict(
                f"{what} {user.username} would leave fewer than two active security_admins, "
                "and then nothing on identity could be approved; grant security_admin to "
                "someone else first (four eyes), then try again",
                code="last_two_admins",
            )

    # --- checks when proposed (and again when approved) ------------------------------------
    def check_payload(
        self, session: Session, kind: ProposalKind, payload: dict[str, Any], *, actor: UserId
    ) -> dict[str, Any]:
        """The normalised payload of a proposal `actor` may make, or a refusal."""
        handler = self.handlers.handler_for(kind)
        if handler is not None:  # another domain's four-eyes change (a screening list)
            return handler.check(session, payload)
        if kind == ProposalKind.SET_CONFLICTS:
            return {"conflicts": ConflictMatrix.parse(payload.get("conflicts")).to_list()}
        if kind == ProposalKind.CREATE_TOKEN:
            return self.tokens.check_service_payload(session, payload, actor=actor)
        user = self.user_row(session, str(payload.get("user_id", "")))
        if kind in (ProposalKind.GRANT_ROLE, ProposalKind.SET_USER_STATE) and user.id == actor:
            raise PermissionDenied(
                "nobody proposes a change to their own roles or state; ask another "
                "security_admin to propose it",
                code="self_grant",
            )
        if kind == ProposalKind.GRANT_ROLE:
            grant = parse_grant(
                str(payload.get("role", "")), payload.get("assets"), payload.get("wallets")
            )
            if user.state in (UserState.SUSPENDED.value, UserState.REMOVED.value):
                raise Conflict(f"user {user.username} is {user.state}; roles cannot be granted")
            check_sod(self.roles_of(session, user.id), grant, self.conflict_matrix(session))
            return {"user_id": user.id, **grant.to_dict()}
        if kind == ProposalKind.REVOKE_ROLE:
            role = parse_role(str(payload.get("role", "")))
            if not any(g.role == role for g in self.roles_of(session, user.id)):
                raise Conflict(f"{user.username} does not hold {role.value}", code="not_held")
            if role == Role.SECURITY_ADMIN:
                self._keep_two_admins(session, user, "revoking security_admin from")
            return {"user_id": user.id, "role": role.value}
        if kind == ProposalKind.SET_USER_STATE:
            return {"user_id": user.id, "state": self._check_state(session, user, payload)}
        factor = str(payload.get("factor", "all"))
        if factor != "all" and not factor.startswith(("webauthn:", "totp:")):
            raise InputError("factor", "use 'all', 'webauthn:<credential id>' or 'totp:<id>'")
        return {"user_id": user.id, "factor": factor}

    def _check_state(self, session: Session, user: UserRow, payload: dict[str, Any]) -> str:
        state = _STATES.get(str(payload.get("state", "")))
        if state is None:
            raise InputError("state", "use suspended, active (reinstate) or removed")
        old = UserState(user.state)
        if old == UserState.REMOVED:
            raise Conflict(f"user {user.username} is removed; removal is final")
        if state == old or (state == UserState.ACTIVE and old != UserState.SUSPENDED):
            raise Conflict(f"user {user.username} is {old.value}; cannot make them {state.value}")
        if state != UserState.ACTIVE:
            verb = "suspending" if state == UserState.SUSPENDED else "removing"
            self._keep_two_admins(session, user, verb)
        return state.value

    def step(self, session: Session, row: ProposalRow) -> Step:
        """The proposal as the four-eyes rules see it: a second active person eligible for
        its kind (`eligibility`: a security_admin; for custody's registrations a holder of
        custody:write or a security_admin), neither its proposer nor the person it is
        about (their grant, state, factors, token; the holder of a key share; a person a
        register record names, e.g. the CISO of the CISO's record), approves it."""
        kind, user_id = ProposalKind(row.kind), row.payload.get("user_id")
        about = _RAISING | {ProposalKind.SET_USER_STATE, ProposalKind.REMOVE_MFA}
        subjects: frozenset[str] = frozenset()
        if kind in about and isinstance(user_id, str):
            subjects = frozenset({user_id})
        holder = row.payload.get("holder")
        if kind == ProposalKind.REGISTER_KEY_SHARE and isinstance(holder, str):
            subjects = frozenset({holder})
        named = row.payload.get("subjects")  # the register: Kinko users its records name
        if kind in REGISTER_KINDS and isinstance(named, list):
            subjects = frozenset(str(user) for user in named)
        return Step(
            what=_what(row),
            proposer=row.proposer_id,
            proposer_name=self.user_row(session, row.proposer_id).username,
            eligible=eligibility(kind)[1],
            proposers=eligibility(kind)[0],
            created_at=row.created_at,
            expires_at=row.expires_at,
            subjects=subjects,
            state=row.state,
        )

    def at_once(
        self, session: Session, kind: ProposalKind, payload: dict[str, Any], actor: UserId
    ) -> str | None:
        """The audit action if this proposal applies without a second person, else None."""
        if kind == ProposalKind.GRANT_ROLE:
            bootstrap = payload["role"] == Role.SECURITY_ADMIN.value and self.bootstrap_open(
                session
            )
            return "identity.role_bootstrap_grant" if bootstrap else None
        if kind == ProposalKind.SET_USER_STATE:
            lowering = payload["state"] != UserState.ACTIVE.value
            held = self.roles_of(session, payload["user_id"])
            return "identity.user_state_change" if lowering and not self._privileged(held) else None
        if kind == ProposalKind.REVOKE_ROLE and payload["user_id"] == actor:
            return "identity.role_revoke"
        return None

    # --- what the security events say --------------------------------------------------------
    def event_fields(
        self, session: Session, kind: ProposalKind, payload: dict[str, Any], proposal: str
    ) -> dict[str, Any]:
        """`proposal`, `kind`, the public payload and, for a proposal about a person:
        `target_user` (id), `target_username`, `privileged` and `security_admin` (the role
        granted is, or the person holds, a privileged role / security_admin)."""
        fields: dict[str, Any] = {"proposal": proposal, "kind": kind.value}
        fields.update(public_payload(payload))
        user_id = payload.get("user_id")
        if not isinstance(user_id, str):
            return fields
        held = {g.role for g in self.roles_of(session, user_id)}
        if kind == ProposalKind.GRANT_ROLE:
            held = {Role(payload["role"])}
        fields["target_user"] = user_id
        fields["target_username"] = self.user_row(session, user_id).username
        fields["privileged"] = bool(held & PRIVILEGED_ROLES)
        fields["security_admin"] = Role.SECURITY_ADMIN in held
        return fields


def _what(row: ProposalRow) -> str:
    """How the four-eyes messages name a proposal."""
    if row.kind == ProposalKind.RELEASE_FREEZE.value:
        return f"the unfreeze {row.id} of freeze {row.payload.get('freeze_id')}"
    if row.kind == ProposalKind.RELEASE_RESPONSE.value:
        return f"the release {row.id} of response {row.payload.get('response_id')}"
    if row.kind == ProposalKind.ADDRESS_BOOK_ENTRY.value:
        return f"address-book proposal {row.id}"
    return f"proposal {row.id} ({row.kind})"
