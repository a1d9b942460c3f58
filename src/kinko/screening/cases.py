"""Review cases for name hits: a name that screens as a HIT waits for a person's decision.

`open_case` stores the hit in the screening's own transaction (who asked, when, the name,
date of birth and nationality as given, every hit with its list entry and score, the list
versions and the threshold), audited as ``screening.case_opened``. A case is one per
subject and set of list versions (`case_key`): screening the same subject again against
the same versions returns the same case (open or decided) and opens nothing; a new list
version is a new question and opens a new case.

`CaseBook.decide` records a reviewer's decision — ``true_match`` or ``false_positive``,
always with a reason — once: the case is final afterwards. Nobody who asked for the
screening may decide it (the reviewer is a second person), and the decision is audited as
``screening.case_decided``. Deciding needs ``screening:write`` (the API and console check
it); no further four eyes: the requester and the reviewer are already two people, and a
true match is the cautious answer (it keeps the person blocked).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from kinko.core.errors import Conflict, InputError, NotFound, PermissionDenied
from kinko.core.ids import new_id
from kinko.screening.model import NameVerdict
from kinko.screening.names import name_tokens
from kinko.store.dialect import insert_for
from kinko.store.tables.screening import ScreeningCaseRow

if TYPE_CHECKING:
    from kinko.context import Context

MAX_REASON = 4000
MAX_NAME = 500
MAX_NATIONALITY = 100
_DOB = re.compile(r"^\d{4}(-\d{2}-\d{2})?$")
PAGE = 200


class CaseState(StrEnum):
    OPEN = "open"
    DECIDED = "decided"


class Decision(StrEnum):
    TRUE_MATCH = "true_match"
    FALSE_POSITIVE = "false_positive"


class OwnCase(PermissionDenied):
    code = "screening_own_case"


class CaseDecided(Conflict):
    code = "screening_case_decided"


class CaseNotFound(NotFound):
    code = "screening_case_not_found"


OWN_CASE = (
    "you asked for this screening, so a second person decides it: a name hit is judged by "
    "someone other than whoever asked"
)


@dataclass(frozen=True, slots=True)
class Asker:
    """Who asks for a screening: the audit actor (``user:…``, ``token:…``, ``local:…``)
    and the person behind it, if any (a token's owner is that person)."""

    actor: str
    user_id: str | None = None

    @classmethod
    def from_actor(cls, actor: str) -> Asker:
        """An actor string alone: ``user:ID`` names a person, anything else does not."""
        user = actor.removeprefix("user:") if actor.startswith("user:") else None
        return cls(actor, user)


@dataclass(frozen=True, slots=True)
class Case:
    id: str
    state: CaseState
    name: str
    dob: str | None
    nationality: str | None
    requested_by: str
    requested_at: datetime
    askers: tuple[str, ...]
    hits: tuple[dict[str, Any], ...]
    list_versions: tuple[str, ...]
    threshold: float
    decision: Decision | None
    reason: str | None
    decided_by: str | None
    decided_at: datetime | None

    def refusal(self, user_id: str) -> str | None:
        """Why person `user_id` may not decide this case now, in words (None: they may;
        the permission is the caller's to check)."""
        if self.state is CaseState.DECIDED:
            return "it is decided already; a decision is final."
        if user_id in self.askers:
            return OWN_CASE + "."
        return None

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "state": self.state.value,
            "name": self.name,
            "dob": self.dob,
            "nationality": self.nationality,
            "requested_by": self.requested_by,
            "requested_at": self.requested_at.isoformat(),
            "hits": list(self.hits),
            "list_versions": list(self.list_versions),
            "threshold": self.threshold,
            "decision": self.decision.value if self.decision else None,
            "reason": self.reason,
            "decided_by": self.decided_by,
            "decided_at": self.decided_at.isoformat() if self.decided_at else None,
        }


def check_subject(name: str, dob: str | None, nationality: str | None) -> None:
    """What screening a name needs of its input (InputError naming the field)."""
    if not name.strip():
        raise InputError("name", "is empty; give the person's or organisation's name")
    if len(name) > MAX_NAME:
        raise InputError("name", f"is longer than {MAX_NAME} characters")
    if dob is not None and not _DOB.match(dob):
        raise InputError("dob", f"{dob!r} is not YYYY or YYYY-MM-DD, e.g. 1984-08-15")
    if len(nationality or "") > MAX_NATIONALITY:
        raise InputError("nationality", f"is longer than {MAX_NATIONALITY} characters")


def case_key(verdict: NameVerdict, dob: str | None, nationality: str | None) -> str:
    """The subject (name tokens normalised and sorted, date of birth, nationality) and the
    list versions it was screened against."""
    tokens = sorted(name_tokens(verdict.name)) or [verdict.name.strip().casefold()]
    parts = (
        " ".join(tokens),
        dob or "",
        (nationality or "").strip().casefold(),
        ",".join(sorted(verdict.list_versions)),
    )
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()


