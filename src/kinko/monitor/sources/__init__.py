"""Real sources, mapped once: vendor logs in, `MonitorEvent`s out (docs/monitor.md,
"Real sources"). Pure: text or parsed JSON in, events out; the CLI (`kinko monitor ingest
--source`), the API (``POST /v1/events/sources/{source}``) and the Redis worker (entries
``{"source", "record"}``) all call `parse_source` / `parse_record`.

All-or-nothing, as for Kinko's own events: one record that does not map refuses the batch,
naming the line or record (``line 3``, ``Records[2]``), the field and the fix.
"""

from __future__ import annotations

import json
from typing import Any

from kinko.core.errors import InputError
from kinko.monitor.events import MonitorEvent
from kinko.monitor.sources.base import Source, build
from kinko.monitor.sources.cloud import CLOUDTRAIL, GITHUB, KUBERNETES, WORKSPACE_LOGIN
from kinko.monitor.sources.identity import ENTRA_AUDIT, ENTRA_SIGNIN, OKTA
from kinko.monitor.sources.linux import AUDITD, SSHD, auditd_record

__all__ = [
    "BODY_FIELDS",
    "KEY_FIELDS",
    "SOURCES",
    "Source",
    "parse_record",
    "parse_source",
    "source_named",
]

SOURCES: dict[str, Source] = {
    s.name: s
    for s in (
        CLOUDTRAIL,
        OKTA,
        ENTRA_SIGNIN,
        ENTRA_AUDIT,
        GITHUB,
        WORKSPACE_LOGIN,
        AUDITD,
        SSHD,
        KUBERNETES,
    )
}


def _by_logsource(attribute: str) -> dict[str, dict[str, str]]:
    out: dict[str, dict[str, str]] = {}
    for source in SOURCES.values():
        product, service, _ = source.logsource
        value = getattr(source, attribute)
        if value is not None and service is not None:
            out.setdefault(product, {})[service] = value
    return out


KEY_FIELDS = _by_logsource("key_field")
"""product -> service -> the field that says what happened (`Source.key_field`)."""
BODY_FIELDS = _by_logsource("body_field")
"""product -> service -> the record's free text, for keyword searches (`Source.body_field`)."""
ENVELOPES = ("Records", "records")
"""A whole document wrapping its records: CloudTrail's log files ``{"Records": [...]}``,
Azure Monitor's exports ``{"records": [...]}``."""


def source_named(name: str, *, field: str = "source") -> Source:
    found = SOURCES.get(name)
    if found is None:
        raise InputError(
            field, f"unknown source {name!r}; one of {', '.join(SOURCES)}", code="unknown_source"
        )
    return found


def parse_record(source: Source, record: Any, *, where: str) -> MonitorEvent:
    """One record (a parsed JSON object, or an auditd line) as an event."""
    if source.text_lines:
        if not isinstance(record, str):
            raise InputError(where, "must be one audit.log line (a string)", code="invalid_event")
        record = auditd_record(record, where)
    return build(source, record, where)


def parse_source(source: Source, text: str, *, limit: int | None = None) -> list[MonitorEvent]:
    """Every record of `text` (JSON Lines, one JSON document — an envelope, an array or
    one record — or, for auditd, log lines), all or nothing."""
    items = _lines(text) if source.text_lines else _json_records(text)
    if limit is not None and len(items) > limit:
        raise InputError("records", f"at most {limit} records per batch; split it")
    return [parse_record(source, record, where=where) for where, record in items]


def _split(text: str) -> list[str]:
    """Lines, split at newlines only (`str.splitlines` also splits at 0x1c-0x1e, and
    auditd's ENRICHED format separates its interpreted fields with 0x1d)."""
    return [line.removesuffix("\r") for line in text.split("\n")]


def _lines(text: str) -> list[tuple[str, Any]]:
    return [(f"line {n}", line) for n, line in enumerate(_split(text), 1) if line.strip()]


def _json_records(text: str) -> list[tuple[str, Any]]:
    stripped = text.strip()
    if not stripped:
        return []
    try:
        whole = json.loads(stripped)
    except ValueError:
        return _json_lines(text)
    if isinstance(whole, list):
        return [(f"[{i}]", item) for i, item in enumerate(whole)]
    if isinstance(whole, dict):
        for envelope in ENVELOPES:
            if isinstance(whole.get(envelope), list):
                return [(f"{envelope}[{i}]", r) for i, r in enumerate(whole[envelope])]
    return [("line 1", whole)]


def _json_lines(text: str) -> list[tuple[str, Any]]:
    out: list[tuple[str, Any]] = []
    for number, line in enumerate(_split(text), start=1):
        if not line.strip():
            continue
        try:
            out.append((f"line {number}", json.loads(line)))
        except json.JSONDecodeError as exc:
            raise InputError(
                f"line {number}", f"is not valid JSON ({exc.msg} at column {exc.colno})"
            ) from None
        except ValueError:
            raise InputError(
                f"line {number}", "holds a number with more than 4,300 digits"
            ) from None
    return out
