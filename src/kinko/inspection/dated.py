"""Helpers for the controls decided from dated evidence in the governance register (pure):
intervals from the catalogue's parameters, word lists, findings past their due dates, the
latest dated record of a day. Used by `kinko.inspection.decisions_register`."""

from __future__ import annotations

import calendar
from collections.abc import Callable, Iterable
from datetime import date, timedelta

from kinko.core.errors import InputError
from kinko.inspection.evaluate import Evidence, Row, Tally, parameter
from kinko.inspection.history import Entry, RegisterHistory
from kinko.inspection.register import Finding, Severity

NOT_READ = "the governance register was not read"


def months_before(day: date, months: int) -> date:
    """The same day `months` calendar months earlier (the month's last day if shorter)."""
    year, month = divmod(day.year * 12 + day.month - 1 - months, 12)
    return date(year, month + 1, min(day.day, calendar.monthrange(year, month + 1)[1]))


def interval(t: Tally, name: str) -> tuple[Callable[[date], date], str]:
    """(the earliest date within the interval of a day, the interval in words)."""
    p = next((p for p in t.control.parameters if p.name == name), None)
    if p is None:
        raise InputError(f"{t.control.id}.parameters", f"the catalogue names no {name!r}")
    n = int(p.value)
    if p.unit == "months":
        return (lambda day: months_before(day, n)), f"{n} months"
    if p.unit == "days":
        return (lambda day: day - timedelta(days=n)), f"{n} days"
    raise InputError(f"{t.control.id}.parameters.{name}.unit", "months or days")


def terms(t: Tally, name: str) -> tuple[str, ...]:
    """An organisation-defined list parameter (``a; b; c``), lower case."""
    return tuple(x.strip().lower() for x in str(parameter(t.control, name)).split(";") if x.strip())


def mentions(text: str, words: Iterable[str]) -> bool:
    plain = text.lower().replace("-", " ").replace("_", " ")
    return any(w.replace("-", " ").replace("_", " ") in plain for w in words)


def register_row(entry: Entry) -> tuple[Row, ...]:
    return (Row(entry.path, entry.digest),)


def on_register(t: Tally, evidence: Evidence) -> RegisterHistory | None:
    if evidence.register is None:
        t.undecided.append(NOT_READ)
    return evidence.register


def overdue(
    t: Tally,
    day: date,
    entry: Entry,
    findings: tuple[Finding, ...],
    *,
    critical_by: date | None = None,
) -> None:
    """Fail each finding still open on `day` after its due date (a critical one also
    after `critical_by`, when given)."""
    for f in findings:
        deadlines = [d for d in (f.due_on, critical_by if f.severity is Severity.CRITICAL else None)
                     if d is not None]  # fmt: skip
        if not deadlines:
            continue
        due = min(deadlines)
        if (f.remediated_on is None or f.remediated_on > day) and due < day:
            t.fail(
                day,
                "findings remediated by their due dates",
                f"{f.id} ({f.severity.value}) open",
                f"remediated by {due}",
                f"{entry.kind.value} {entry.key}: {f.title}",
                register_row(entry),
            )


def latest_dated(  # noqa: PLR0917 (the day's entries, what they are, the interval)
    t: Tally,
    day: date,
    entries: list[tuple[date, Entry]],
    what: str,
    earliest: Callable[[date], date],
    words: str,
) -> Entry | None:
    """The entry with the latest date on or before `day`; missing if none; failing if
    older than the interval."""
    held = [(d, e) for d, e in entries if d <= day]
    if not held:
        t.lack(day, f"the register holds no {what}")
        return None
    t.applies = True
    when, entry = max(held, key=lambda x: (x[0], x[1].key))
    if when < earliest(day):
        t.fail(
            day, f"{what} within {words}", f"last on {when}", words, entry.key, register_row(entry)
        )
    return entry
