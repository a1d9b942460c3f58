"""The governance register: what no system records by itself (issue #16 point 3; pure).

The CISO, headcount and budget by function, security training and phishing exercises per
person, incident and key-compromise drills, penetration tests and third-party audits with
their findings, vendors with their risk reviews, key ceremonies, backup and seal checks,
internal-audit engagements. Each kind is a frozen dataclass whose constructor refuses an
invalid value with an `InputError` naming the field (parse, don't validate): a record that
exists is valid. How fields are checked: `kinko.inspection.register_fields`;
reading records from JSON, YAML or CSV rows and the changes a proposal carries:
`kinko.inspection.register_changes`.

Each record has a key within its kind (`Record.key`): the CISO is one record; staffing is
one per fiscal year and function; training per person, course and day; the others by the
reference the organisation gives them. A change (`register_changes.Change`) puts a
record (adding it or replacing the one with the same key) or removes the record of a key.
Money is integer minor units with an ISO 4217 currency; attachments are named by their SHA-256.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from kinko.core.errors import InputError
from kinko.inspection.register_fields import Checked, not_before
from kinko.inspection.register_incidents import Incident

_CURRENCY = re.compile(r"^[A-Z]{3}$")


class Kind(StrEnum):
    CISO = "ciso"
    STAFFING = "staffing"
    TRAINING = "training"
    PHISHING = "phishing"
    DRILL = "drill"
    ASSESSMENT = "assessment"
    VENDOR = "vendor"
    CEREMONY = "ceremony"
    CHECK = "check"
    ENGAGEMENT = "engagement"
    INCIDENT = "incident"


class Function(StrEnum):
    """What staff and budget are counted by (5-5-7: IT of all, security of IT)."""

    TOTAL = "total"
    IT = "it"
    SECURITY = "security"
    INTERNAL_AUDIT = "internal_audit"
    COMPLIANCE = "compliance"
    OTHER = "other"


class PhishingOutcome(StrEnum):
    REPORTED = "reported"
    IGNORED = "ignored"
    CLICKED = "clicked"
    SUBMITTED = "submitted"
    """Entered credentials or opened the payload."""


class DrillKind(StrEnum):
    INCIDENT = "incident"
    KEY_COMPROMISE = "key_compromise"


class AssessmentKind(StrEnum):
    PENETRATION_TEST = "penetration_test"
    THIRD_PARTY_AUDIT = "third_party_audit"


class Severity(StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"


class Risk(StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"


class CeremonyPurpose(StrEnum):
    GENERATION = "generation"
    ROTATION = "rotation"
    RECOVERY = "recovery"
    DESTRUCTION = "destruction"


class CheckKind(StrEnum):
    BACKUP_RESTORE = "backup_restore"
    SEAL = "seal"


class CheckResult(StrEnum):
    PASS = "pass"  # noqa: S105 - a check's result, not a secret
    FAIL = "fail"


class MaturityStage(StrEnum):
    """The FSA's four stages of internal audit (2025 roundtable, after the IIA)."""

    DEFECT_FINDING = "defect_finding"
    RISK_BASED = "risk_based"
    ASSURANCE = "assurance"
    ADVISORY = "advisory"


@dataclass(frozen=True, slots=True)
class Finding(Checked):
    """One finding of a test, audit, drill or engagement, and its remediation."""

    id: str
    severity: Severity
    title: str
    due_on: date | None = None
    remediated_on: date | None = None


@dataclass(frozen=True, slots=True)
class Ciso(Checked):
    """Who the CISO is, since when, whether independent, what else they do."""

    person: str
    since: date
    independent: bool
    reports_to: str
    other_duties: tuple[str, ...] = ()
    attachments: tuple[str, ...] = ()

    @property
    def key(self) -> str:
        return "ciso"


@dataclass(frozen=True, slots=True)
class Staffing(Checked):
    """Headcount and security-relevant budget of one function in one fiscal year."""

    fiscal_year: int
    function: Function
    headcount: int
    budget_minor: int
    """Integer minor units of `currency` (yen, won, cents)."""
    currency: str
    attachments: tuple[str, ...] = ()

    def _rules(self) -> None:
        if not 2000 <= self.fiscal_year <= 2200:
            raise InputError("fiscal_year", "a year like 2026")
        if not _CURRENCY.match(self.currency):
            raise InputError("currency", "an ISO 4217 code in capitals, e.g. JPY, KRW, USD")

    @property
    def key(self) -> str:
        return f"{self.fiscal_year}/{self.function.value}"


@dataclass(frozen=True, slots=True)
class Training(Checked):
    """A person completed a security training course."""

    person: str
    course: str
    completed_on: date
    attachments: tuple[str, ...] = ()

    @property
    def key(self) -> str:
        return f"{self.person}/{self.course}/{self.completed_on.isoformat()}"


@dataclass(frozen=True, slots=True)
class Phishing(Checked):
    """How a person answered one phishing exercise."""

    person: str
    campaign: str
    sent_on: date
    outcome: PhishingOutcome
    attachments: tuple[str, ...] = ()

    @property
    def key(self) -> str:
        return f"{self.person}/{self.campaign}"


