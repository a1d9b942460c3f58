"""A new withdrawal policy waits for four eyes before a process may decide with it.

The policy a process decides with comes from its configuration (``policy_path`` in
``kinko.toml``, or ``KINKO_POLICY_PATH``). Pointing one process at another file must not
change the policy alone: a text whose SHA-256 differs from the one in force is used only
once it was approved through the identity proposal mechanism (kind ``activate_policy``):
a security admin proposes it (``POST /v1/policy/proposals``, ``kinko policy propose
FILE``), a second, different one approves it (``kinko role approve ID``). Until then every
decision under it is refused (`kinko.policy.versions.activate`, code
``policy_not_approved``). The first policy a database ever decides with needs no approval
(first setup; audited as such). This module holds that kind's handler, which the
composition root (kinko.services) gives the identity service.
"""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from kinko.context import Context
from kinko.core.errors import Conflict, InputError
from kinko.identity.model import ProposalKind, ProposalState, UserId
from kinko.policy import versions
from kinko.policy.diff import weakenings
from kinko.policy.loader import load_policy
from kinko.policy.rules import Policy
from kinko.store.tables.identity import ProposalRow
from kinko.store.tables.policy import PolicyVersionRow

EVENT_TYPE = "policy.proposal"
"""The event type proposals of this kind are announced under (proposed/approved/refused)."""

_DIGEST = re.compile(r"^[0-9a-f]{64}$")


def approval_of(session: Session, digest: str) -> str | None:
    """The id of the approved ``activate_policy`` proposal for the text `digest`, if any."""
    rows = session.execute(
        select(ProposalRow.id, ProposalRow.payload).where(
            ProposalRow.kind == ProposalKind.ACTIVATE_POLICY.value,
            ProposalRow.state == ProposalState.APPROVED.value,
        )
    ).all()
    for proposal_id, payload in rows:
        if isinstance(payload, dict) and payload.get("digest") == digest:
            return str(proposal_id)
    return None


def describe(ctx: Context, session: Session, policy: Policy) -> dict[str, Any]:
    """The payload proposing `policy`: its version, digest and source, and every way it
    loosens the policy in force (what the second person approves)."""
    current = versions.current_digest(session)
    previous = None if current is None else session.get(PolicyVersionRow, current)
    loosens: list[dict[str, str]] = []
    if previous is not None:
        try:
            before = load_policy(previous.text, source=f"policy_versions/{previous.version}")
            loosens = [
                {"change": w.change.value, "rule": w.rule_id, "detail": w.detail}
                for w in weakenings(before, policy)
            ]
        except InputError:
            loosens = [{"change": "unknown", "rule": "*", "detail": "previous text unreadable"}]
    return {
        "version": policy.version,
        "digest": policy.digest,
        "source": policy.source[:200],
        "rules": len(policy.rules),
        "previous_version": None if previous is None else previous.version,
        "previous_digest": current,
        "weakenings": loosens,
    }


class PolicyActivationHandler:
    """Checks, applies and refuses ``activate_policy`` proposals for the role service."""

    event_type = EVENT_TYPE

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    def check(self, session: Session, payload: dict[str, Any]) -> dict[str, Any]:
        digest = str(payload.get("digest", ""))
        version = str(payload.get("version", ""))
        if not _DIGEST.match(digest):
            raise InputError("digest", "must be the policy text's SHA-256 (64 hex digits)")
        if not version or len(version) > 64:
            raise InputError("version", "must be the policy's version string")
        if versions.current_digest(session) == digest:
            raise Conflict(f"policy {version} is already in force", code="policy_in_force")
        approved = approval_of(session, digest)
        if approved is not None:
            raise Conflict(
                f"policy {version} (sha256 {digest}) was approved already ({approved})",
                code="policy_approved",
            )
        clash = session.execute(
            select(PolicyVersionRow.digest).where(
                PolicyVersionRow.version == version, PolicyVersionRow.digest != digest
            )
        ).scalar_one_or_none()
        if clash is not None:
            raise Conflict(
                f"policy version {version} was already used for a different text "
                f"(sha256 {clash}); give the changed policy a new version"
            )
        pending = [
            row.id
            for row in session.execute(
                select(ProposalRow).where(
                    ProposalRow.kind == ProposalKind.ACTIVATE_POLICY.value,
                    ProposalRow.state == ProposalState.PENDING.value,
                )
            ).scalars()
            if isinstance(row.payload, dict) and row.payload.get("digest") == digest
        ]
        if pending:
            raise Conflict(
                f"policy {version} is already proposed ({pending[0]}); a second security "
                "admin approves it with 'kinko role approve'",
                code="policy_proposed",
            )
        keys = ("version", "digest", "source", "rules", "previous_version", "previous_digest")
        out = {key: payload.get(key) for key in keys}
        out["weakenings"] = list(payload.get("weakenings") or [])
        return out

    def apply(
        self, session: Session, payload: dict[str, Any], *, proposal_id: str, decided_by: UserId
    ) -> None:
        """Record the approval: from now on a process may decide with this text."""
        self.ctx.audit.append(
            session,
            actor=f"user:{decided_by}",
            action="policy.approved",
            subject=str(payload.get("version")),
            details={
                "digest": payload.get("digest"),
                "proposal": proposal_id,
                "previous_version": payload.get("previous_version"),
                "weakenings": list(payload.get("weakenings") or []),
            },
        )

    def refuse(
        self, session: Session, payload: dict[str, Any], *, proposal_id: str, decided_by: UserId
    ) -> None:
        return None
