"""The withdrawal state machine as an explicit transition table.

requested -> screened -> pending_approval -> approved -> signed -> broadcast -> confirmed,
or denied, held, expired, cancelled, failed. Nothing moves except along an edge listed in
`TRANSITIONS`; moving to the state a withdrawal is already in is a no-op (idempotent).
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from types import MappingProxyType

from kinko.core.errors import Conflict


class State(StrEnum):
    REQUESTED = "requested"
    SCREENED = "screened"
    PENDING_APPROVAL = "pending_approval"
    APPROVED = "approved"
    SIGNED = "signed"
    BROADCAST = "broadcast"
    CONFIRMED = "confirmed"
    DENIED = "denied"
    HELD = "held"
    EXPIRED = "expired"
    CANCELLED = "cancelled"
    FAILED = "failed"


S = State

TRANSITIONS: Mapping[State, frozenset[State]] = MappingProxyType(
    {
        S.REQUESTED: frozenset({S.SCREENED, S.DENIED, S.HELD, S.CANCELLED, S.FAILED}),
        # Policy may auto-approve a small hot-wallet withdrawal: screened -> approved.
        S.SCREENED: frozenset({S.PENDING_APPROVAL, S.APPROVED, S.DENIED, S.HELD, S.CANCELLED}),
        S.PENDING_APPROVAL: frozenset({S.APPROVED, S.DENIED, S.HELD, S.EXPIRED, S.CANCELLED}),
        # A released hold starts again from the top: screening and policy run afresh.
        S.HELD: frozenset({S.REQUESTED, S.DENIED, S.CANCELLED, S.EXPIRED}),
        # The signer may refuse (failed) or a freeze may hold an approved withdrawal.
        S.APPROVED: frozenset({S.SIGNED, S.HELD, S.EXPIRED, S.FAILED, S.CANCELLED}),
        # Once signed the transaction exists; only broadcasting or failing remains.
        S.SIGNED: frozenset({S.BROADCAST, S.FAILED}),
        S.BROADCAST: frozenset({S.CONFIRMED, S.FAILED}),
        S.CONFIRMED: frozenset(),
        S.DENIED: frozenset(),
        S.EXPIRED: frozenset(),
        S.CANCELLED: frozenset(),
        S.FAILED: frozenset(),
    }
)

TERMINAL: frozenset[State] = frozenset(s for s, nxt in TRANSITIONS.items() if not nxt)


def parse_state(text: str) -> State:
    try:
        return State(text)
    except ValueError:
        names = ", ".join(s.value for s in State)
        raise Conflict(f"unknown withdrawal state {text!r}; known: {names}") from None


def check_transition(current: State, target: State) -> bool:
    """Return True if `current -> target` is a move, False if already there; else raise."""
    if current == target:
        return False
    if target not in TRANSITIONS[current]:
        allowed = ", ".join(sorted(s.value for s in TRANSITIONS[current])) or "none (final)"
        raise Conflict(
            f"a withdrawal that is {current.value} cannot become {target.value}; "
            f"allowed next states: {allowed}",
            code="invalid_transition",
        )
    return True
