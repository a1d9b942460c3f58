"""Telling people: signed JSON webhooks and CEF lines (to a file or syslog over UDP).

Webhook signature: ``X-Kinko-Signature: sha256=HEX(HMAC-SHA256(secret, TS + "." + BODY))``
with ``X-Kinko-Timestamp: TS`` (Unix seconds), so a receiver can refuse replays; the body
is canonical JSON (RFC 8785). Delivery is best effort after the alert is committed: a
failure is logged and counted, never raised into the monitor (the alert already stands).

CEF follows ArcSight's "Implementing ArcSight CEF" revision 25: header fields escape
``\\`` and ``|``; extension values escape ``\\``, ``=`` and line breaks.
"""

from __future__ import annotations

import hashlib
import hmac
import socket
from datetime import datetime
from typing import Any, Protocol, TextIO

import httpx
import structlog

from kinko import __version__
from kinko.core.canonical import canonical_json
from kinko.core.clock import isoformat, utc
from kinko.monitor.alert import Alert

log = structlog.get_logger("kinko.monitor.notify")

SEVERITY = {"informational": 1, "low": 3, "medium": 5, "high": 8, "critical": 10}


class Notifier(Protocol):
    def send(self, alert: Alert, recorded: Any) -> None: ...


def payload(alert: Alert, recorded: Any) -> dict[str, Any]:
    body = alert.to_json()
    body["alert_id"] = recorded.alert_id
    body["response_status"] = recorded.status
    body["response_detail"] = recorded.detail
    body["response_target"] = recorded.target
    return body


def sign(secret: bytes, timestamp: str, body: bytes) -> str:
    mac = hmac.new(secret, timestamp.encode("ascii") + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def verify(
    secret: bytes, timestamp: str, body: bytes, signature: str, *, now: datetime, max_age_s: int
) -> bool:
    """For receivers: a valid signature over a timestamp no older than `max_age_s`."""
    try:
        age = now.timestamp() - int(timestamp)
    except ValueError:
        return False
    if abs(age) > max_age_s:
        return False
    return hmac.compare_digest(sign(secret, timestamp, body), signature)


class WebhookNotifier:
    def __init__(self, url: str, secret: bytes, *, timeout_s: float = 5.0) -> None:
        if not url.startswith(("https://", "http://127.0.0.1", "http://localhost")):
            raise ValueError("webhook url must be https:// (plain http only to localhost)")
        if len(secret) < 16:
            raise ValueError("webhook secret must be at least 16 bytes")
        self.url = url
        self._secret = secret
        self.timeout_s = timeout_s
        self.failures = 0

    def send(self, alert: Alert, recorded: Any) -> None:
        body = canonical_json(payload(alert, recorded))
        timestamp = str(int(alert.time.timestamp()))
        headers = {
            "Content-Type": "application/json",
            "X-Kinko-Timestamp": timestamp,
            "X-Kinko-Signature": sign(self._secret, timestamp, body),
        }
        try:
            response = httpx.post(self.url, content=body, headers=headers, timeout=self.timeout_s)
            response.raise_for_status()
        except httpx.HTTPError as exc:
            self.failures += 1
            log.error("webhook delivery failed", url=self.url, error=str(exc))


def _header(text: str) -> str:
    return text.replace("\\", "\\\\").replace("|", "\\|")


def _ext(text: str) -> str:
    return (
        text.replace("\\", "\\\\")
        .replace("=", "\\=")
        .replace("\r\n", "\\n")
        .replace("\n", "\\n")
        .replace("\r", "\\r")
    )


def cef_line(alert: Alert, recorded: Any) -> str:
    evidence = alert.evidence
    ext: dict[str, Any] = {
        "rt": int(alert.time.timestamp() * 1000),
        "externalId": recorded.alert_id,
        "act": f"{recorded.action}:{recorded.status}",
        "msg": alert.reason or alert.title,
        "suser": evidence.get("actor"),
        "src": evidence.get("source_ip"),
        "cs1Label": "wallet",
        "cs1": evidence.get("wallet"),
        "cs2Label": "responseTarget",
        "cs2": recorded.target,
        "outcome": evidence.get("outcome"),
    }
    extension = " ".join(f"{k}={_ext(str(v))}" for k, v in ext.items() if v is not None)
    header = "|".join(
        _header(part)
        for part in (
            "CEF:0",
            "Kinko",
            "Kinko",
            __version__,
            alert.rule_id,
            alert.title,
            str(SEVERITY.get(alert.level, 5)),
        )
    )
    return f"{header}|{extension}"


class CefFileNotifier:
    """One CEF line per alert to a text stream (a file a SIEM agent tails, or stdout)."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream

    def send(self, alert: Alert, recorded: Any) -> None:
        self.stream.write(cef_line(alert, recorded) + "\n")
        self.stream.flush()


class SyslogNotifier:
    """RFC 5424 messages carrying the CEF line, over UDP (RFC 5426), facility local0."""

    def __init__(self, host: str, port: int, *, hostname: str = "kinko") -> None:
        self.address = (host, port)
        self.hostname = hostname
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)

    def frame(self, alert: Alert, recorded: Any) -> bytes:
        severity = 2 if SEVERITY.get(alert.level, 5) >= 8 else 4  # critical / warning
        pri = 16 * 8 + severity  # local0
        stamp = isoformat(utc(alert.time))
        line = cef_line(alert, recorded)
        return f"<{pri}>1 {stamp} {self.hostname} kinko - monitor - {line}".encode()

    def send(self, alert: Alert, recorded: Any) -> None:
        try:
            self._sock.sendto(self.frame(alert, recorded), self.address)
        except OSError as exc:
            log.error("syslog delivery failed", address=self.address, error=str(exc))

    def close(self) -> None:
        self._sock.close()
