"""What every insider test asserts: the step was refused (status and stable error code)
and the monitor raised an alert naming the person who tried it."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from kinko.context import Context
from kinko.monitor.service import MonitorService
from tests.support.alerts import REFUSED_RULE, evidence

INSIDER_IP = "198.51.100.77"  # the insider's workstation


@dataclass
class Watch:
    """The refusals alerted so far, so that each step checks exactly one new alert."""

    ctx: Context
    monitor: MonitorService
    seen: Counter[tuple[str, str]] = field(default_factory=Counter)

    def alerted(self) -> Counter[tuple[str, str]]:
        """(actor, error code) of every ``kinko-insider-refused`` alert stored."""
        return Counter(
            (str(e.get("actor")), str(e.get("code"))) for e in evidence(self.ctx, REFUSED_RULE)
        )

    def refused(self, answer: Any, status: int, code: str, who: str) -> dict[str, Any]:
        """`answer` (an API response) is `status` with error `code`, and exactly one new
        alert names `who` (a user id) and that code. Returns the alert's evidence."""
        assert answer.status_code == status, answer.text
        assert answer.json()["error"] == code, answer.text
        return self.alerted_once(code, who)

    def alerted_once(self, code: str, who: str) -> dict[str, Any]:
        """Since the last check, exactly one new refusal alert: `who` refused `code`.
        Returns the evidence of an alert of that person and code."""
        now = self.alerted()
        key = (f"user:{who}", code)
        assert now - self.seen == Counter({key: 1}), (key, dict(now - self.seen))
        self.seen = now
        return next(
            e for e in evidence(self.ctx, REFUSED_RULE) if (e.get("actor"), e.get("code")) == key
        )

    def quiet(self) -> None:
        """No new refusal alert since the last check."""
        assert self.alerted() == self.seen
