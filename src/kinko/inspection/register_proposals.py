"""Changes to the governance register wait for four eyes (kind ``register_change``).

A ``security_admin`` or the ``ciso`` proposes a batch of changes (``POST
/v1/register/proposals``, ``kinko register propose|import``) through identity's one
proposal mechanism (`RoleService.propose`); a second, different, active person holding
``security_admin`` or ``ciso`` (an unscoped grant) approves it with their bound security
key step-up (``POST /v1/roles/proposals/ID/approve``, ``kinko role approve ID
--assertion FILE``). Nobody a record names who is a Kinko user (the CISO of the CISO's
record, a person of a training record, a ceremony's participant) approves it.

`RegisterChangeHandler.check` parses the batch when proposed (bad input is refused naming
the field; nothing is proposed) and stores it normalised with the version each change
will write and the Kinko users the records name (``subjects``); `apply` parses and checks
again and writes the records on approval (`kinko.inspection.governance`); a record
changed by another proposal in the meantime is a conflict (``register_changed``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy.orm import Session

from kinko.core.errors import InputError
from kinko.identity.model import ProposalKind, UserId
from kinko.inspection.governance import GovernanceRegister
from kinko.inspection.register_changes import parse_changes
from kinko.store.tables.identity import ProposalRow

EVENT_TYPE = "inspection.register"
"""The event type these proposals are announced under (proposed/approved/refused)."""


class RegisterChangeHandler:
    """Checks, applies and refuses governance-register changes for the role service."""

    event_type = EVENT_TYPE

    def __init__(self, register: GovernanceRegister) -> None:
        self.register = register

    def check(self, session: Session, payload: dict[str, Any]) -> dict[str, Any]:
        changes = parse_changes(payload.get("changes"))
        versions = self.register.check(session, changes)
        return {
            "changes": [
                {**change.to_json(), "version": version}
                for change, version in zip(changes, versions, strict=True)
            ],
            "subjects": self.register.subjects(session, changes),
        }

    def apply(
        self, session: Session, payload: dict[str, Any], *, proposal_id: str, decided_by: UserId
    ) -> None:
        """Write what was proposed (checked again: the register may have changed)."""
        items = payload.get("changes")
        changes = parse_changes(items)
        expected = [int(item["version"]) for item in items] if isinstance(items, list) else None
        row = session.get(ProposalRow, proposal_id)
        if row is None:
            raise InputError("proposal", f"no proposal {proposal_id}")
        self.register.apply(
            session,
            changes,
            expected,
            proposal_id=proposal_id,
            proposer=f"user:{row.proposer_id}",
            approver=f"user:{decided_by}",
        )

    def refuse(
        self, session: Session, payload: dict[str, Any], *, proposal_id: str, decided_by: UserId
    ) -> None:
        return None  # nothing is written before approval; identity audits the refusal


def register_handlers(
    register: GovernanceRegister,
) -> dict[ProposalKind, Callable[[], RegisterChangeHandler]]:
    """The register's handler factory, for the composition root."""
    return {ProposalKind.REGISTER_CHANGE: lambda: RegisterChangeHandler(register)}
