"""The suite's one notion of "now" for fixed clocks.

Fixed clocks start at the real time the run started (to the second), never at a date
written into a test: a test that mixes a fixed clock with the real one (a CLI command, a
subprocess, an enrolment's or a token's expiry) then holds on any date the suite runs.
`make test-faketime` runs the clock-sensitive tests with the machine's clock 400 days ahead.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

RUN_STARTED: datetime = datetime.now(UTC).replace(microsecond=0)
RUN_DAY: date = RUN_STARTED.date()


def iso_z(when: datetime) -> str:
    """`when` as the audit log writes it (RFC 3339, UTC, microseconds, Z)."""
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
