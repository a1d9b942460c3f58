"""Re-screening pending withdrawals when a new list version is loaded.

`pending_destinations` is one of the screening service's re-screen providers (the
composition root, kinko.services, gives it): it names the destination of every withdrawal
that is not yet signed. The screening service records an alert for each new hit and
publishes `screening.hit` (target kind ``withdrawal``) after its transaction commits;
`arm_rescreen_holds` (called by the root) subscribes to those and holds the withdrawal
(audited, `withdrawal.held` event, velocity released). Once held, releasing it runs
screening again, which then denies it.
"""

from __future__ import annotations

import threading
import weakref
from typing import Protocol

import structlog
from sqlalchemy import select
from sqlalchemy.orm import Session

from kinko.context import Context
from kinko.core.errors import KinkoError
from kinko.core.events import EventBus, SecurityEvent
from kinko.screening.rescreen import RescreenTarget
from kinko.store.tables.withdrawals import WithdrawalRow
from kinko.withdrawals.states import State

TARGET_KIND = "withdrawal"
ACTOR = "system:screening"
UNSIGNED_STATES = tuple(
    s.value for s in (State.REQUESTED, State.SCREENED, State.PENDING_APPROVAL, State.APPROVED)
)
log = structlog.get_logger("kinko.withdrawals")
_lock = threading.Lock()
_armed: weakref.WeakSet[EventBus] = weakref.WeakSet()


def pending_destinations(session: Session) -> list[RescreenTarget]:
    """Destinations of withdrawals that could still be signed (read only)."""
    rows = session.execute(
        select(WithdrawalRow.id, WithdrawalRow.chain, WithdrawalRow.destination).where(
            WithdrawalRow.state.in_(UNSIGNED_STATES)
        )
    ).all()
    return [
        RescreenTarget.for_address(TARGET_KIND, wd_id, chain=chain, address=destination)
        for wd_id, chain, destination in rows
    ]


class Holds(Protocol):
    def hold(self, withdrawal_id: str, *, reason: str, actor: str) -> object: ...


def arm_rescreen_holds(ctx: Context, withdrawals: Holds) -> None:
    """Once per event bus, hold withdrawals whose destination a re-screen found."""
    with _lock:
        if ctx.bus in _armed:
            return
        _armed.add(ctx.bus)

    def on_event(event: SecurityEvent) -> None:
        if event.type != "screening.hit" or event.fields.get("target_kind") != TARGET_KIND:
            return
        withdrawal_id = str(event.fields.get("target_ref"))
        reason = (
            f"destination found on list {event.fields.get('list')} "
            f"({event.fields.get('entity')}) when re-screened; screening alert "
            f"{event.fields.get('alert')}"
        )
        try:
            withdrawals.hold(withdrawal_id, reason=reason, actor=ACTOR)
        except KinkoError as exc:  # signed meanwhile, or gone: the alert stands
            log.warning(
                "re-screen hit not held", withdrawal=withdrawal_id, code=exc.code, error=exc.message
            )

    ctx.bus.subscribe(on_event)
