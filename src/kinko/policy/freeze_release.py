"""Lifting a freeze is an identity proposal (kind ``release_freeze``): one four-eyes
mechanism for every two-person step (ADR 0005, issue 14).

Identity runs the mechanism — a security admin proposes, a different one approves with
their bound step-up (`kinko.identity.step_ups`), in time, both still active — and hands
the payload to this handler: `check` when it is proposed (the freeze exists and is not
lifted), `apply` when it is approved (the freeze is lifted, audited ``freeze.released``
and announced as the ``admin.action`` the default pack's ``kinko-freeze-lifted`` watches).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from kinko.context import Context
from kinko.core.errors import Conflict, InputError, NotFound
from kinko.core.events import SecurityEvent
from kinko.identity.model import UserId
from kinko.store.db import sole_writer_memo
from kinko.store.publish import publish_after_commit
from kinko.store.tables.identity import ProposalRow
from kinko.store.tables.policy import FreezeRow

EVENT_TYPE = "freeze.release"


def active_freeze(session: Session, freeze_id: str) -> FreezeRow:
    """The freeze `freeze_id`, locked, if it is still in force."""
    row = session.execute(
        select(FreezeRow).where(FreezeRow.id == freeze_id).with_for_update()
    ).scalar_one_or_none()
    if row is None:
        raise NotFound(f"no freeze {freeze_id}; list them with 'kinko freeze list'")
    if row.released_at is not None:
        raise Conflict(f"freeze {freeze_id} was already lifted")
    return row


def forget_active(session: Session) -> None:
    """Clear this transaction's memo of the active freezes (one changed)."""
    memo = sole_writer_memo(session, "freezes")
    if memo is not None:
        memo.clear()


class FreezeReleaseHandler:
    """What identity's ``release_freeze`` proposals do to freezes."""

    event_type = EVENT_TYPE

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    def check(self, session: Session, payload: dict[str, Any]) -> dict[str, Any]:
        freeze_id = payload.get("freeze_id")
        if not isinstance(freeze_id, str) or not freeze_id:
            raise InputError("freeze_id", "name the freeze to lift (kinko freeze list)")
        freeze = active_freeze(session, freeze_id)
        return {"freeze_id": freeze.id, "scope": freeze.scope, "target": freeze.target}

    def apply(
        self, session: Session, payload: dict[str, Any], *, proposal_id: str, decided_by: UserId
    ) -> None:
        freeze = active_freeze(session, str(payload["freeze_id"]))
        proposal = session.get(ProposalRow, proposal_id)
        proposer = f"user:{proposal.proposer_id}" if proposal is not None else "unknown"
        approver = f"user:{decided_by}"
        now = self.ctx.clock.now()
        freeze.released_at = now
        freeze.released_by = [proposer, approver]
        forget_active(session)
        session.flush()
        self.ctx.audit.append(
            session,
            actor=approver,
            action="freeze.released",
            subject=freeze.id,
            details={"proposal": proposal_id, "proposer": proposer, "approver": approver},
        )
        publish_after_commit(
            session,
            self.ctx.bus,
            SecurityEvent(
                type="admin.action",
                time=now,
                actor=approver,
                outcome="success",
                severity="medium",
                fields={"action": "freeze.released", "freeze_id": freeze.id, "proposer": proposer},
            ),
        )

    def refuse(
        self, session: Session, payload: dict[str, Any], *, proposal_id: str, decided_by: UserId
    ) -> None:
        """Nothing to undo: the freeze stays (identity audits the refusal)."""
