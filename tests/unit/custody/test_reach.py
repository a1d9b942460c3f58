"""A legal entity's reach of a wallet's quorum (pure): own shares, live delegations
(chained), nothing past a delegation's end; no accepted sequence lets one entity reach m."""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kinko.core.errors import Conflict
from kinko.custody.reach import CODE, Delegation, check_reach, reach
from tests.support.clock import RUN_STARTED

NOW = RUN_STARTED
DAY = timedelta(days=1)


def _live(a: str, b: str, *, ends: timedelta = 30 * DAY) -> Delegation:
    return Delegation(a, b, NOW - DAY, NOW + ends)


def test_an_entity_reaches_its_own_shares_and_those_delegated_to_it() -> None:
    entities = ["Sky Mavis"] * 4 + ["Axie DAO"] + [f"V{i}" for i in range(4)]
    (top, *_) = reach(entities, [_live("Axie DAO", "Sky Mavis")], NOW)
    assert (top.entity, top.count, top.own, dict(top.through)) == (
        "Sky Mavis",
        5,
        4,
        {"Axie DAO": 1},
    )


def test_the_refusal_names_the_entity_the_count_the_quorum_and_what_to_do() -> None:
    entities = ["Sky Mavis"] * 4 + ["Axie DAO"]
    with pytest.raises(Conflict) as err:
        check_reach("ronin", 5, entities, [_live("Axie DAO", "Sky Mavis")], NOW)
    assert err.value.code == CODE
    message = err.value.message
    assert "'Sky Mavis' would reach 5" in message and "quorum is 5" in message
    assert "1 delegated by Axie DAO" in message and "revoke the delegation" in message


def test_a_delegation_counts_only_while_live() -> None:
    entities = ["A", "A", "B"]
    ended = Delegation("B", "A", NOW - 30 * DAY, NOW - DAY)
    revoked = Delegation("B", "A", NOW - DAY, NOW + DAY, revoked=True)
    later = Delegation("B", "A", NOW + DAY, NOW + 2 * DAY)
    for absent in (ended, revoked, later):
        check_reach("w", 3, entities, [absent], NOW)  # A reaches 2 of 3
    assert ended.expired(NOW) and not revoked.expired(NOW)
    with pytest.raises(Conflict):
        check_reach("w", 3, entities, [_live("B", "A")], NOW)
    # the same delegation, once past its end, counts for nothing
    check_reach("w", 3, entities, [_live("B", "A", ends=DAY)], NOW + 2 * DAY)


def test_delegations_chain() -> None:
    entities = ["A", "B", "C"]
    with pytest.raises(Conflict, match="'C' would reach 3"):
        check_reach("w", 3, entities, [_live("A", "B"), _live("B", "C")], NOW)
    check_reach("w", 3, entities, [_live("A", "B"), _live("C", "D")], NOW)  # B: 2, D: 1


def test_a_single_key_wallet_is_not_checked() -> None:
    check_reach("hot", 1, ["Kinko KK"], [], NOW)


_ENTITIES = st.sampled_from(["A", "B", "C", "D"])
_STEP = st.one_of(
    st.tuples(st.just("share"), _ENTITIES),
    st.tuples(st.just("delegate"), _ENTITIES, _ENTITIES, st.integers(1, 5)),
    st.tuples(st.just("revoke"), st.integers(0, 20)),
    st.tuples(st.just("wait"), st.integers(1, 3)),
)


@settings(max_examples=300, deadline=None)
@given(m=st.integers(2, 5), steps=st.lists(_STEP, max_size=25))
def test_no_entity_ever_reaches_the_quorum_after_any_accepted_sequence(
    m: int, steps: list[tuple[object, ...]]
) -> None:
    now = NOW
    entities: list[str] = []
    found: list[Delegation] = []
    for step in steps:
        if step[0] == "wait":
            now += int(str(step[1])) * DAY  # delegations end; reach only shrinks
        elif step[0] == "revoke":
            if found:
                i = int(str(step[1])) % len(found)
                d = found[i]
                found[i] = Delegation(d.from_entity, d.to_entity, d.starts_at, d.ends_at, True)
        else:
            new_entities, new_found = list(entities), list(found)
            if step[0] == "share":
                new_entities.append(str(step[1]))
            else:
                _, a, b, days = step
                new_found.append(Delegation(str(a), str(b), now, now + int(str(days)) * DAY))
            try:
                check_reach("w", m, new_entities, new_found, now)
            except Conflict:
                continue  # refused: nothing changes
            entities, found = new_entities, new_found
        assert all(r.count < m for r in reach(entities, found, now))
