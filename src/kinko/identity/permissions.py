"""Roles, permissions and which roles are privileged.

The permission names are the contract with every API route (`require("domain:verb")`);
the authorisation matrix test checks every route against this map.
"""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    REQUESTER = "requester"
    APPROVER = "approver"
    SENIOR_APPROVER = "senior_approver"
    SECURITY_ADMIN = "security_admin"
    OPERATOR = "operator"
    AUDITOR = "auditor"
    CISO = "ciso"


PERMISSIONS: frozenset[str] = frozenset(
    [
        "audit:read",
        "audit:export",
        "users:read",
        "users:write",
        "roles:propose",
        "roles:approve",
        "mfa:write",
        "tokens:write",
        "custody:read",
        "custody:write",
        "liabilities:import",
        "screening:read",
        "screening:write",
        "withdrawals:create",
        "withdrawals:read",
        "withdrawals:approve",
        "withdrawals:cancel",
        "withdrawals:cancel_any",
        "addressbook:propose",
        "addressbook:approve",
        "freeze:set",
        "freeze:release",
        "monitor:ingest",
        "monitor:read",
        "alerts:write",
        "responses:release",
        "inspection:read",
        "inspection:run",
        "register:write",
    ]
)

ROLE_PERMISSIONS: dict[Role, frozenset[str]] = {
    Role.REQUESTER: frozenset(
        {
            "withdrawals:create",
            "withdrawals:read",
            "withdrawals:cancel",
            "custody:read",
            "screening:read",
            "addressbook:propose",
        }
    ),
    Role.APPROVER: frozenset(
        {"withdrawals:read", "withdrawals:approve", "custody:read", "screening:read"}
    ),
    Role.SENIOR_APPROVER: frozenset(
        {
            "withdrawals:read",
            "withdrawals:approve",
            "custody:read",
            "screening:read",
            "addressbook:approve",
        }
    ),
    Role.SECURITY_ADMIN: frozenset(
        {
            "users:read",
            "users:write",
            "roles:propose",
            "roles:approve",
            "mfa:write",
            "tokens:write",
            "monitor:read",
            "monitor:ingest",
            "alerts:write",
            "freeze:set",
            # Unfreezing needs two security_admins (the freeze service checks the pair).
            "freeze:release",
            # Who freezes and lifts freezes must see the wallets and the freezes in force.
            "custody:read",
            "responses:release",
            "screening:read",
            "screening:write",
            # Propose changes to the governance register (four eyes: kinko.inspection).
            "register:write",
        }
    ),
    Role.OPERATOR: frozenset(
        {
            "custody:read",
            "custody:write",
            # Import customer liabilities statements (audited, one person: docs/custody.md).
            "liabilities:import",
            "withdrawals:read",
            # Cancel anyone's withdrawal before it is signed (a requester: only their own).
            "withdrawals:cancel",
            "withdrawals:cancel_any",
            "screening:read",
            "monitor:read",
            "freeze:set",
        }
    ),
    Role.AUDITOR: frozenset(
        {
            "audit:read",
            "audit:export",
            "users:read",
            "custody:read",
            "screening:read",
            "withdrawals:read",
            "monitor:read",
            "inspection:read",
        }
    ),
    Role.CISO: frozenset(
        {
            "audit:read",
            "users:read",
            "custody:read",
            "screening:read",
            "withdrawals:read",
            "monitor:read",
            "alerts:write",
            "freeze:set",
            "freeze:release",
            "responses:release",
            "inspection:read",
            # Run a self-inspection from the console or the API (the auditor's view reads).
            "inspection:run",
            "register:write",
        }
    ),
}

# Holders of these are privileged: granting one of these roles, and suspending, reinstating
# or removing someone who holds one, needs a second security_admin (four eyes).
PRIVILEGED_ROLES: frozenset[Role] = frozenset(
    {Role.APPROVER, Role.SENIOR_APPROVER, Role.SECURITY_ADMIN, Role.CISO, Role.OPERATOR}
)
# Permissions that only privileged roles carry: a token carrying one is created by its
# owner with a fresh WebAuthn assertion (step-up), or for a service account by four eyes.
PRIVILEGED_PERMISSIONS: frozenset[str] = frozenset().union(
    *(ROLE_PERMISSIONS[r] for r in PRIVILEGED_ROLES)
) - frozenset().union(*(ROLE_PERMISSIONS[r] for r in Role if r not in PRIVILEGED_ROLES))
# Holders of these may only sign in with WebAuthn (unless configuration weakens it).
WEBAUTHN_ONLY_ROLES: frozenset[Role] = frozenset(
    {Role.APPROVER, Role.SENIOR_APPROVER, Role.SECURITY_ADMIN, Role.CISO}
)


def parse_role(text: str, *, field: str = "role") -> Role:
    from kinko.core.errors import InputError

    try:
        return Role(text)
    except ValueError:
        names = ", ".join(r.value for r in Role)
        raise InputError(field, f"unknown role {text!r}; use one of {names}") from None


def parse_permission(text: str, *, field: str = "permission") -> str:
    from kinko.core.errors import InputError

    if text not in PERMISSIONS:
        raise InputError(field, f"unknown permission {text!r}; see docs/identity.md for names")
    return text


def permissions_of(roles: list[Role] | tuple[Role, ...] | frozenset[Role]) -> frozenset[str]:
    out: set[str] = set()
    for role in roles:
        out |= ROLE_PERMISSIONS[role]
    return frozenset(out)


def _check_complete() -> None:
    granted = set().union(*ROLE_PERMISSIONS.values())
    missing = PERMISSIONS - granted
    unknown = granted - PERMISSIONS
    if missing or unknown or set(ROLE_PERMISSIONS) != set(Role):
        raise RuntimeError(f"role map incomplete: missing={missing} unknown={unknown}")


_check_complete()
