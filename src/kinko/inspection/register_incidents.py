"""The governance register's incident records (MON-02; pure): a security incident and its
report to a regulator, with the times that decide whether it was reported in time. Part of
`kinko.inspection.register` (kind ``incident``), apart only for its length."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum

from kinko.core.errors import InputError
from kinko.inspection.register_fields import Checked


class Regime(StrEnum):
    """Whose regulator an incident is reported to (MON-02's deadlines are per regime)."""

    JP = "jp"
    KR = "kr"


_MOMENT = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?Z$")


def moment(name: str, text: str | None) -> datetime | None:
    """An RFC 3339 UTC time written with Z (``2026-05-31T13:26:00Z``); None stays None."""
    if text is None:
        return None
    if not _MOMENT.match(text):
        raise InputError(name, f"{text!r} is not a UTC time like 2026-05-31T13:26:00Z")
    try:
        return datetime.fromisoformat(text[:-1]).replace(tzinfo=UTC)
    except ValueError:
        raise InputError(name, f"{text!r} is not a real time") from None


@dataclass(frozen=True, slots=True)
class Incident(Checked):
    """A security incident and its report to one regime's regulator (MON-02): one record
    per report (an incident reported in Japan and Korea is two). Times are UTC."""

    ref: str
    title: str
    regime: Regime
    detected_at: str
    """When the exchange detected it (``2026-05-31T13:26:00Z``)."""
    reported_at: str | None = None
    """When it was reported to the regulator (None: not yet)."""
    reported_to: str | None = None
    """To whom (the FSA, a Local Finance Bureau, the FSS, MSIT/KISA, ...)."""
    alert: str | None = None
    """The monitor alert it began with, if any."""
    attachments: tuple[str, ...] = ()

    def _rules(self) -> None:
        detected = moment("detected_at", self.detected_at)
        reported = moment("reported_at", self.reported_at)
        if reported is not None and detected is not None and reported < detected:
            raise InputError("reported_at", f"{self.reported_at} is before detected_at "
                             f"({self.detected_at})")  # fmt: skip
        if (self.reported_at is None) != (self.reported_to is None):
            raise InputError("reported_to", "give reported_at and reported_to together")

    @property
    def detected(self) -> datetime:
        found = moment("detected_at", self.detected_at)
        assert found is not None
        return found

    @property
    def reported(self) -> datetime | None:
        return moment("reported_at", self.reported_at)

    @property
    def key(self) -> str:
        return self.ref
