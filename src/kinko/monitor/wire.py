"""The frames between HTTP worker processes and the monitor hub (`kinko serve --workers`).

One frame is a 4-byte big-endian length and that many bytes of UTF-8 JSON (an object).
A request names its ``op``; a reply has ``ok``: true with the op's result, or false with
``error`` (a Kinko error code) and ``message``. JSON, not pickle: the hub never runs
what a peer sends it, it parses it (`MonitorEvent` validates every event again).
"""

from __future__ import annotations

import json
import socket
import struct
from dataclasses import asdict
from typing import Any

from kinko.core.errors import IntegrityError
from kinko.monitor.engine import RuleInfo
from kinko.monitor.service import Recorded

HEADER = struct.Struct(">I")
MAX_FRAME = 64 * 1024 * 1024  # a full API batch (10,000 events) fits many times over


class ClosedError(ConnectionError):
    """The peer closed the connection (between frames or inside one)."""


def encode(message: dict[str, Any]) -> bytes:
    body = json.dumps(message, separators=(",", ":")).encode()
    if len(body) > MAX_FRAME:
        raise IntegrityError(f"monitor frame of {len(body)} bytes exceeds {MAX_FRAME}")
    return HEADER.pack(len(body)) + body


def decode(body: bytes) -> dict[str, Any]:
    try:
        message = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise IntegrityError(f"monitor frame is not JSON: {exc}") from None
    if not isinstance(message, dict):
        raise IntegrityError("monitor frame is not a JSON object")
    return message


def _exactly(sock: socket.socket, size: int) -> bytes:
    chunks: list[bytes] = []
    while size:
        chunk = sock.recv(min(size, 1 << 20))
        if not chunk:
            raise ClosedError("the monitor connection was closed")
        chunks.append(chunk)
        size -= len(chunk)
    return b"".join(chunks)


def read_frame(sock: socket.socket) -> dict[str, Any]:
    (size,) = HEADER.unpack(_exactly(sock, HEADER.size))
    if size > MAX_FRAME:
        raise IntegrityError(f"monitor frame of {size} bytes exceeds {MAX_FRAME}")
    return decode(_exactly(sock, size))


def recorded_to_json(items: list[Recorded]) -> list[dict[str, Any]]:
    return [asdict(item) for item in items]


def recorded_from_json(items: list[dict[str, Any]]) -> list[Recorded]:
    return [Recorded(**item) for item in items]


def rules_to_json(items: list[RuleInfo]) -> list[dict[str, Any]]:
    return [asdict(item) for item in items]


def rules_from_json(items: list[dict[str, Any]]) -> list[RuleInfo]:
    return [RuleInfo(**item) for item in items]
