"""Request bodies are bounded before anything reads them (issue #13, point 9), on both
databases: the real app is driven over ASGI by a client that streams its body in chunks,
so the test sees how much of it the server pulled before answering."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from fastapi.testclient import TestClient

from kinko.context import Context
from kinko.server import create_app
from tests.support.identity import bearer, make_token

CHUNK = 64 * 1024
HUNDRED_MB = 100 * 1024 * 1024


def stream(
    ctx: Context,
    path: str,
    *,
    total: int,
    declare_length: bool,
    headers: dict[str, str] | None = None,
    content_type: str = "application/json",
    payload: bytes | None = None,
) -> tuple[int, dict[str, Any], int]:
    """POST `total` bytes (`payload`, or "{" repeated) to `path` in 64 KiB chunks;
    returns (status, JSON answer, bytes the app pulled)."""
    app = create_app(ctx)
    pulled = 0
    status = 0
    body = b""
    raw_headers = [(b"content-type", content_type.encode())]
    raw_headers += [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()]
    if declare_length:
        raw_headers.append((b"content-length", str(total).encode()))
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "https",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": raw_headers,
        "client": ("198.51.100.9", 5000),
        "server": ("testserver", 443),
    }

    async def receive() -> dict[str, Any]:
        nonlocal pulled
        if pulled >= total:
            await asyncio.sleep(3600)  # the client waits for the answer
        size = min(CHUNK, total - pulled)
        chunk = b"{" * size if payload is None else payload[pulled : pulled + size]
        pulled += size
        return {"type": "http.request", "body": chunk, "more_body": pulled < total}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status, body
        if message["type"] == "http.response.start":
            status = message["status"]
        elif message["type"] == "http.response.body":
            body += message.get("body", b"")

    async def run() -> None:
        await asyncio.wait_for(app(scope, receive, send), timeout=60)

    asyncio.run(run())
    return status, json.loads(body), pulled


@pytest.mark.parametrize("declare_length", [True, False])
def test_a_large_body_before_sign_in_is_refused_unread(ctx: Context, declare_length: bool) -> None:
    """Before: the 100 MB body was read whole (and parsed) before anything refused it."""
    status, answer, pulled = stream(
        ctx, "/v1/auth/login/totp", total=HUNDRED_MB, declare_length=declare_length
    )
    assert status == 413
    assert answer["error"] == "body_too_large"
    assert "larger than 1048576 bytes" in answer["message"]
    limit = ctx.settings.max_request_bytes
    assert pulled == (0 if declare_length else limit + CHUNK)


def test_a_body_under_the_limit_is_read(ctx: Context) -> None:
    with TestClient(create_app(ctx)) as client:
        answer = client.post(
            "/v1/auth/login/totp", json={"username": "nobody", "code": "0" * 6, "pad": "x" * 900}
        )
    assert answer.status_code == 422  # the route's own validation: the body was read


def test_the_limit_is_a_setting(ctx: Context) -> None:
    ctx.settings = ctx.settings.model_copy(update={"max_request_bytes": 4096})
    status, answer, _ = stream(ctx, "/v1/auth/login/totp", total=8192, declare_length=True)
    assert (status, answer["error"]) == (413, "body_too_large")


MULTIPART = "multipart/form-data; boundary=xyz"


def _form(fields: bytes, header: bytes) -> bytes:
    """A multipart body: `fields` (parts before the file), then a 3 MiB file."""
    return (
        fields
        + b'--xyz\r\nContent-Disposition: form-data; name="file"; filename="up.csv"\r\n'
        + b"Content-Type: text/csv\r\n\r\n"
        + header
        + b"#" * (3 * 1024 * 1024)
        + b"\r\n--xyz--\r\n"
    )


def _upload(
    ctx: Context, path: str, payload: bytes, headers: dict[str, str]
) -> tuple[int, dict[str, Any], int]:
    return stream(
        ctx,
        path,
        total=len(payload),
        declare_length=True,
        content_type=MULTIPART,
        headers=headers,
        payload=payload,
    )


def test_list_uploads_allow_more_only_to_a_caller_allowed_to_upload(ctx: Context) -> None:
    path = "/v1/screening/lists"
    payload = _form(b"", b"list,entity_name,chain,address\n")
    status, answer, pulled = _upload(ctx, path, payload, {})
    assert (status, answer["error"], pulled) == (413, "body_too_large", 0)
    assert "screening:write" in answer["message"]
    reader = make_token(ctx, roles_or_permissions=["screening:read"])
    status, _, pulled = _upload(ctx, path, payload, bearer(reader))
    assert (status, pulled) == (413, 0)
    writer = make_token(ctx, roles_or_permissions=["screening:write"])
    status, answer, pulled = _upload(ctx, path, payload, bearer(writer))
    assert pulled == len(payload)  # read whole, then judged as a list file, not for its size
    assert status == 422 and answer["error"] != "body_too_large", answer


def test_statement_uploads_allow_more_only_to_a_caller_whose_import_counts(ctx: Context) -> None:
    """The 2 GiB allowance of POST /v1/custody/statements is for an unscoped holder of
    liabilities:import (the route refuses any other): a stranger, a reader and an operator
    limited to some assets are refused at 1 MiB, before the body is read."""
    path = "/v1/custody/statements"
    as_of = b'--xyz\r\nContent-Disposition: form-data; name="as_of"\r\n\r\n2020-01-01T00:00:00Z\r\n'
    payload = _form(as_of, b"account,asset,base_units\n")
    callers = {
        "nobody": {},
        "reader": bearer(make_token(ctx, roles_or_permissions=["custody:read"])),
        "scoped": bearer(
            make_token(ctx, roles_or_permissions=["liabilities:import"], assets=["bitcoin:BTC"])
        ),
    }
    for who, headers in callers.items():
        status, answer, pulled = _upload(ctx, path, payload, headers)
        assert (status, answer["error"], pulled) == (413, "body_too_large", 0), who
    importer = make_token(ctx, roles_or_permissions=["liabilities:import"])
    status, answer, pulled = _upload(ctx, path, payload, bearer(importer))
    assert pulled == len(payload)  # read whole, then judged as a statement, not for its size
    assert status == 422 and answer["error"] != "body_too_large", answer