def open_case(
    ctx: Context,
    session: Session,
    verdict: NameVerdict,
    *,
    dob: str | None,
    nationality: str | None,
    asker: Asker,
) -> Case:
    """The review case for a HIT `verdict`: a new one (audited), or the subject's case for
    these list versions if there is one (a new asker is added to those who may not
    decide it)."""
    key = case_key(verdict, dob, nationality)
    now = ctx.clock.now()
    case_id = new_id("sc")
    askers = [asker.user_id] if asker.user_id else []
    statement = (
        insert_for(session, ScreeningCaseRow.__table__)
        .values(
            id=case_id,
            case_key=key,
            state=CaseState.OPEN.value,
            name=verdict.name,
            dob=dob,
            nationality=nationality,
            requested_by=asker.actor,
            requested_at=now,
            askers=askers,
            hits=[h.to_dict() for h in verdict.hits],
            list_versions=list(verdict.list_versions),
            threshold=verdict.threshold,
        )
        .on_conflict_do_nothing(index_elements=["case_key"])
        .returning(ScreeningCaseRow.__table__.c.id)
    )
    # RETURNING, not rowcount: the PostgreSQL driver leaves rowcount unset (-1) here.
    inserted = session.execute(statement).scalar_one_or_none() is not None
    row = session.execute(
        select(ScreeningCaseRow).where(ScreeningCaseRow.case_key == key)
    ).scalar_one()
    if inserted:
        ctx.audit.append(
            session,
            actor=asker.actor,
            action="screening.case_opened",
            subject=f"screening_case:{row.id}",
            details={
                "name": verdict.name,
                "dob": dob,
                "nationality": nationality,
                "hits": [h.to_dict() for h in verdict.hits],
                "list_versions": list(verdict.list_versions),
                "threshold": verdict.threshold,
            },
        )
    elif asker.user_id and asker.user_id not in row.askers:
        row.askers = [*row.askers, asker.user_id]
        session.flush()
        # Who may not decide the case changed: on the record, as its opening is.
        ctx.audit.append(
            session,
            actor=asker.actor,
            action="screening.case_asked",
            subject=f"screening_case:{row.id}",
            details={"asker": asker.user_id, "askers": list(row.askers)},
        )
    return to_case(row)


def to_case(row: ScreeningCaseRow) -> Case:
    return Case(
        id=row.id,
        state=CaseState(row.state),
        name=row.name,
        dob=row.dob,
        nationality=row.nationality,
        requested_by=row.requested_by,
        requested_at=row.requested_at,
        askers=tuple(row.askers),
        hits=tuple(row.hits),
        list_versions=tuple(row.list_versions),
        threshold=row.threshold,
        decision=Decision(row.decision) if row.decision else None,
        reason=row.reason,
        decided_by=row.decided_by,
        decided_at=row.decided_at,
    )


def parse_state(text: str | None) -> CaseState | None:
    """A list filter: ``open``, ``decided``, or nothing (every case)."""
    if not text:
        return None
    try:
        return CaseState(text)
    except ValueError:
        raise InputError("state", f"{text!r} is not open or decided (or leave it out)") from None


def parse_decision(text: str) -> Decision:
    try:
        return Decision(text)
    except ValueError:
        raise InputError("decision", f"{text!r} is not true_match or false_positive") from None


class CaseBook:
    """Read and decide review cases (open_case is how they are made)."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    def list(self, session: Session, *, state: CaseState | None = None) -> list[Case]:
        """At most `PAGE`: open cases oldest first (a queue: whoever screens many names
        cannot push a waiting case out of sight), others newest first."""
        if state is CaseState.OPEN:
            order = (ScreeningCaseRow.requested_at.asc(), ScreeningCaseRow.id)
        else:
            order = (ScreeningCaseRow.requested_at.desc(), ScreeningCaseRow.id)
        query = select(ScreeningCaseRow).order_by(*order)
        if state is not None:
            query = query.where(ScreeningCaseRow.state == state.value)
        return [to_case(row) for row in session.execute(query.limit(PAGE)).scalars()]

    def open_count(self, session: Session) -> int:
        """How many cases wait for a decision (the dashboard's count)."""
        query = select(func.count()).where(ScreeningCaseRow.state == CaseState.OPEN.value)
        return int(session.execute(query).scalar_one())

    def get(self, session: Session, case_id: str) -> Case:
        row = session.get(ScreeningCaseRow, case_id)
        if row is None:
            raise CaseNotFound(f"no screening case {case_id!r}; see 'kinko screening cases'")
        return to_case(row)

    def decide(
        self,
        session: Session,
        case_id: str,
        *,
        decision: Decision,
        reason: str,
        actor: str,
        user_id: str,
    ) -> Case:
        """Decide an open case once, with a reason; not by anyone who asked for it."""
        reason = reason.strip()
        if not reason:
            raise InputError("reason", "is required: say why it is (or is not) the listed person")
        if len(reason) > MAX_REASON:
            raise InputError("reason", f"is longer than {MAX_REASON} characters")
        case = self.get(session, case_id)
        if case.state is CaseState.DECIDED:
            raise CaseDecided(
                f"screening case {case_id} was decided already ({case.decision}) by "
                f"{case.decided_by}; a decision is final"
            )
        if user_id in case.askers:
            raise OwnCase(OWN_CASE)
        now = self.ctx.clock.now()
        done = session.execute(
            update(ScreeningCaseRow)
            .where(ScreeningCaseRow.id == case_id, ScreeningCaseRow.state == CaseState.OPEN.value)
            .values(
                state=CaseState.DECIDED.value,
                decision=decision.value,
                reason=reason,
                decided_by=actor,
                decided_at=now,
            )
            .returning(ScreeningCaseRow.id)
            .execution_options(synchronize_session=False)
        )
        if done.scalar_one_or_none() is None:  # another reviewer decided it in the meantime
            raise CaseDecided(f"screening case {case_id} was decided already; a decision is final")
        self.ctx.audit.append(
            session,
            actor=actor,
            action="screening.case_decided",
            subject=f"screening_case:{case_id}",
            details={
                "decision": decision.value,
                "reason": reason,
                "name": case.name,
                "requested_by": case.requested_by,
                "list_versions": list(case.list_versions),
            },
        )
        row = session.get(ScreeningCaseRow, case_id, populate_existing=True)
        assert row is not None
        return to_case(row)
