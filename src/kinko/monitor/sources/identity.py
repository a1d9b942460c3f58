"""Identity providers: Okta's System Log and Microsoft Entra ID's sign-in and audit logs
(the Azure Monitor diagnostic records, as exported to an event hub or storage account).

SigmaHQ's Entra rules name fields as Microsoft Sentinel's ``SigninLogs`` and ``AuditLogs``
tables do (``ResultType``, ``AuthenticationRequirement``, ``OperationName``), or as the
diagnostic record's ``properties`` (``userAgent``, ``conditionalAccessStatus``). The
mapping keeps the record's own fields, lifts each ``properties.X`` to ``X`` where the record
has no top-level ``X``, and adds the Sentinel columns (`SIGNIN_COLUMNS`, `AUDIT_COLUMNS`):
this part is Kinko's own mapping (no pySigma pipeline exists for these tables), written
from Microsoft's two schemas and documented in docs/monitor.md.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from kinko.core.errors import InputError
from kinko.monitor.sources.base import (
    Mapped,
    Source,
    dig,
    dotted,
    iso_country,
    need,
    outcome_of,
    rfc3339,
    text,
)


def _number(value: Any) -> float | None:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    return None


def okta(record: Mapping[str, Any], where: str) -> Mapped:
    """An Okta System Log ``LogEvent``: type ``okta.<eventType>``
    (``okta.user.session.start``), actor ``actor.alternateId``, address
    ``client.ipAddress``, client ``client.userAgent.rawUserAgent``, outcome
    ``outcome.result`` in lower case, severity Okta's, position
    ``client.geographicalContext.geolocation``."""
    hint = "Okta System Log events carry published and eventType"
    when = rfc3339(need(record, "published", where, hint), where, "published")
    result = dig(record, "outcome.result")
    geo = dig(record, "client.geographicalContext.geolocation")
    geo = geo if isinstance(geo, Mapping) else {}
    return Mapped(
        time=when,
        type=dotted("okta", str(need(record, "eventType", where, hint))),
        actor=text(dig(record, "actor.alternateId")),
        source_ip=text(dig(record, "client.ipAddress")),
        user_agent=text(dig(record, "client.userAgent.rawUserAgent")),
        outcome=str(result).lower() if isinstance(result, str) else None,
        severity=text(record.get("severity")),
        lat=_number(geo.get("lat")),
        lon=_number(geo.get("lon")),
    )


def _properties(record: Mapping[str, Any], where: str, hint: str) -> Mapping[str, Any]:
    props = need(record, "properties", where, hint)
    if not isinstance(props, Mapping):
        raise InputError(f"{where}: properties", f"must be an object; {hint}", code="invalid_event")
    return props


def _lifted(record: Mapping[str, Any]) -> dict[str, Any]:
    """Each ``properties.X`` as ``X`` too, unless the record has a top-level ``X``."""
    props = record.get("properties")
    if not isinstance(props, Mapping):
        return {}
    return {str(k): v for k, v in props.items() if k not in record}


def _json(value: Any) -> str | None:
    if value is None:
        return None
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _signin_status(props: Mapping[str, Any]) -> str | None:
    """Sentinel's ``Status``, as SigmaHQ's rules read it: ``Success`` when the sign-in's
    error code is 0, else ``Failure: <failure reason>; <additional details>``."""
    status = props.get("status")
    if not isinstance(status, Mapping):
        return None
    if status.get("errorCode") == 0:
        return "Success"
    parts = [text(status.get("failureReason")), text(status.get("additionalDetails"))]
    return "Failure: " + "; ".join(p for p in parts if p)


SIGNIN_COLUMNS: dict[str, str] = {
    "AuthenticationRequirement": "authenticationRequirement",
    "ConditionalAccessStatus": "conditionalAccessStatus",
    "RiskState": "riskState",
    "ResourceDisplayName": "resourceDisplayName",
    "ClientApp": "clientAppUsed",
    "AppDisplayName": "appDisplayName",
    "UserPrincipalName": "userPrincipalName",
    "IPAddress": "ipAddress",
    "UserAgent": "userAgent",
}
"""Sentinel ``SigninLogs`` column -> the diagnostic record's ``properties`` field."""


