"""Cloud and platform audit logs: AWS CloudTrail, GitHub's audit log, Google Workspace's
login audit (as exported to Cloud Logging) and Kubernetes' API-server audit.

Each mapping reads the vendor's documented record (schema URL on the `Source`) and names
what is Kinko's own (time, type, actor, address, client, outcome); every vendor field also
stays under its own name (`kinko.monitor.sources.base.flatten`), which is what SigmaHQ's
rules for these logsources test.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from kinko.monitor.sources.base import (
    Mapped,
    Source,
    dig,
    dotted,
    epoch,
    iso_country,
    missing,
    need,
    outcome_of,
    rfc3339,
    text,
)


def cloudtrail(record: Mapping[str, Any], where: str) -> Mapped:
    """A CloudTrail record: type ``aws.<service>.<event name>`` (``aws.signin.console_login``,
    ``aws.secretsmanager.get_secret_value``); actor the caller's ARN (else user name or
    principal id); outcome from ``responseElements.ConsoleLogin`` for sign-ins, else
    failure when ``errorCode`` is set."""
    hint = "CloudTrail records carry eventTime, eventSource and eventName"
    when = rfc3339(need(record, "eventTime", where, hint), where, "eventTime")
    service = str(need(record, "eventSource", where, hint)).split(".", 1)[0]
    name = str(need(record, "eventName", where, hint))
    identity = record.get("userIdentity")
    identity = identity if isinstance(identity, Mapping) else {}
    actor = text(identity.get("arn")) or text(identity.get("userName"))
    actor = actor or text(identity.get("principalId"))
    console = dig(record, "responseElements.ConsoleLogin")
    ok = console == "Success" if isinstance(console, str) else record.get("errorCode") is None
    return Mapped(
        time=when,
        type=dotted("aws", service, name),
        actor=actor,
        source_ip=text(record.get("sourceIPAddress")),
        user_agent=text(record.get("userAgent")),
        outcome=outcome_of(ok),
    )


def github(record: Mapping[str, Any], where: str) -> Mapped:
    """A streamed GitHub audit-log event: type ``github.<action>``
    (``github.repo.create_actions_secret``), time ``@timestamp`` (ms since the epoch; else
    ``created_at``), actor the ``actor`` login, address ``actor_ip`` where the enterprise
    discloses it, country ``actor_location.country_code``."""
    hint = "GitHub audit-log events carry @timestamp (ms) and action"
    stamp = record.get("@timestamp", record.get("created_at"))
    if stamp is None:
        missing(where, "@timestamp", hint)
    return Mapped(
        time=epoch(stamp, where, "@timestamp", per_second=1000),
        type=dotted("github", str(need(record, "action", where, hint))),
        actor=text(record.get("actor")),
        source_ip=text(record.get("actor_ip")),
        user_agent=text(record.get("user_agent")),
        country=iso_country(dig(record, "actor_location.country_code")),
    )


def workspace_login(record: Mapping[str, Any], where: str) -> Mapped:
    """A Google Workspace login-audit entry as Cloud Logging exports it (a LogEntry whose
    ``protoPayload`` is an AuditLog from ``login.googleapis.com``): type
    ``workspace.login.<event name>`` (``workspace.login.login_failure``), actor
    ``protoPayload.authenticationInfo.principalEmail``, address
    ``protoPayload.requestMetadata.callerIp``, severity the entry's."""
    hint = "Workspace login entries carry timestamp and protoPayload.metadata.event[].eventName"
    when = rfc3339(need(record, "timestamp", where, hint), where, "timestamp")
    events = dig(record, "protoPayload.metadata.event")
    first = events[0] if isinstance(events, list) and events else events
    name = first.get("eventName") if isinstance(first, Mapping) else None
    if not isinstance(name, str) or not name:
        missing(where, "protoPayload.metadata.event.eventName", hint)
    ok = {"login_success": True, "login_failure": False}.get(str(name))
    return Mapped(
        time=when,
        type=dotted("workspace", "login", str(name)),
        actor=text(dig(record, "protoPayload.authenticationInfo.principalEmail")),
        source_ip=text(dig(record, "protoPayload.requestMetadata.callerIp")),
        user_agent=text(dig(record, "protoPayload.requestMetadata.callerSuppliedUserAgent")),
        outcome=outcome_of(ok),
        severity=text(record.get("severity")),
    )


def kubernetes(record: Mapping[str, Any], where: str) -> Mapped:
    """A Kubernetes audit event (``audit.k8s.io/v1`` ``Event``): type
    ``kubernetes.<verb>``, time ``requestReceivedTimestamp``, actor ``user.username``,
    address the first of ``sourceIPs``, outcome from ``responseStatus.code`` (< 400)."""
    hint = "Kubernetes audit events carry verb and requestReceivedTimestamp"
    stamp = need(record, "requestReceivedTimestamp", where, hint)
    ips = record.get("sourceIPs")
    code = dig(record, "responseStatus.code")
    return Mapped(
        time=rfc3339(stamp, where, "requestReceivedTimestamp"),
        type=dotted("kubernetes", str(need(record, "verb", where, hint))),
        actor=text(dig(record, "user.username")),
        source_ip=text(ips[0]) if isinstance(ips, list) and ips else None,
        user_agent=text(record.get("userAgent")),
        outcome=outcome_of(code < 400) if isinstance(code, int) else None,
    )


CLOUDTRAIL = Source(
    name="cloudtrail",
    title="AWS CloudTrail",
    logsource=("aws", "cloudtrail", None),
    schema_url="https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-event-reference-record-contents.html",
    mapping=cloudtrail,
    key_field="eventName",
)
GITHUB = Source(
    name="github",
    title="GitHub audit log",
    logsource=("github", "audit", None),
    schema_url="https://docs.github.com/en/enterprise-cloud@latest/admin/monitoring-activity-in-your-enterprise/reviewing-audit-logs-for-your-enterprise/streaming-the-audit-log-for-your-enterprise",
    mapping=github,
    key_field="action",
    standard=frozenset({"@timestamp", "actor", "user_agent"}),
)
WORKSPACE_LOGIN = Source(
    name="workspace-login",
    title="Google Workspace login audit (Cloud Logging)",
    logsource=("gcp", "google_workspace.login", None),
    schema_url="https://cloud.google.com/logging/docs/audit/gsuite-audit-logging",
    mapping=workspace_login,
    standard=frozenset({"severity"}),
)
KUBERNETES = Source(
    name="kubernetes",
    title="Kubernetes audit",
    logsource=("kubernetes", "audit", "application"),
    schema_url="https://kubernetes.io/docs/reference/config-api/apiserver-audit.v1/#audit-k8s-io-v1-Event",
    mapping=kubernetes,
    key_field="verb",
)
