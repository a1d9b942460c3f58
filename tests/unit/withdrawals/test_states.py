"""The withdrawal state machine: only listed edges move, re-entering a state is a no-op."""

from __future__ import annotations

import itertools

import pytest

from kinko.core.errors import Conflict
from kinko.withdrawals.states import TERMINAL, TRANSITIONS, State, check_transition, parse_state

HAPPY_PATH = [
    State.REQUESTED,
    State.SCREENED,
    State.PENDING_APPROVAL,
    State.APPROVED,
    State.SIGNED,
    State.BROADCAST,
    State.CONFIRMED,
]


def test_happy_path_is_a_chain_of_allowed_moves() -> None:
    for current, target in itertools.pairwise(HAPPY_PATH):
        assert check_transition(current, target) is True


def test_same_state_is_idempotent_not_an_error() -> None:
    for state in State:
        assert check_transition(state, state) is False


@pytest.mark.parametrize("final", sorted(TERMINAL))
def test_terminal_states_go_nowhere(final: State) -> None:
    for target in State:
        if target != final:
            with pytest.raises(Conflict, match="cannot become"):
                check_transition(final, target)


def test_terminal_set_is_exactly_the_five_final_states() -> None:
    assert {
        State.CONFIRMED,
        State.DENIED,
        State.EXPIRED,
        State.CANCELLED,
        State.FAILED,
    } == TERMINAL


def test_signed_transaction_can_never_return_to_approval() -> None:
    # Once signed, nothing may send it back for re-signing (that is how one signs twice).
    assert TRANSITIONS[State.SIGNED] == {State.BROADCAST, State.FAILED}
    with pytest.raises(Conflict, match="allowed next states: broadcast, failed"):
        check_transition(State.SIGNED, State.APPROVED)


def test_skipping_approval_is_refused() -> None:
    with pytest.raises(Conflict):
        check_transition(State.REQUESTED, State.APPROVED)
    with pytest.raises(Conflict):
        check_transition(State.PENDING_APPROVAL, State.SIGNED)


def test_every_state_has_a_row() -> None:
    assert set(TRANSITIONS) == set(State)


def test_parse_state_names_known_states() -> None:
    assert parse_state("held") is State.HELD
    with pytest.raises(Conflict, match="known: requested"):
        parse_state("frozenish")
