"""What every source mapping shares: flattening a vendor record into the field names
SigmaHQ's rules use, Kinko event types from vendor names, times, and the one builder that
turns a mapped record into a `MonitorEvent` (pure; no I/O).

The mapping, once for every source (docs/monitor.md, "Real sources"):

- A vendor record's keys keep their names; nested objects become dotted keys
  (``userIdentity.arn``, ``protoPayload.metadata.event.eventName``), as SigmaHQ's rules
  name them. A list of objects gives, for each dotted key below it, the list of its values
  (a rule matches a list if any element does). A top-level object, and a list of objects at
  any depth, also keeps its JSON text under its own key, for rules that search it whole
  (``requestParameters|contains``, ``properties.targetResources|contains``).
- Floats become their JSON text (Kinko's free fields hold no floats).
- A vendor key equal to one of Kinko's own fields (`kinko.monitor.events.STANDARD_FIELDS`
  and the ECS/OCSF aliases) either *is* that field (each source says which, e.g. GitHub's
  ``actor``) or is renamed: the source's `renames` (auditd's ``type`` -> ``record_type``,
  with the rule-side pipeline in `kinko.monitor.sources.pipeline`), else ``raw.<key>``.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, NoReturn

from kinko.core.errors import InputError
from kinko.monitor.events import (
    FIELD_ALIASES,
    STANDARD_FIELDS,
    MonitorEvent,
    parse_event,
)

RESERVED = frozenset(STANDARD_FIELDS | set(FIELD_ALIASES) | {"fields"})
"""Names a vendor key may not keep in `MonitorEvent.fields` (Kinko's own fields)."""
RAW_PREFIX = "raw."
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")
_NOT_SLUG = re.compile(r"[^a-z0-9]+")


@dataclass(frozen=True, slots=True)
class Mapped:
    """What a source's mapping says about one record, besides its flattened fields."""

    time: datetime
    type: str
    actor: str | None = None
    source_ip: str | None = None
    user_agent: str | None = None
    outcome: str | None = None
    severity: str | None = None
    country: str | None = None
    lat: float | None = None
    lon: float | None = None
    fields: dict[str, Any] = field(default_factory=dict)
    """Extra fields the mapping adds (Sentinel column names, parsed message parts)."""


SigmaLogSource = tuple[str, str | None, str | None]
"""(product, service, category), as SigmaHQ's rules for the source write it."""


@dataclass(frozen=True, slots=True)
class Source:
    """One vendor log: its name for `--source`, its Sigma logsource, the vendor keys that
    are Kinko's own fields, the renames that resolve other clashes, and the mapping."""

    name: str
    title: str
    logsource: SigmaLogSource
    schema_url: str
    mapping: Callable[[Mapping[str, Any], str], Mapped]
    standard: frozenset[str] = frozenset()
    """Vendor keys the mapping carries in a standard field (same meaning, same value)."""
    renames: Mapping[str, str] = field(default_factory=dict)
    text_lines: bool = False
    """Records are text lines (auditd's log), not JSON objects."""
    key_field: str | None = None
    """The field that says what happened (CloudTrail's ``eventName``): the engine indexes
    this logsource's rules by the values of it they require."""
    body_field: str | None = None
    """The record's free text (sshd's ``MESSAGE``), which a Sigma keyword search reads."""


def need(record: Mapping[str, Any], path: str, where: str, hint: str) -> Any:
    """The value at dotted `path`, or an error naming the record, the field and the fix."""
    value = dig(record, path)
    if value is None or value == "":
        missing(where, path, hint)
    return value


def missing(where: str, path: str, hint: str) -> NoReturn:
    raise InputError(f"{where}: {path}", f"is missing; {hint}", code="invalid_event")


def dig(record: Mapping[str, Any], path: str) -> Any:
    current: Any = record
    for part in path.split("."):
        if not isinstance(current, Mapping):
            return None
        current = current.get(part)
    return current


def text(value: Any) -> str | None:
    return None if value is None or value == "" else str(value)


def rfc3339(value: Any, where: str, name: str) -> datetime:
    """An RFC 3339 time with a zone (``Z`` or an offset), as every JSON source writes it."""
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            parsed = None
        if parsed is not None and parsed.tzinfo is not None:
            return parsed.astimezone(UTC)
    raise InputError(
        f"{where}: {name}",
        f"{value!r} is not an RFC 3339 time with a zone (e.g. 2026-12-07T09:00:00Z)",
        code="invalid_event",
    )


def epoch(value: Any, where: str, name: str, *, per_second: int) -> datetime:
    """A time counted from the Unix epoch in 1/`per_second` units (int or its text)."""
    try:
        number = int(value)
        return datetime.fromtimestamp(number / per_second, tz=UTC)
    except (TypeError, ValueError, OverflowError, OSError):
        raise InputError(
            f"{where}: {name}",
            f"{value!r} is not a Unix time in 1/{per_second} s",
            code="invalid_event",
        ) from None


def slug(name: str) -> str:
    """A vendor name as one segment of a Kinko event type: ``ConsoleLogin`` ->
    ``console_login``, ``user.session.start`` -> ``user_session_start``."""
    snake = _CAMEL.sub("_", name).lower()
    out = _NOT_SLUG.sub("_", snake).strip("_") or "unknown"
    return out if out[0].isalpha() else f"n{out}"


def dotted(*parts: str) -> str:
    """A Kinko event type from vendor names, each part slugged (dots inside a part split
    it: Okta's ``user.session.start`` stays three segments)."""
    return ".".join(slug(piece) for part in parts for piece in part.split(".") if piece)


_ISO2 = re.compile(r"^[A-Z]{2}$")


def iso_country(value: Any) -> str | None:
    """An ISO 3166 alpha-2 code, or None (a vendor's country name is kept in its field)."""
    return value if isinstance(value, str) and _ISO2.match(value) else None


def outcome_of(ok: bool | None) -> str | None:
    return None if ok is None else ("success" if ok else "failure")


def flatten(record: Mapping[str, Any]) -> dict[str, Any]:
    """Dotted keys for nested objects; lists of objects give lists of values; top-level
    objects and lists of objects also keep their JSON text; floats become text (see the
    module's docstring)."""
    out: dict[str, Any] = {}
    for key, value in record.items():
        if type(value) in _PLAIN:
            out[str(key)] = value
            continue
        if isinstance(value, dict):
            out[str(key)] = _json_text(value)
        _walk(str(key), value, out, many=False)
    return out


_PLAIN = frozenset({str, int, bool, type(None)})


def _walk(key: str, value: Any, out: dict[str, Any], *, many: bool) -> None:
    if isinstance(value, dict):
        prefix = key + "."
        for sub, item in value.items():
            if not many and type(item) in _PLAIN:  # most leaves: no call
                out[prefix + str(sub)] = item
            else:
                _walk(prefix + str(sub), item, out, many=many)
    elif isinstance(value, list):
        if any(isinstance(v, dict | list) for v in value):
            _put(key, _json_text(value), out, many=many)
            for item in value:
                if isinstance(item, dict):
                    for sub, inner in item.items():
                        _walk(f"{key}.{sub}", inner, out, many=True)
        else:
            held = out.setdefault(key, [])
            if not isinstance(held, list):
                held = out[key] = [held]
            held.extend(_scalar(item) for item in value)
    elif many:
        _put(key, _scalar(value), out, many=True)
    else:
        out[key] = _scalar(value) if isinstance(value, float) else value


def _put(key: str, value: Any, out: dict[str, Any], *, many: bool) -> None:
    if not many:
        out[key] = value
        return
    held = out.setdefault(key, [])
    if not isinstance(held, list):
        held = out[key] = [held]
    held.append(value)


def _scalar(value: Any) -> Any:
    if isinstance(value, float):
        return json.dumps(value) if math.isfinite(value) else str(value)
    return value


def _json_text(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def build(source: Source, record: Mapping[str, Any], where: str) -> MonitorEvent:
    """Map one vendor record to a `MonitorEvent`, or refuse it naming the field."""
    if not isinstance(record, Mapping):
        raise InputError(where, f"must be a JSON object ({source.title})", code="invalid_event")
    mapped = source.mapping(record, where)
    fields = flatten(record)
    fields.update(flatten(mapped.fields))
    for key in [k for k in fields if k in RESERVED or k.startswith("logsource.")]:
        value = fields.pop(key)
        if key in source.standard:
            continue
        fields[source.renames.get(key, RAW_PREFIX + key)] = value
    product, service, category = source.logsource
    geo = {"country": mapped.country, "lat": mapped.lat, "lon": mapped.lon}
    raw: dict[str, Any] = {
        "time": mapped.time,
        "type": mapped.type,
        "actor": mapped.actor,
        "source_ip": _ip_or_none(mapped.source_ip),
        "user_agent": mapped.user_agent,
        "outcome": mapped.outcome,
        "logsource": {"product": product, "service": service, "category": category},
        "fields": fields,
    }
    if mapped.severity is not None:
        raw["severity"] = mapped.severity
    if any(v is not None for v in geo.values()):
        raw["geo"] = geo
    return parse_event(raw, where=where)


def _ip_or_none(value: str | None) -> str | None:
    """Vendors write a service name where the caller was one (CloudTrail's ``AWS
    Internal``, ``ec2.amazonaws.com``): that is kept in the vendor's own field, and
    `source_ip` is only set from an address."""
    import ipaddress

    if value is None:
        return None
    try:
        return str(ipaddress.ip_address(value))
    except ValueError:
        return None
