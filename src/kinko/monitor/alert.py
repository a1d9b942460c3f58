"""The value a rule produces when it fires (pure; persisted by `monitor.service`)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from kinko.core.clock import isoformat
from kinko.monitor.response_spec import ResponseSpec

SAFE_INTEGER = 2**53 - 1


class AlertStatus(StrEnum):
    """Where an alert is in triage (`kinko.monitor.triage`)."""

    OPEN = "open"
    ACKNOWLEDGED = "acknowledged"
    RESOLVED = "resolved"
    FALSE_POSITIVE = "false_positive"


class AlertKind(StrEnum):
    DETECTION = "detection"
    CORRELATION = "correlation"
    BASELINE = "baseline"


@dataclass(frozen=True, slots=True)
class Alert:
    rule_id: str
    title: str
    level: str
    kind: AlertKind
    time: datetime
    response: ResponseSpec
    evidence: Mapping[str, Any]
    group: Mapping[str, Any] = field(default_factory=dict)
    reason: str = ""
    ingested: bool = False
    """A correlation one of whose events came from outside Kinko (`engine.alert_origin`)."""

    def to_json(self) -> dict[str, Any]:
        return {
            "rule": self.rule_id,
            "title": self.title,
            "level": self.level,
            "kind": self.kind.value,
            "time": isoformat(self.time),
            "response": self.response.to_json(),
            "group": json_safe(dict(self.group)),
            "evidence": json_safe(dict(self.evidence)),
            "reason": self.reason,
        }


def json_safe(value: Any) -> Any:
    """Evidence as JSON values: datetimes as RFC 3339, tuples as lists, floats as strings.

    The audit log's canonical JSON carries no floats and no integers beyond ±2^53 (RFC 8785
    reads numbers as doubles): geo coordinates and large amounts become decimal text.
    """
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) > SAFE_INTEGER:
        return str(value)
    if isinstance(value, datetime):
        return isoformat(value)
    if isinstance(value, Mapping):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [json_safe(v) for v in value]
    if value is None or isinstance(value, str | int):
        return value
    return str(value)  # Decimal, UUID, enums from in-process producers: as text
