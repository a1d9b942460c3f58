"""Which policy text is in force, and what changed when another one took over.

Every text that decides anything is stored under its version and SHA-256 digest. When a
different text takes over, the change is audited (``policy.activated``) with every way it
loosens the previous one (`kinko.policy.diff`), and each loosening is published as a
``policy.change`` security event for the monitor.
"""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from kinko.context import Context
from kinko.core.errors import ConfigError, Conflict, PermissionDenied
from kinko.core.events import SecurityEvent
from kinko.policy.diff import Weakening, weakenings
from kinko.policy.loader import load_policy
from kinko.policy.rules import Policy
from kinko.store.db import sole_writer_memo
from kinko.store.dialect import insert_for
from kinko.store.publish import publish_after_commit
from kinko.store.tables.policy import PolicyVersionRow

_CURRENT = select(PolicyVersionRow.digest).order_by(PolicyVersionRow.activation.desc()).limit(1)


def current_digest(session: Session) -> str | None:
    return session.execute(_CURRENT).scalar_one_or_none()


def activate(
    ctx: Context, session: Session, policy: Policy, *, configured: bool = False
) -> list[Weakening]:
    """Make `policy` the one in force (a no-op when it already is); returns its loosenings.

    Refuses a version string that already names a different text. A `configured` policy
    (read from ``policy_path`` by this process) takes over from another one only once its
    text was approved by two security admins (`kinko.policy.proposals`); the first policy
    a database decides with is the first setup's.
    """
    memo = sole_writer_memo(session, "policy_version")
    if memo is not None and memo.get("digest") == policy.digest:
        return []  # checked already in this transaction, which alone could change it
    current = current_digest(session)
    if memo is not None:
        memo["digest"] = policy.digest
    if current == policy.digest:
        return []
    approval = _approval(session, policy, current) if configured else None
    clash = session.execute(
        select(PolicyVersionRow.digest).where(
            PolicyVersionRow.version == policy.version,
            PolicyVersionRow.digest != policy.digest,
        )
    ).scalar_one_or_none()
    if clash is not None:
        raise Conflict(
            f"policy version {policy.version} was already used for a different text "
            f"(sha256 {clash}); give the changed policy a new version"
        )
    now = ctx.clock.now()
    activation = (
        int(
            session.execute(
                select(func.coalesce(func.max(PolicyVersionRow.activation), 0))
            ).scalar_one()
        )
        + 1
    )
    row = session.get(PolicyVersionRow, policy.digest)
    if row is not None:
        row.activated_at = now
        row.activation = activation
    else:
        done = session.execute(
            insert_for(session, PolicyVersionRow)
            .values(
                digest=policy.digest,
                version=policy.version,
                source=policy.source,
                text=policy.text,
                loaded_at=now,
                activated_at=now,
                activation=activation,
                details={"rules": len(policy.rules)},
            )
            .on_conflict_do_nothing()
        )
        if not getattr(done, "rowcount", 0):
            return []  # a concurrent transaction activated it first
    session.flush()
    previous = None if current is None else session.get(PolicyVersionRow, current)
    found, unreadable = _loosenings(previous, policy)
    ctx.audit.append(
        session,
        actor="policy",
        action="policy.activated",
        subject=policy.version,
        details={
            "digest": policy.digest,
            "source": policy.source,
            "previous": None if previous is None else previous.version,
            "previous_unreadable": unreadable,
            "approval": approval,
            "weakenings": [
                {"change": w.change.value, "rule": w.rule_id, "detail": w.detail} for w in found
            ],
        },
    )
    for weakening in found:
        publish_after_commit(
            session,
            ctx.bus,
            SecurityEvent(
                type="policy.change",
                time=now,
                actor="policy",
                outcome="success",
                severity="high",
                fields={
                    "change": weakening.change.value,
                    "rule": weakening.rule_id,
                    "detail": weakening.detail,
                    "version": policy.version,
                    "previous_version": None if previous is None else previous.version,
                },
            ),
        )
    return found


def _approval(session: Session, policy: Policy, current: str | None) -> str:
    """How a configured policy may take over: "first setup", or its approved proposal."""
    if current is None:
        return "first setup"
    from kinko.policy.proposals import approval_of

    approved = approval_of(session, policy.digest)
    if approved is None:
        in_force = session.get(PolicyVersionRow, current)
        raise PermissionDenied(
            f"policy {policy.version} from {policy.source} (sha256 {policy.digest}) was not "
            f"approved, and policy {in_force.version if in_force else current} is in force: "
            "a security admin proposes it ('kinko policy propose FILE'), a second one "
            "approves it ('kinko role approve ID'); until then nothing is decided under it",
            code="policy_not_approved",
        )
    return approved


def _loosenings(previous: PolicyVersionRow | None, policy: Policy) -> tuple[list[Weakening], bool]:
    if previous is None:
        return [], False
    try:
        before = load_policy(previous.text, source=f"policy_versions/{previous.version}")
    except ConfigError:
        return [], True  # written by an older Kinko; recorded as unreadable, not guessed
    return weakenings(before, policy), False
