"""The monitor's one event schema, and parsing it from JSON Lines, API batches and the bus.

Field names are Kinko's; `docs/monitor.md` maps each to its ECS / OCSF name, and rules
may use either (see `FIELD_ALIASES`). Parsing is all-or-nothing: a batch with one bad
event is refused, naming the line (or index) and the reason, and nothing from it is used.
"""

from __future__ import annotations

import ipaddress
import json
import re
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, StrictInt, ValidationError, field_validator

from kinko.core.errors import InputError
from kinko.core.events import SecurityEvent

TYPE_PATTERN = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$")
MAX_BATCH = 10_000
OWN_PRODUCT = "kinko"
LOGSOURCE_KEYS = ("logsource.product", "logsource.service", "logsource.category")
"""Where `MonitorEvent.flat` puts the event's logsource (the engine picks rules by it)."""

# ECS / OCSF names a rule may use instead of Kinko's (documented in docs/monitor.md).
FIELD_ALIASES: dict[str, str] = {
    "@timestamp": "time",
    "event.action": "type",
    "event.outcome": "outcome",
    "user.name": "actor",
    "source.ip": "source_ip",
    "src_endpoint.ip": "source_ip",
    "user_agent.original": "user_agent",
    "http_request.user_agent": "user_agent",
    "host.id": "device_id",
    "device.uid": "device_id",
    "source.geo.country_iso_code": "geo.country",
    "source.geo.location.lat": "geo.lat",
    "source.geo.location.lon": "geo.lon",
    "destination.address": "destination",
    "event.severity": "severity",
}