def entra_signin(record: Mapping[str, Any], where: str) -> Mapped:
    """An Entra ID sign-in (category ``SignInLogs`` / ``NonInteractiveUserSignInLogs``):
    type ``entra.signin``, actor ``properties.userPrincipalName``, address
    ``properties.ipAddress`` (else ``callerIpAddress``), outcome from
    ``properties.status.errorCode`` (0 is success), country and position from
    ``properties.location``. Adds Sentinel's columns (`SIGNIN_COLUMNS`, ``ResultType``,
    ``ResultDescription``, ``Status``, ``DeviceDetail.*``, ``NetworkLocationDetails``)."""
    hint = "Entra sign-in records carry time and properties (Azure Monitor schema)"
    when = rfc3339(need(record, "time", where, hint), where, "time")
    props = _properties(record, where, hint)
    extra = _lifted(record)
    extra.update({col: props[name] for col, name in SIGNIN_COLUMNS.items() if name in props})
    status = props.get("status") if isinstance(props.get("status"), Mapping) else {}
    code = status.get("errorCode") if isinstance(status, Mapping) else None
    result = record.get("resultType", code)
    extra["ResultType"] = text(result)
    extra["ResultDescription"] = text(record.get("resultDescription")) or text(
        dig(props, "status.failureReason")
    )
    extra["Status"] = _signin_status(props)
    device = props.get("deviceDetail")
    for key, value in device.items() if isinstance(device, Mapping) else ():
        extra[f"DeviceDetail.{key}"] = value
    extra["NetworkLocationDetails"] = _json(props.get("networkLocationDetails", []))
    location = props.get("location") if isinstance(props.get("location"), Mapping) else {}
    country = location.get("countryOrRegion") if isinstance(location, Mapping) else None
    coords = dig(props, "location.geoCoordinates")
    coords = coords if isinstance(coords, Mapping) else {}
    ok = code == 0 if code is not None else (None if result is None else str(result) == "0")
    return Mapped(
        time=when,
        type="entra.signin",
        actor=text(props.get("userPrincipalName")),
        source_ip=text(props.get("ipAddress")) or text(record.get("callerIpAddress")),
        user_agent=text(props.get("userAgent")),
        outcome=outcome_of(ok),
        country=iso_country(country),
        lat=_number(coords.get("latitude")),
        lon=_number(coords.get("longitude")),
        fields={k: v for k, v in extra.items() if v is not None},
    )


AUDIT_COLUMNS: dict[str, str] = {
    "OperationName": "activityDisplayName",
    "ActivityDisplayName": "activityDisplayName",
    "Category": "category",
    "Result": "result",
    "LoggedByService": "loggedByService",
    "properties.message": "activityDisplayName",
}
"""Sentinel ``AuditLogs`` column (and SigmaHQ's ``properties.message``, which its Entra audit
rules use for the activity's name) -> the diagnostic record's ``properties`` field."""


def entra_audit(record: Mapping[str, Any], where: str) -> Mapped:
    """An Entra ID audit record (category ``AuditLogs``): type
    ``entra.audit.<activity>`` (``entra.audit.add_member_to_role``), actor the initiating
    user's principal name (else the app's name), outcome ``properties.result``. Adds the
    Sentinel columns (`AUDIT_COLUMNS`, ``TargetResources``, ``InitiatedBy`` as JSON text)."""
    hint = "Entra audit records carry time, operationName and properties (Azure Monitor schema)"
    when = rfc3339(need(record, "time", where, hint), where, "time")
    props = _properties(record, where, hint)
    activity = text(props.get("activityDisplayName")) or str(
        need(record, "operationName", where, hint)
    )
    extra = _lifted(record)
    extra.update({col: props[name] for col, name in AUDIT_COLUMNS.items() if name in props})
    extra["TargetResources"] = _json(props.get("targetResources"))
    extra["InitiatedBy"] = _json(props.get("initiatedBy"))
    result = text(props.get("result"))
    actor = text(dig(props, "initiatedBy.user.userPrincipalName")) or text(
        dig(props, "initiatedBy.app.displayName")
    )
    return Mapped(
        time=when,
        type=dotted("entra", "audit", activity),
        actor=actor,
        source_ip=text(dig(props, "initiatedBy.user.ipAddress"))
        or text(record.get("callerIpAddress")),
        outcome=result.lower() if result else None,
        fields={k: v for k, v in extra.items() if v is not None},
    )


OKTA = Source(
    name="okta",
    title="Okta System Log",
    logsource=("okta", "okta", None),
    schema_url="https://developer.okta.com/docs/reference/api/system-log/#logevent-object",
    mapping=okta,
    key_field="eventType",
    standard=frozenset({"actor", "outcome", "severity"}),
)
ENTRA_SIGNIN = Source(
    name="entra-signin",
    title="Microsoft Entra ID sign-in logs",
    logsource=("azure", "signinlogs", None),
    schema_url="https://learn.microsoft.com/en-us/entra/identity/monitoring-health/reference-azure-monitor-sign-ins-log-schema",
    mapping=entra_signin,
    standard=frozenset({"time"}),
)
ENTRA_AUDIT = Source(
    name="entra-audit",
    title="Microsoft Entra ID audit logs",
    logsource=("azure", "auditlogs", None),
    schema_url="https://learn.microsoft.com/en-us/entra/identity/monitoring-health/reference-audit-activities",
    mapping=entra_audit,
    key_field="operationName",
    standard=frozenset({"time"}),
)
