"""The four-eyes rules, tested once for every two-person step (kinko.identity.four_eyes).

For all generated steps and people: an approval is accepted if and only if the step is
pending and not expired, the person has not counted already, is not the proposer, is not
the person the step is about, is active and holds an eligible role, and the proposer is
still active and eligible; one person never counts twice.
"""

from __future__ import annotations

import dataclasses
import re
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kinko.core.errors import ApprovalError, Conflict, PermissionDenied
from kinko.identity.four_eyes import (
    ABOUT_THE_STEP,
    FourEyesConflict,
    FourEyesRefused,
    Person,
    Rule,
    Step,
    approvals,
    check_first,
    check_second,
    refusal,
)

NOW = datetime(2026, 1, 1, tzinfo=UTC)  # a value handed to pure code: no clock involved
ROLES = ("security_admin", "approver", "senior_approver", "operator")
# Few ids, spelled both ways, so that proposers, subjects and approvers collide often.
IDS = st.sampled_from(["usr_a", "usr_b", "usr_c", "user:usr_a", "user:usr_b", "usr_d"])
role_sets = st.frozensets(st.sampled_from(ROLES), max_size=3)
people = st.builds(Person, ref=IDS, roles=role_sets, active=st.booleans())
offsets = st.integers(min_value=-3600, max_value=3600).map(lambda s: timedelta(seconds=s))
steps = st.builds(
    Step,
    what=st.just("this step"),
    proposer=IDS,
    eligible=st.one_of(st.none(), st.frozensets(st.sampled_from(ROLES), max_size=2)),
    proposers=st.one_of(st.none(), st.frozensets(st.sampled_from(ROLES), max_size=2)),
    created_at=st.just(NOW - timedelta(hours=2)),
    expires_at=st.one_of(st.none(), offsets.map(lambda d: NOW + d)),
    subjects=st.frozensets(IDS, max_size=2),
    state=st.sampled_from(["pending", "pending", "approved", "refused"]),
    conflicts=st.sampled_from([ABOUT_THE_STEP, ABOUT_THE_STEP | {Rule.DISTINCT}]),
)


def key(ref: str) -> str:
    return ref if ref.startswith("user:") else f"user:{ref}"


def eligible(step: Step, person: Person) -> bool:
    return step.eligible is None or bool(person.roles & step.eligible)


def may_propose(step: Step, person: Person) -> bool:
    """The proposer's roles: `proposers` when the step names them, else `eligible`."""
    roles = step.eligible if step.proposers is None else step.proposers
    return roles is None or bool(person.roles & roles)


def expected_ok(step: Step, person: Person, counted: list[str], proposer: Person | None) -> bool:
    return (
        step.state == "pending"
        and (step.expires_at is None or step.expires_at > NOW)
        and key(person.ref) not in {key(c) for c in counted}
        and key(person.ref) != key(step.proposer)
        and key(person.ref) not in {key(s) for s in step.subjects}
        and person.active
        and eligible(step, person)
        and (proposer is None or (proposer.active and may_propose(step, proposer)))
    )


@given(steps, people, st.lists(IDS, max_size=3), st.one_of(st.none(), people))
def test_an_approval_is_accepted_iff_every_rule_holds(
    step: Step, person: Person, counted: list[str], proposer: Person | None
) -> None:
    error = refusal(step, person, now=NOW, counted=counted, proposer_now=proposer)
    assert (error is None) == expected_ok(step, person, counted, proposer)
    if error is None:
        check_second(step, person, now=NOW, counted=counted, proposer_now=proposer)
        return
    assert isinstance(error, FourEyesRefused | FourEyesConflict)
    # A step that cannot be decided is a conflict (409); a person refused is a 403 that
    # is both a PermissionDenied and an ApprovalError (each caller catches its own); a
    # step may answer some person rules as conflicts, as its API always did.
    if error.rule in step.conflicts:
        assert isinstance(error, Conflict)
    else:
        assert isinstance(error, PermissionDenied) and isinstance(error, ApprovalError)
    with pytest.raises(type(error)):
        check_second(step, person, now=NOW, counted=counted, proposer_now=proposer)


@given(steps, st.lists(people, max_size=6))
def test_one_person_never_counts_twice(step: Step, voters: list[Person]) -> None:
    counted = approvals(step, voters, now=NOW)
    assert len(counted) == len(set(counted))
    assert key(step.proposer) not in counted
    assert not set(counted) & {key(s) for s in step.subjects}
    expected: list[str] = []
    for person in voters:
        if expected_ok(step, person, expected, None):
            expected.append(key(person.ref))
    assert list(counted) == expected