class Geo(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    country: str | None = Field(default=None, pattern=r"^[A-Z]{2}$")
    lat: float | None = Field(default=None, ge=-90, le=90)
    lon: float | None = Field(default=None, ge=-180, le=180)


class LogSource(BaseModel):
    """Sigma's logsource (rules specification v2.1.0, "LogSource"): lower case, ``_`` for
    spaces, ``.`` and ``-`` allowed. A rule applies only to events of its logsource."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    product: str | None = Field(default=None, pattern=r"^[a-z0-9][a-z0-9_.-]{0,63}$")
    service: str | None = Field(default=None, pattern=r"^[a-z0-9][a-z0-9_.-]{0,63}$")
    category: str | None = Field(default=None, pattern=r"^[a-z0-9][a-z0-9_.-]{0,63}$")


def default_logsource(type_: str) -> tuple[str, str, None]:
    """Kinko's own schema: product ``kinko``, service the event type's first part
    (``auth.login`` -> ``auth``)."""
    return (OWN_PRODUCT, type_.split(".", 1)[0], None)


class MonitorEvent(BaseModel):
    """One security-relevant thing that happened. Amounts are integer base units."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    time: datetime
    type: str
    actor: str | None = None
    source_ip: str | None = None
    user_agent: str | None = None
    device_id: str | None = None
    geo: Geo | None = None
    asset: str | None = None
    amount: StrictInt | None = Field(default=None, ge=0)
    wallet: str | None = None
    destination: str | None = None
    outcome: str | None = None
    severity: str = "info"
    logsource: LogSource | None = None
    """Absent: Kinko's own schema (`default_logsource`)."""
    fields: dict[str, Any] = Field(default_factory=dict)

    @field_validator("time")
    @classmethod
    def _aware(cls, value: datetime) -> datetime:
        if value.tzinfo is None:
            raise ValueError("needs a timezone, e.g. 2026-11-21T09:00:00Z")
        return value

    @field_validator("type")
    @classmethod
    def _dotted(cls, value: str) -> str:
        if not TYPE_PATTERN.match(value):
            raise ValueError("must be lower-case and dotted, e.g. auth.login")
        return value

    @field_validator("source_ip")
    @classmethod
    def _ip(cls, value: str | None) -> str | None:
        if value is None:
            return None
        try:
            return str(ipaddress.ip_address(value))
        except ValueError:
            raise ValueError("is not an IPv4 or IPv6 address") from None

    @field_validator("fields")
    @classmethod
    def _no_shadowing(cls, value: dict[str, Any]) -> dict[str, Any]:
        clash = sorted(set(value) & (STANDARD_FIELDS | set(FIELD_ALIASES)))
        if clash:
            raise ValueError(f"free field(s) {clash} shadow standard fields; rename them")
        for name, item in value.items():
            if isinstance(item, float):
                raise ValueError(f"{name}: floats are not allowed; use integers or strings")
        return value

    def flat(self) -> dict[str, Any]:
        """The view rules match against: standard fields, `geo.*`, `time.hour`,
        `actor_user`, `logsource.*`, free fields (the engine adds `origin`)."""
        out: dict[str, Any] = {
            "time": self.time,
            "time.hour": _utc_hour(self.time),
            "type": self.type,
            "severity": self.severity,
        }
        product, own_service, _ = default_logsource(self.type)
        service: str | None = own_service
        category: str | None = None
        if self.logsource is not None:
            ls = self.logsource
            own = ls.product in (None, OWN_PRODUCT)
            product = ls.product or OWN_PRODUCT
            service = ls.service or (own_service if own else None)
            category = ls.category
        out["logsource.product"] = product
        if service is not None:
            out["logsource.service"] = service
        if category is not None:
            out["logsource.category"] = category
        for name in _OPTIONAL:
            value = getattr(self, name)
            if value is not None:
                out[name] = value
        if self.geo is not None:
            for name in ("country", "lat", "lon"):
                value = getattr(self.geo, name)
                if value is not None:
                    out[f"geo.{name}"] = value
        if self.actor is not None and self.actor.startswith("user:"):
            out["actor_user"] = self.actor.removeprefix("user:")
        out.update(self.fields)
        return out


_OPTIONAL = (
    "actor",
    "source_ip",
    "user_agent",
    "device_id",
    "asset",
    "amount",
    "wallet",
    "destination",
    "outcome",
)
DERIVED_FIELDS = frozenset({"time.hour", "actor_user", "origin"})
"""Set by Kinko, never by a producer: the UTC hour, the user id of a ``user:<id>`` actor,
and where the event came from (``kinko`` for Kinko's own services, else ``ingest``)."""
STANDARD_FIELDS = frozenset(
    {"time", "type", "severity", "geo", "geo.country", "geo.lat", "geo.lon", "logsource"}
    | set(_OPTIONAL)
    | set(LOGSOURCE_KEYS)
    | DERIVED_FIELDS
)


def _utc_hour(value: datetime) -> int:
    from kinko.core.clock import utc

    return utc(value).hour


def _reason(exc: ValidationError) -> tuple[str, str]:
    first = exc.errors()[0]
    field = ".".join(str(p) for p in first["loc"]) or "event"
    return field, str(first["msg"])


def parse_event(raw: Mapping[str, Any], *, where: str) -> MonitorEvent:
    """Parse one event; `where` (``line 3``, ``events[2]``) prefixes any error."""
    if not isinstance(raw, Mapping):
        raise InputError(where, "must be a JSON object", code="invalid_event")
    try:
        return MonitorEvent.model_validate(dict(raw))
    except ValidationError as exc:
        field, msg = _reason(exc)
        raise InputError(f"{where}: {field}", msg, code="invalid_event") from None


def parse_batch(items: Iterable[Any]) -> list[MonitorEvent]:
    """All-or-nothing: the first bad item raises, naming its index."""
    events: list[MonitorEvent] = []
    for index, raw in enumerate(items):
        if index >= MAX_BATCH:
            raise InputError("events", f"at most {MAX_BATCH} events per batch; split it")
        events.append(parse_event(raw, where=f"events[{index}]"))
    return events


def parse_jsonl(lines: Iterable[str]) -> list[MonitorEvent]:
    """JSON Lines, blank lines skipped; errors name the 1-based line number."""
    events: list[MonitorEvent] = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            raw = json.loads(line)
        except json.JSONDecodeError as exc:
            raise InputError(
                f"line {number}", f"is not valid JSON ({exc.msg} at column {exc.colno})"
            ) from None
        except ValueError:  # Python's int-string conversion limit (4,300 digits)
            raise InputError(
                f"line {number}", "holds a number with more than 4,300 digits; no field takes one"
            ) from None
        events.append(parse_event(raw, where=f"line {number}"))
    return events


def from_security_event(event: SecurityEvent) -> MonitorEvent:
    """Map the in-process bus value onto the monitor schema (geo travels in `fields`)."""
    extra = dict(event.fields)
    geo = extra.pop("geo", None)
    for name in ("user_agent", "device_id"):
        extra.pop(name, None)
    raw: dict[str, Any] = {
        "time": event.time,
        "type": event.type,
        "actor": event.actor,
        "outcome": event.outcome,
        "source_ip": event.source_ip,
        "wallet": event.wallet,
        "asset": event.asset,
        "amount": event.amount,
        "destination": event.destination,
        "severity": event.severity,
        "user_agent": event.fields.get("user_agent"),
        "device_id": event.fields.get("device_id"),
        "geo": geo,
        "fields": {k: v for k, v in extra.items() if k not in STANDARD_FIELDS},
    }
    return parse_event(raw, where=f"bus event {event.type}")
