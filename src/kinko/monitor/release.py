"""Releasing a monitor response is an identity proposal (kind ``release_response``): one
four-eyes mechanism for every two-person step (ADR 0005, issue 14).

The first security admin's vote proposes the release; a different one's vote approves it
with their bound step-up (`kinko.identity.step_ups`), under identity's rules (in time,
both still active). Identity then hands the payload to this handler: `check` when it is
proposed (the response exists and is in force), `apply` when it is approved (the freeze
the response set is lifted, or the account it locked unlocked; the response is marked
released and audited ``monitor.response_released``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from kinko.context import Context
from kinko.core.errors import Conflict, InputError, NotFound
from kinko.identity.model import UserId
from kinko.monitor.actions import ResponseActions
from kinko.monitor.response_spec import ResponseAction
from kinko.store.tables.identity import ProposalRow
from kinko.store.tables.monitor import ResponseRow

EVENT_TYPE = "response.release"


def response_in_force(session: Session, response_id: str, *, lock: bool = False) -> ResponseRow:
    """The response `response_id` if it is applied (in force); NotFound or Conflict else."""
    query = select(ResponseRow).where(ResponseRow.id == response_id)
    row = session.execute(query.with_for_update() if lock else query).scalar_one_or_none()
    if row is None:
        raise NotFound(f"no monitor response {response_id}")
    if row.status != "applied":
        raise Conflict(f"response {response_id} is {row.status}; only applied ones lift")
    return row


class ResponseReleaseHandler:
    """What identity's ``release_response`` proposals do to monitor responses."""

    event_type = EVENT_TYPE

    def __init__(self, ctx: Context, actions: Callable[[], ResponseActions]) -> None:
        self.ctx = ctx
        self.actions = actions  # the monitor's hands (built after identity: a callable)

    def check(self, session: Session, payload: dict[str, Any]) -> dict[str, Any]:
        response_id = payload.get("response_id")
        if not isinstance(response_id, str) or not response_id:
            raise InputError("response_id", "name the response to release (kinko monitor alerts)")
        row = response_in_force(session, response_id)
        return {
            "response_id": row.id,
            "alert": row.alert_id,
            "action": row.action,
            "scope": row.scope,
            "target": row.target,
        }

    def apply(
        self, session: Session, payload: dict[str, Any], *, proposal_id: str, decided_by: UserId
    ) -> None:
        response = response_in_force(session, str(payload["response_id"]), lock=True)
        proposal = session.get(ProposalRow, proposal_id)
        first = f"user:{proposal.proposer_id}" if proposal is not None else "unknown"
        second = f"user:{decided_by}"
        reason = proposal.reason if proposal is not None else ""
        action = ResponseAction(response.action)
        actions = self.actions()
        if action is ResponseAction.FREEZE and response.ref:
            actions.unfreeze(
                session,
                ref=response.ref,
                proposer=first,
                approver=second,
                reason=reason,
                released=response.id,
            )
        elif action is ResponseAction.LOCK_ACCOUNT and response.target:
            actions.unlock_account(session, user=response.target, reason=reason, actor=second)
        # A held withdrawal and a step-up demand are lifted in their own services.
        response.status = "released"
        response.released_at = self.ctx.clock.now()
        session.flush()
        self.ctx.audit.append(
            session,
            actor=second,
            action="monitor.response_released",
            subject=response.id,
            details={"by": [first, second], "action": response.action, "proposal": proposal_id},
        )

    def refuse(
        self, session: Session, payload: dict[str, Any], *, proposal_id: str, decided_by: UserId
    ) -> None:
        """Nothing to undo: the response stays in force (identity audits the refusal)."""