STEP = Step(
    what="this unfreeze",
    proposer="usr_ann",
    proposer_name="ann",
    eligible=frozenset({"security_admin"}),
    created_at=NOW - timedelta(hours=1),
    expires_at=NOW + timedelta(hours=1),
    subjects=frozenset({"usr_dan"}),
)
ADMIN = frozenset({"security_admin"})


@pytest.mark.parametrize(
    ("person", "step", "rule", "code", "says"),
    [
        (
            Person("user:usr_ann", ADMIN, name="ann"),
            STEP,
            Rule.NOT_PROPOSER,
            "self_approval",
            "the proposer cannot approve their own proposal",
        ),
        (
            Person("usr_dan", ADMIN, name="dan"),
            STEP,
            Rule.NOT_SUBJECT,
            "self_approval",
            "the person this is about cannot approve it",
        ),
        (
            Person("usr_ops", frozenset({"operator"}), name="ops"),
            STEP,
            Rule.ELIGIBLE,
            "approver_ineligible",
            "needs a security_admin other than ann",
        ),
        (
            Person("usr_bob", ADMIN, active=False, name="bob"),
            STEP,
            Rule.ACTIVE,
            "approver_inactive",
            "bob is not an active person",
        ),
        (
            Person("usr_bob", ADMIN, name="bob"),
            Step("this unfreeze", "usr_ann", ADMIN, NOW - timedelta(hours=2), NOW),
            Rule.IN_TIME,
            "proposal_expired",
            re.escape(f"expired at {NOW.isoformat()}"),
        ),
        (
            Person("usr_bob", ADMIN, name="bob"),
            Step("this unfreeze", "usr_ann", ADMIN, NOW, state="approved"),
            Rule.PENDING,
            "conflict",
            "this unfreeze is already approved",
        ),
    ],
)
def test_each_refusal_names_its_rule(
    person: Person, step: Step, rule: Rule, code: str, says: str
) -> None:
    error = refusal(step, person, now=NOW)
    assert error is not None and (error.rule, error.code) == (rule, code)
    with pytest.raises(type(error), match=says):
        check_second(step, person, now=NOW)


def test_a_step_keeps_the_codes_its_clients_know() -> None:
    step = Step(
        "this withdrawal",
        "usr_ann",
        frozenset({"approver"}),
        NOW,
        proposed="requested",
        codes={Rule.NOT_PROPOSER: "requester_approved", Rule.DISTINCT: "duplicate_approver"},
    )
    with pytest.raises(ApprovalError, match="ann requested this withdrawal") as own:
        check_second(step, Person("usr_ann", frozenset({"approver"}), name="ann"), now=NOW)
    assert own.value.code == "requester_approved"
    bob = Person("usr_bob", frozenset({"approver"}))
    with pytest.raises(ApprovalError, match="already voted") as twice:
        check_second(step, bob, now=NOW, counted=["user:usr_bob"])
    assert twice.value.code == "duplicate_approver"


def test_the_proposer_must_still_be_eligible() -> None:
    gone = Person("usr_ann", frozenset(), name="ann")
    with pytest.raises(Conflict, match="ann, who proposed this, is no longer") as refused:
        check_second(STEP, Person("usr_bob", ADMIN), now=NOW, proposer_now=gone)
    assert refused.value.code == "proposer_ineligible"


def test_a_proposer_is_held_to_the_proposing_roles_not_the_approving_ones() -> None:
    """An address-book entry: a requester proposes, a senior approver approves."""
    step = dataclasses.replace(
        STEP, eligible=frozenset({"senior_approver"}), proposers=frozenset({"requester"})
    )
    senior = Person("usr_bob", frozenset({"senior_approver"}))
    still = Person("usr_ann", frozenset({"requester"}), name="ann")
    check_second(step, senior, now=NOW, proposer_now=still)
    gone = Person("usr_ann", frozenset({"approver"}), name="ann")
    with pytest.raises(Conflict, match="no longer an active requester") as refused:
        check_second(step, senior, now=NOW, proposer_now=gone)
    assert refused.value.code == "proposer_ineligible"


def test_the_first_person_needs_the_role_too() -> None:
    check_first(Person("usr_ann", ADMIN), ADMIN, "propose an unfreeze")
    with pytest.raises(PermissionDenied, match="ops cannot propose an unfreeze: the security"):
        check_first(
            Person("usr_ops", frozenset({"operator"}), name="ops"), ADMIN, "propose an unfreeze"
        )
    with pytest.raises(PermissionDenied, match="not an active person"):
        check_first(Person("usr_ann", ADMIN, active=False), ADMIN, "propose an unfreeze")