@dataclass(frozen=True, slots=True)
class Drill(Checked):
    """An incident-response or key-compromise drill."""

    ref: str
    kind: DrillKind
    held_on: date
    scenario: str
    participants: tuple[str, ...]
    findings: tuple[Finding, ...] = ()
    attachments: tuple[str, ...] = ()

    def _rules(self) -> None:
        if not self.participants:
            raise InputError("participants", "name at least one participant")

    @property
    def key(self) -> str:
        return self.ref


@dataclass(frozen=True, slots=True)
class Assessment(Checked):
    """A penetration test or a third-party audit, with its findings."""

    ref: str
    kind: AssessmentKind
    provider: str
    scope: str
    started_on: date
    reported_on: date | None = None
    findings: tuple[Finding, ...] = ()
    attachments: tuple[str, ...] = ()

    def _rules(self) -> None:
        not_before("reported_on", self.reported_on, "started_on", self.started_on)

    @property
    def key(self) -> str:
        return self.ref


@dataclass(frozen=True, slots=True)
class Vendor(Checked):
    """A vendor, what it provides, its risk and its reviews (due dates)."""

    name: str
    service: str
    critical: bool
    risk: Risk
    next_review_due: date
    last_review_on: date | None = None
    attachments: tuple[str, ...] = ()

    def _rules(self) -> None:
        if self.last_review_on is not None:
            not_before("next_review_due", self.next_review_due, "last_review_on",
                        self.last_review_on)  # fmt: skip

    @property
    def key(self) -> str:
        return self.name


@dataclass(frozen=True, slots=True)
class Ceremony(Checked):
    """A key ceremony: who took part, who witnessed, under which procedure."""

    ref: str
    purpose: CeremonyPurpose
    held_on: date
    procedure: str
    participants: tuple[str, ...]
    witnesses: tuple[str, ...]
    wallet: str | None = None
    attachments: tuple[str, ...] = ()

    def _rules(self) -> None:
        if not self.participants:
            raise InputError("participants", "name at least one participant")
        if not self.witnesses:
            raise InputError("witnesses", "a ceremony has at least one witness")
        both = sorted(set(self.participants) & set(self.witnesses))
        if both:
            raise InputError("witnesses", f"{', '.join(both)} took part: a witness is another")

    @property
    def key(self) -> str:
        return self.ref


@dataclass(frozen=True, slots=True)
class Check(Checked):
    """A backup restore test or a tamper-evident seal inspection."""

    ref: str
    kind: CheckKind
    subject: str
    checked_on: date
    checked_by: str
    result: CheckResult
    next_due: date | None = None
    attachments: tuple[str, ...] = ()

    def _rules(self) -> None:
        not_before("next_due", self.next_due, "checked_on", self.checked_on)

    @property
    def key(self) -> str:
        return self.ref


@dataclass(frozen=True, slots=True)
class Engagement(Checked):
    """An internal-audit engagement: plan, scope, findings, follow-up, maturity stage."""

    ref: str
    title: str
    plan_year: int
    scope: str
    risk_based_plan: bool
    """The engagement was chosen by the risk-based audit plan."""
    stage: MaturityStage
    started_on: date
    reported_on: date | None = None
    follow_up_on: date | None = None
    findings: tuple[Finding, ...] = ()
    attachments: tuple[str, ...] = ()

    def _rules(self) -> None:
        if not 2000 <= self.plan_year <= 2200:
            raise InputError("plan_year", "a year like 2026")
        not_before("reported_on", self.reported_on, "started_on", self.started_on)
        if self.follow_up_on is not None and self.reported_on is None:
            raise InputError("follow_up_on", "a follow-up comes after the report: give reported_on")
        if self.reported_on is not None:
            not_before("follow_up_on", self.follow_up_on, "reported_on", self.reported_on)

    @property
    def key(self) -> str:
        return self.ref


Record = (
    Ciso
    | Staffing
    | Training
    | Phishing
    | Drill
    | Assessment
    | Vendor
    | Ceremony
    | Check
    | Engagement
    | Incident
)
RECORDS: dict[Kind, type[Record]] = {
    Kind.CISO: Ciso,
    Kind.STAFFING: Staffing,
    Kind.TRAINING: Training,
    Kind.PHISHING: Phishing,
    Kind.DRILL: Drill,
    Kind.ASSESSMENT: Assessment,
    Kind.VENDOR: Vendor,
    Kind.CEREMONY: Ceremony,
    Kind.CHECK: Check,
    Kind.ENGAGEMENT: Engagement,
    Kind.INCIDENT: Incident,
}
PEOPLE_FIELDS = ("person", "participants", "witnesses", "checked_by")
"""Fields naming people: a Kinko user named there approves no change of the record."""


def kind_of(record: Record) -> Kind:
    return next(k for k, cls in RECORDS.items() if isinstance(record, cls))


def parse_kind(text: object, *, field: str = "kind") -> Kind:
    try:
        return Kind(str(text))
    except ValueError:
        raise InputError(field, f"unknown kind {text!r}; use one of "
                         f"{', '.join(k.value for k in Kind)}") from None  # fmt: skip
