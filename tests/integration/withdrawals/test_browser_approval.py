"""An approver approves in a real browser: Chromium's WebAuthn runs the page's own script.

Debian's Chromium (driven by Playwright, no browser download) loads the approval page from a
real server on 127.0.0.1, Chrome's virtual authenticator holds the approver's enrolled key,
and `navigator.credentials.get()` signs the digest shown on the page. Nothing is simulated
on Kinko's side: the server verifies the assertion exactly as for any approver.
"""

from __future__ import annotations

import base64
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
import uvicorn
from cryptography.hazmat.primitives import serialization
from fastapi.testclient import TestClient

from kinko.identity.sessions import COOKIE_NAME
from kinko.server import create_app
from tests.integration.withdrawals.exchange import RECIPIENT, Exchange
from tests.support.identity import make_token, sign_in

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture
def served(exchange: Exchange) -> Iterator[tuple[str, Any]]:
    port = _free_port()
    origin = f"http://localhost:{port}"
    ctx = exchange.ctx
    ctx.settings = ctx.settings.model_copy(update={"webauthn_origin": origin})
    app = create_app(ctx, services=exchange.services)
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline, "the test server did not start"
        time.sleep(0.05)
    try:
        yield origin, app
    finally:
        server.should_exit = True
        thread.join(10)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


@pytest.mark.parametrize("key", ["enrolled", "stranger"])
def test_approver_signs_the_digest_in_chromium(exchange: Exchange, served: Any, key: str) -> None:
    """The enrolled key approves; a stranger's key under the same credential id is refused."""
    from cryptography.hazmat.primitives.asymmetric import ec
    from playwright.sync_api import sync_playwright

    origin, app = served
    ex = exchange
    creator = make_token(ex.ctx, roles_or_permissions=["withdrawals:create"])
    api = TestClient(app, base_url="https://testserver")
    wd = api.post(
        "/v1/withdrawals",
        json={"asset": "ETH", "amount": "2", "destination": RECIPIENT},
        headers={"Authorization": f"Bearer {creator}", "Idempotency-Key": "k-browser"},
    ).json()
    assert wd["state"] == "pending_approval", wd
    bob = ex.users["bob"][1]
    assert bob is not None
    cookie, _csrf = sign_in(ex.ctx, "bob", bob)
    signing_key = bob._key if key == "enrolled" else ec.generate_private_key(ec.SECP256R1())
    private_key = signing_key.private_bytes(  # moved into Chrome's virtual authenticator
        serialization.Encoding.DER,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        try:
            context = browser.new_context()
            page = context.new_page()
            cdp = context.new_cdp_session(page)
            # A __Host- cookie must be host-only (no Domain, which Playwright's add_cookies
            # always sets): set it through CDP with the URL alone.
            cdp.send(
                "Network.setCookie",
                {
                    "name": COOKIE_NAME,
                    "value": cookie,
                    "url": f"{origin}/",
                    "secure": True,
                    "httpOnly": True,
                    "path": "/",
                },
            )
            cdp.send("WebAuthn.enable", {"enableUI": False})
            authenticator = cdp.send(
                "WebAuthn.addVirtualAuthenticator",
                {
                    "options": {
                        "protocol": "ctap2",
                        "transport": "internal",
                        "hasResidentKey": False,
                        "hasUserVerification": True,
                        "isUserVerified": True,
                        "automaticPresenceSimulation": True,
                    }
                },
            )["authenticatorId"]
            cdp.send(
                "WebAuthn.addCredential",
                {
                    "authenticatorId": authenticator,
                    "credential": {
                        "credentialId": _b64(bob.credential_id),
                        "isResidentCredential": False,
                        "rpId": ex.ctx.settings.webauthn_rp_id,
                        "privateKey": _b64(private_key),
                        "signCount": bob.sign_count,
                    },
                },
            )
            page.goto(f"{origin}/console/withdrawals/{wd['id']}")
            assert wd["digest"] in page.content()
            page.click("button[data-digest]")
            page.wait_for_selector("#approve-result:not([hidden])", timeout=30_000)
            result = page.inner_text("#approve-result")
        finally:
            browser.close()

    reader = make_token(ex.ctx, roles_or_permissions=["withdrawals:read"])
    shown = api.get(
        f"/v1/withdrawals/{wd['id']}", headers={"Authorization": f"Bearer {reader}"}
    ).json()
    approvers = [a.get("approver") or a.get("approver_id") for a in shown.get("approvals", [])]
    if key == "enrolled":
        assert result.startswith("Approved"), result
        assert ex.user("bob") in approvers, shown
    else:
        assert "signature" in result.lower() or "verif" in result.lower(), result
        assert ex.user("bob") not in approvers, shown
        assert shown["state"] == "pending_approval"
