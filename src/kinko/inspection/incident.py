"""An incident notification draft from an alert and its responses (issue #16 point 6).

Pure: given what the monitor recorded (the alert with its evidence, the responses) and
`now`, it says what happened, when it was detected, which funds the evidence names
(integer base units, as the event carried them; "unknown" where it names none), what was
done, and for each regime how long it has been since detection against that regime's
reporting deadline.

No regime deadline is invented here. A regime's deadline is the organisation's setting
(`incident_report_deadlines`, or ``--deadline``), else the one a verified reference of the
catalogue's MON-02 states (its ``report_within_<regime>`` parameter: Korea's Network Act,
24 hours to MSIT/KISA for an intrusion incident); Japan has none sourced, so unset it says
so and quotes what the catalogue says (`Basis`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from kinko.core.deadlines import REGIMES, UNITS
from kinko.inspection.catalogue import Catalogue, Framework

UNKNOWN = "unknown"


@dataclass(frozen=True, slots=True)
class AlertFacts:
    id: str
    rule_id: str
    title: str
    level: str
    created_at: datetime
    """When the monitor detected it."""
    evidence: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class ResponseFacts:
    action: str
    target: str | None
    status: str
    created_at: datetime
    released_at: datetime | None = None
    detail: str = ""


@dataclass(frozen=True, slots=True)
class Basis:
    """What the catalogue says about a regime's reporting deadline: its citation and
    words, and whether the source was verified. `deadline` only when a verified source
    states one (none does today)."""

    regime: str
    words: str
    verified: bool = False
    deadline: timedelta | None = None


@dataclass(frozen=True, slots=True)
class Funds:
    wallet: str
    asset: str
    amount: int | None
    """Integer base units, as the evidence names them; None: unknown."""

    def describe(self) -> str:
        amount = UNKNOWN if self.amount is None else f"{self.amount} base units"
        return f"wallet {self.wallet}, asset {self.asset}, amount {amount}"


@dataclass(frozen=True, slots=True)
class Action:
    action: str
    target: str | None
    status: str
    at: datetime
    released_at: datetime | None
    detail: str


@dataclass(frozen=True, slots=True)
class RegimeClock:
    regime: str
    elapsed: timedelta
    deadline: timedelta | None
    """None: not set (organisation-defined; see `basis`)."""
    basis: str

    @property
    def overdue(self) -> bool | None:
        return None if self.deadline is None else self.elapsed > self.deadline

    @property
    def remaining(self) -> timedelta | None:
        return None if self.deadline is None else self.deadline - self.elapsed


@dataclass(frozen=True, slots=True)
class IncidentDraft:
    alert_id: str
    rule_id: str
    what: str
    level: str
    detected_at: datetime
    drafted_at: datetime
    funds: Funds
    actions: tuple[Action, ...]
    regimes: tuple[RegimeClock, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "alert_id": self.alert_id,
            "rule_id": self.rule_id,
            "what": self.what,
            "level": self.level,
            "detected_at": _iso(self.detected_at),
            "drafted_at": _iso(self.drafted_at),
            "funds": {
                "wallet": self.funds.wallet,
                "asset": self.funds.asset,
                "amount": UNKNOWN if self.funds.amount is None else self.funds.amount,
                "unit": "base_units",
            },
            "actions": [
                {
                    "action": a.action,
                    "target": a.target,
                    "status": a.status,
                    "at": _iso(a.at),
                    "released_at": _iso(a.released_at) if a.released_at else None,
                    "detail": a.detail,
                }
                for a in self.actions
            ],
            "regimes": [
                {
                    "regime": r.regime,
                    "elapsed_s": int(r.elapsed.total_seconds()),
                    "deadline_s": None if r.deadline is None else int(r.deadline.total_seconds()),
                    "overdue": r.overdue,
                    "basis": r.basis,
                }
                for r in self.regimes
            ],
        }


def _iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def _text(value: object) -> str:
    return value if isinstance(value, str) and value else UNKNOWN


def funds_of(evidence: Mapping[str, Any]) -> Funds:
    """The wallet, asset and amount the evidence names; an amount that is not an integer
    (base units) is unknown rather than guessed."""
    amount = evidence.get("amount")
    known = isinstance(amount, int) and not isinstance(amount, bool) and amount >= 0
    return Funds(
        wallet=_text(evidence.get("wallet")),
        asset=_text(evidence.get("asset")),
        amount=amount if known else None,
    )


def _basis_text(basis: Basis | None, deadline: timedelta | None, regime: str) -> str:
    if deadline is not None and basis is not None and basis.deadline == deadline:
        return f"set from the source: {basis.words}"
    if deadline is not None:
        return "set by the organisation"
    if basis is None:
        return f"not set: the catalogue cites no {regime} source stating a reporting deadline"
    mark = "" if basis.verified else " (unverified)"
    return f'not set: the source says "{basis.words}"{mark} and states no number'


def draft(
    alert: AlertFacts,
    responses: Sequence[ResponseFacts],
    now: datetime,
    *,
    bases: Mapping[str, Basis] | None = None,
    deadlines: Mapping[str, timedelta] | None = None,
) -> IncidentDraft:
    """The draft as of `now`. `deadlines`: the organisation's setting per regime (no
    default); a regime without one takes a deadline only from a verified source's `Basis`."""
    if now.tzinfo is None or alert.created_at.tzinfo is None:
        raise ValueError("times must carry a timezone")
    bases = bases or {}
    deadlines = deadlines or {}
    unknown = sorted(set(deadlines) - set(REGIMES))
    if unknown:
        raise ValueError(f"unknown regime {unknown[0]!r}; one of {', '.join(REGIMES)}")
    elapsed = max(now - alert.created_at, timedelta(0))
    clocks = []
    for regime in REGIMES:
        basis = bases.get(regime)
        deadline = deadlines.get(regime)
        if deadline is None and basis is not None and basis.verified:
            deadline = basis.deadline
        clocks.append(RegimeClock(regime, elapsed, deadline, _basis_text(basis, deadline, regime)))
    actions = tuple(
        Action(r.action, r.target, r.status, r.created_at, r.released_at, r.detail)
        for r in sorted(responses, key=lambda r: r.created_at)
    )
    return IncidentDraft(
        alert_id=alert.id,
        rule_id=alert.rule_id,
        what=alert.title,
        level=alert.level,
        detected_at=alert.created_at,
        drafted_at=now,
        funds=funds_of(alert.evidence),
        actions=actions,
        regimes=tuple(clocks),
    )


def bases_of(catalogue: Catalogue, control_id: str = "MON-02") -> dict[str, Basis]:
    """Each regime's basis as `control_id`'s references give it (none: no entry): its
    first reference of the regime, and the deadline its ``report_within_<regime>``
    parameter states when that parameter is not organisation-defined (a source's number)."""
    control = catalogue.control(control_id)
    found: dict[str, Basis] = {}
    for regime in REGIMES:
        refs = control.references_for(Framework(regime))
        if refs:
            ref = refs[0]
            words = ref.citation + (f"; {ref.note}" if ref.note else "")
            stated = next(
                (
                    timedelta(**{UNITS[p.unit]: int(p.value)})
                    for p in control.parameters
                    if p.name == f"report_within_{regime}" and not p.organisation_defined
                ),
                None,
            )
            found[regime] = Basis(regime, words, verified=ref.verified, deadline=stated)
    return found
