"""How long the people who approve a step have held the role that let them approve it.

One insider fills a quorum with people granted a role days ago (issue 13, attack 1: the
attacker's fresh admin approves). Every four-eyes step and every withdrawal quorum
therefore tells the monitor, for each approver, the whole days since they were granted
the eligible role they have held longest (`grant_days`, computed here and only here),
and the largest of them as ``oldest_approver_grant_days``: the default rule
``kinko-quorum-by-newcomers`` alerts when it is under 7 days.

A four-eyes step (a role, state, factor or token proposal approved, a screening list
replaced, a policy activated, a freeze or a monitor response released, an address-book
entry approved) is announced as one ``four_eyes.approved`` event (`four_eyes_approved`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from kinko.core.events import SecurityEvent
from kinko.identity.permissions import ROLE_PERMISSIONS
from kinko.store.tables.identity import RoleGrantRow

EVENT_TYPE = "four_eyes.approved"


def roles_holding(permission: str) -> tuple[str, ...]:
    """The roles that carry `permission` (the ones eligible to approve with it)."""
    return tuple(sorted(r.value for r, perms in ROLE_PERMISSIONS.items() if permission in perms))


def grant_days(
    session: Session, people: Sequence[str], roles: Iterable[str], now: datetime
) -> list[int]:
    """For each of `people` (user ids, or ``user:<id>`` actors), in order: whole days since
    they were granted the live grant of one of `roles` they have held longest; 0 for
    someone who holds none of them (granted nothing: as new as can be)."""
    ids = [p.removeprefix("user:") for p in people]
    if not ids:
        return []
    granted = dict(
        session.execute(
            select(RoleGrantRow.user_id, func.min(RoleGrantRow.granted_at))
            .where(
                RoleGrantRow.user_id.in_(ids),
                RoleGrantRow.role.in_(list(roles)),
                RoleGrantRow.revoked_at.is_(None),
            )
            .group_by(RoleGrantRow.user_id)
        ).all()
    )
    return [max(0, (now - granted[i]).days) if i in granted else 0 for i in ids]


def tenure_fields(
    session: Session, approvers: Sequence[str], roles: Iterable[str], now: datetime
) -> dict[str, Any]:
    """``approvers``, ``approver_grant_days`` (per approver) and
    ``oldest_approver_grant_days`` (the largest): what the quorum rule reads."""
    days = grant_days(session, approvers, roles, now)
    return {
        "approvers": list(approvers),
        "approver_grant_days": days,
        "oldest_approver_grant_days": max(days, default=0),
    }


def four_eyes_approved(
    session: Session,
    *,
    step: str,
    subject: str,
    proposer: str,
    approver: str,
    roles: Iterable[str],
    now: datetime,
    fields: dict[str, Any] | None = None,
) -> SecurityEvent:
    """The ``four_eyes.approved`` event of a step `proposer` proposed and `approver` (the
    second person) approved; `roles` are the roles that made the approver eligible.
    The caller publishes it once its transaction commits."""
    eligible = sorted(set(roles))
    return SecurityEvent(
        type=EVENT_TYPE,
        time=now,
        actor=_actor(approver),
        outcome="success",
        severity="medium",
        fields={
            **(fields or {}),
            "step": step,
            "subject": subject,
            "proposer": _actor(proposer),
            "approver": _actor(approver),
            "eligible_roles": eligible,
            **tenure_fields(session, [_actor(approver)], eligible, now),
        },
    )


def _actor(person: str) -> str:
    return person if ":" in person else f"user:{person}"
