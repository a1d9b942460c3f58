"""Four eyes, written once: may this person be the second pair of eyes on this step?

Every two-person step in Kinko (a role, state, factor or token proposal; a screening list
replaced; a policy activated; a freeze lifted; an address-book entry approved; a monitor
response released; a withdrawal approved) asks this module, from values only, whether a
person may approve it. The rules, in the order they are checked:

1. ``pending``: only a step still pending is decided;
2. ``in_time``: not once it has expired (``now >= expires_at``);
3. ``distinct``: one person counts once (a second vote by the same person is refused);
4. ``not_proposer``: whoever proposed (requested) the step never approves it;
5. ``not_subject``: nobody approves a step about themselves (their grant, state, token);
6. ``active``: the approver is an active person;
7. ``eligible``: the approver holds one of the step's eligible roles;
8. ``proposer_eligible``: the proposer, when the caller names them as they are now,
   is still active and holds a role that may propose it (`Step.proposers`, else the
   approver's roles; if not, the step is refused and proposed again).

Rules 1, 2 and 8 are about the step (`FourEyesConflict`, HTTP 409); the others about the
person (`FourEyesRefused`, a `PermissionDenied` and an `ApprovalError`, HTTP 403). Each
error carries the rule it broke and a stable code (`DEFAULT_CODES`). A step may keep the
codes and statuses its API has always answered (`Step.codes`, `Step.conflicts`: a
withdrawal's ``requester_approved``, a response release's 409 ``already_voted``).

Services build the values (`kinko.identity.people.person_now` reads a person's roles and
state); this module reads nothing. The properties are tested in
``tests/unit/identity/test_four_eyes.py``.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

from kinko.core.errors import ApprovalError, Conflict, PermissionDenied

PROPOSAL_LIFETIME = timedelta(days=7)
"""How long a stored proposal waits for its second person (identity, unfreeze and
address-book proposals); then it expires (rule ``in_time``) and is proposed again."""


class Rule(StrEnum):
    PENDING = "pending"
    IN_TIME = "in_time"
    DISTINCT = "distinct"
    NOT_PROPOSER = "not_proposer"
    NOT_SUBJECT = "not_subject"
    ACTIVE = "active"
    ELIGIBLE = "eligible"
    PROPOSER_ELIGIBLE = "proposer_eligible"


DEFAULT_CODES: Mapping[Rule, str] = {
    Rule.PENDING: "conflict",
    Rule.IN_TIME: "proposal_expired",
    Rule.DISTINCT: "already_voted",
    Rule.NOT_PROPOSER: "self_approval",
    Rule.NOT_SUBJECT: "self_approval",
    Rule.ACTIVE: "approver_inactive",
    Rule.ELIGIBLE: "approver_ineligible",
    Rule.PROPOSER_ELIGIBLE: "proposer_ineligible",
}
ABOUT_THE_STEP = frozenset({Rule.PENDING, Rule.IN_TIME, Rule.PROPOSER_ELIGIBLE})


class FourEyesRefused(PermissionDenied, ApprovalError):
    """This person may not be the second pair of eyes on this step (403)."""

    def __init__(self, rule: Rule, message: str, *, code: str) -> None:
        super().__init__(message, code=code)
        self.rule = rule


class FourEyesConflict(Conflict):
    """The step cannot be approved now: decided, expired, or its proposer lost the role."""

    def __init__(self, rule: Rule, message: str, *, code: str) -> None:
        super().__init__(message, code=code)
        self.rule = rule


def actor(ref: str) -> str:
    """One spelling per person: ``user:<id>`` for a bare id; an actor string unchanged."""
    return ref if ":" in ref else f"user:{ref}"


@dataclass(frozen=True, slots=True)
class Person:
    """Someone as they are now: who, the role names they hold, whether they are active."""

    ref: str
    roles: frozenset[str] = frozenset()
    active: bool = True
    name: str = ""
    """How messages call them (their username); `ref` if empty."""

    @property
    def key(self) -> str:
        return actor(self.ref)

    @property
    def called(self) -> str:
        return self.name or self.ref


@dataclass(frozen=True, slots=True)
class Step:
    """A two-person step as the rules need it."""

    what: str
    """How messages name it: "this unfreeze", "proposal prp_1 (grant_role)"."""
    proposer: str
    eligible: frozenset[str] | None
    """Roles any of which makes a second person eligible. None only where the caller's
    permission check is the eligibility rule."""
    created_at: datetime
    expires_at: datetime | None = None
    subjects: frozenset[str] = frozenset()
    """The people the step is about (a grant's grantee): they approve nothing of it."""
    state: str = "pending"
    proposed: str = "proposed"
    """What the proposer did, for messages: "requested" for a withdrawal."""
    proposer_name: str = ""
    proposers: frozenset[str] | None = None
    """Roles the proposer must still hold one of (rule ``proposer_eligible``); None: the
    same as `eligible` (an address-book entry's proposer is a requester, its approver a
    senior approver)."""
    codes: Mapping[Rule, str] = field(default_factory=dict)
    """Codes this step's API answers instead of `DEFAULT_CODES` (kept for its clients)."""
    conflicts: frozenset[Rule] = ABOUT_THE_STEP
    """The rules this step answers as a conflict (409) rather than a refusal (403)."""

    def code(self, rule: Rule) -> str:
        return self.codes.get(rule, DEFAULT_CODES[rule])


def _roles(eligible: Collection[str]) -> str:
    return " or ".join(sorted(eligible))


def _a(noun: str) -> str:
    return f"an {noun}" if noun[:1] in "aeiou" else f"a {noun}"


def _refusal(step: Step, rule: Rule, message: str) -> FourEyesRefused | FourEyesConflict:
    kind = FourEyesConflict if rule in step.conflicts else FourEyesRefused
    return kind(rule, message, code=step.code(rule))


def refusal(
    step: Step,
    person: Person,
    *,
    now: datetime,
    counted: Iterable[str] = (),
    proposer_now: Person | None = None,
) -> FourEyesRefused | FourEyesConflict | None:
    """Why `person` may not approve `step` now (the first rule broken), or None.

    `counted`: the people whose approvals (votes) already count; `proposer_now`: the
    proposer as they are now, to check they are still active and eligible.
    """
    who, proposer = person.called, step.proposer_name or step.proposer
    if step.state != "pending":
        return _refusal(step, Rule.PENDING, f"{step.what} is already {step.state}")
    if step.expires_at is not None and now >= step.expires_at:
        return _refusal(
            step,
            Rule.IN_TIME,
            f"{step.what} expired at {step.expires_at.isoformat()} before a second person "
            "approved it; propose it again if it is still needed",
        )
    if person.key in {actor(p) for p in counted}:
        return _refusal(
            step,
            Rule.DISTINCT,
            f"{who} has already answered {step.what}; one person counts once (already "
            "voted), so approvals must come from distinct people (four eyes)",
        )
    needed = (
        "a second person must"
        if not step.eligible
        else f"it needs {_a(_roles(step.eligible))} other than {proposer}"
    )
    if person.key == actor(step.proposer):
        return _refusal(
            step,
            Rule.NOT_PROPOSER,
            f"{who} {step.proposed} {step.what} and cannot approve it (four eyes: the "
            f"proposer cannot approve their own proposal); {needed}",
        )
    if person.key in {actor(s) for s in step.subjects}:
        return _refusal(
            step,
            Rule.NOT_SUBJECT,
            f"{who} cannot approve {step.what}: the person this is about cannot approve it "
            f"(four eyes); {needed}",
        )
    if not person.active:
        return _refusal(
            step, Rule.ACTIVE, f"{who} is not an active person and cannot approve {step.what}"
        )
    if step.eligible is not None and not person.roles & step.eligible:
        if not step.eligible:
            why = "no role is eligible to approve it: refusing"
        else:
            why = f"{who} holds none of the roles eligible to approve it; {needed}"
        return _refusal(step, Rule.ELIGIBLE, f"{who} cannot approve {step.what}: {why}")
    proposing = step.eligible if step.proposers is None else step.proposers
    if proposer_now is not None and not (
        proposer_now.active and (proposing is None or proposer_now.roles & proposing)
    ):
        roles = "person" if not proposing else _roles(proposing)
        return _refusal(
            step,
            Rule.PROPOSER_ELIGIBLE,
            f"{proposer_now.called}, who {step.proposed} this, is no longer an active "
            f"{roles}; refuse it (and propose again if still needed)",
        )
    return None


def check_second(
    step: Step,
    person: Person,
    *,
    now: datetime,
    counted: Iterable[str] = (),
    proposer_now: Person | None = None,
) -> None:
    """Raise `FourEyesRefused` / `FourEyesConflict` naming the rule unless `person` may
    approve `step` now (see `refusal`)."""
    error = refusal(step, person, now=now, counted=counted, proposer_now=proposer_now)
    if error is not None:
        raise error


def check_first(person: Person, eligible: Collection[str], what: str) -> None:
    """The proposer (first vote) of a step whose approvers need `eligible` roles must be
    active and hold one of them too."""
    if not person.active:
        raise FourEyesRefused(
            Rule.ACTIVE,
            f"{person.called} is not an active person and cannot {what}",
            code=DEFAULT_CODES[Rule.ACTIVE],
        )
    if not person.roles & set(eligible):
        raise FourEyesRefused(
            Rule.ELIGIBLE,
            f"{person.called} cannot {what}: the {_roles(eligible)} role is required",
            code=DEFAULT_CODES[Rule.ELIGIBLE],
        )


def approvals(
    step: Step, people: Iterable[Person], *, now: datetime, proposer_now: Person | None = None
) -> tuple[str, ...]:
    """The people (`Person.key`, in order) whose approvals of `step` count: each accepted
    by the rules, each person once however often they appear."""
    counted: list[str] = []
    for person in people:
        if refusal(step, person, now=now, counted=counted, proposer_now=proposer_now) is None:
            counted.append(person.key)
    return tuple(counted)
