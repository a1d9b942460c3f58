"""A person as the four-eyes rules see them now: roles held and whether they are active.

The service half of `kinko.identity.four_eyes`: it reads the store so that the rules can
stay pure. Every two-person step builds its people here.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from kinko.identity.four_eyes import Person, actor
from kinko.identity.model import RoleGrant, UserState
from kinko.identity.permissions import Role
from kinko.store.tables.identity import RoleGrantRow, UserRow


def person_now(session: Session, ref: str, roles: Iterable[str] | None = None) -> Person:
    """`ref` (``usr_…`` or ``user:usr_…``) as they are now: active only if Kinko knows
    them and their state is active (fail closed); `roles` as given (a caller that scopes
    them, e.g. to a wallet), else every role of their live grants."""
    user_id = actor(ref).removeprefix("user:")
    row = session.get(UserRow, user_id)
    if roles is None:
        roles = session.execute(
            select(RoleGrantRow.role).where(
                RoleGrantRow.user_id == user_id, RoleGrantRow.revoked_at.is_(None)
            )
        ).scalars()
    return Person(
        ref=actor(ref),
        roles=frozenset(roles),
        active=row is not None and row.state == UserState.ACTIVE.value,
        name=ref if row is None else row.username,
    )


def roles_held(session: Session, user_id: str) -> tuple[RoleGrant, ...]:
    """`user_id`'s live role grants (revoked ones left out), oldest first: what every
    identity service asks (a query, so that none of them builds another to ask it)."""
    rows = session.execute(
        select(RoleGrantRow)
        .where(RoleGrantRow.user_id == user_id, RoleGrantRow.revoked_at.is_(None))
        .order_by(RoleGrantRow.id)
    ).scalars()
    return tuple(RoleGrant(Role(r.role), tuple(r.assets), tuple(r.wallets)) for r in rows)
