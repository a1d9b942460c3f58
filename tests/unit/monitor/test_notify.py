"""Notifications: HMAC-signed webhooks to a real local HTTP server, CEF and syslog lines."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any, ClassVar

import pytest

from kinko.monitor.alert import Alert, AlertKind
from kinko.monitor.notify import (
    CefFileNotifier,
    SyslogNotifier,
    WebhookNotifier,
    cef_line,
    sign,
    verify,
)
from kinko.monitor.response_spec import ResponseAction, ResponseSpec, Scope
from kinko.monitor.service import Recorded
from tests.unit.monitor.support import T0, ev

SECRET = b"0123456789abcdef-webhook"


def alert(**change: Any) -> Alert:
    values: dict[str, Any] = {
        "rule_id": "kinko-hot-outflow-without-withdrawal",
        "title": "Hot|wallet outflow",
        "level": "critical",
        "kind": AlertKind.DETECTION,
        "time": T0,
        "response": ResponseSpec(ResponseAction.FREEZE, Scope.WALLET, Scope.WALLET),
        "evidence": ev("chain.outflow", wallet="w=1", actor="u1", amount=10**20).flat(),
        "reason": "line1\nline2 a\\b",
    }
    return Alert(**{**values, **change})


RECORDED = Recorded("alt_1", "r", "rsp_1", "freeze", "wallet", "w=1", "applied", "", "frz_1")


class _Capture(BaseHTTPRequestHandler):
    received: ClassVar[list[tuple[dict[str, str], bytes]]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.received.append((dict(self.headers), body))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        return None


@pytest.fixture
def http_server() -> Iterator[tuple[str, list[tuple[dict[str, str], bytes]]]]:
    received: ClassVar[list[tuple[dict[str, str], bytes]]] = []
    handler = type("Handler", (_Capture,), {"received": received})
    server = HTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/hook", received
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def test_webhook_is_signed_and_verifiable(http_server: tuple[str, list[Any]]) -> None:
    url, received = http_server
    WebhookNotifier(url, SECRET).send(alert(), RECORDED)
    ((headers, body),) = received
    payload = json.loads(body)
    assert payload["rule"] == "kinko-hot-outflow-without-withdrawal"
    assert payload["evidence"]["amount"] == str(10**20)  # beyond 2^53: decimal text
    assert payload["response_status"] == "applied"
    stamp, signature = headers["X-Kinko-Timestamp"], headers["X-Kinko-Signature"]
    assert signature == sign(SECRET, stamp, body)
    assert verify(SECRET, stamp, body, signature, now=T0, max_age_s=300)
    assert not verify(SECRET, stamp, body + b" ", signature, now=T0, max_age_s=300)
    assert not verify(b"another-secret-of-16", stamp, body, signature, now=T0, max_age_s=300)
    from datetime import timedelta

    late = T0 + timedelta(minutes=10)
    assert not verify(SECRET, stamp, body, signature, now=late, max_age_s=300)


def test_webhook_failure_is_counted_not_raised() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    notifier = WebhookNotifier(f"http://127.0.0.1:{port}/hook", SECRET, timeout_s=1)
    notifier.send(alert(), RECORDED)
    assert notifier.failures == 1


def test_webhook_refuses_plain_http_and_short_secret() -> None:
    with pytest.raises(ValueError, match="https"):
        WebhookNotifier("http://example.com/hook", SECRET)
    with pytest.raises(ValueError, match="16 bytes"):
        WebhookNotifier("https://example.com/hook", b"short")


def test_cef_escaping() -> None:
    line = cef_line(alert(), RECORDED)
    header, _, extension = line.partition("|rt=")
    assert header.startswith("CEF:0|Kinko|Kinko|")
    assert "|Hot\\|wallet outflow|10" in header
    assert "cs1=w\\=1" in extension
    assert "msg=line1\\nline2 a\\\\b" in extension
    assert "suser=u1" in extension and "act=freeze:applied" in extension


def test_cef_file_and_syslog_udp(tmp_path: Any) -> None:
    path = tmp_path / "alerts.cef"
    with path.open("w") as stream:
        CefFileNotifier(stream).send(alert(), RECORDED)
    assert path.read_text().count("\n") == 1
    receiver = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    receiver.bind(("127.0.0.1", 0))
    receiver.settimeout(5)
    notifier = SyslogNotifier("127.0.0.1", receiver.getsockname()[1])
    try:
        notifier.send(alert(), RECORDED)
        data = receiver.recv(65535).decode()
    finally:
        notifier.close()
        receiver.close()
    assert data.startswith("<130>1 2026-11-21T09:00:00.000000Z kinko kinko - monitor - CEF:0|")
