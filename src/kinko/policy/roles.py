"""Who holds which role, asked of the identity service (one seam, easy to rewire)."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.orm import Session

from kinko.context import Context
from kinko.core.errors import PermissionDenied

RolesOf = Callable[[Session, str], frozenset[str]]


def identity_roles(ctx: Context) -> RolesOf:
    """Role names `user_id` holds now, from `kinko.identity.service.IdentityService`."""

    def roles_of(session: Session, user_id: str) -> frozenset[str]:
        from kinko.identity.service import IdentityService

        grants = IdentityService(ctx).roles_of(session, user_id)
        return frozenset(grant.role.value for grant in grants)

    return roles_of


def require_role(roles_of: RolesOf, session: Session, user_id: str, role: str, what: str) -> None:
    if role not in roles_of(session, user_id):
        from kinko.identity.names import person

        raise PermissionDenied(
            f"{person(session, user_id)} cannot {what}: the {role} role is required"
        )
