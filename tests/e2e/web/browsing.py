"""What the console's browser tests share: Debian's Chromium, a page whose console
errors and CSP reports are collected, people signed in (through the demo's sign-in page,
a session set as the server sets it, or their key in Chrome's virtual authenticator), and
a withdrawal waiting for approvals."""

from __future__ import annotations

import base64
import shutil
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from fastapi.testclient import TestClient

from kinko.demo.exchange import AUTH_DIR, save_authenticator
from kinko.identity.sessions import COOKIE_NAME
from kinko.server import create_app
from tests.integration.withdrawals.exchange import RECIPIENT, Exchange
from tests.support.identity import person_headers, sign_in

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"]
NEW_PAGES = ("freezes", "address-book", "proposals", "wallets", "screening", "inspection")


class Watched:
    """A browser page whose console errors and CSP reports are collected."""

    def __init__(self, context: Any, shots: Path) -> None:
        self.context = context
        self.page = context.new_page()
        self.problems: list[str] = []
        self.shots = shots
        self.page.on(
            "console",
            lambda m: self.problems.append(m.text) if m.type in {"error", "warning"} else None,
        )
        self.page.on("pageerror", lambda e: self.problems.append(str(e)))

    def sign_in(self, url: str, name: str) -> None:
        """Through the demo's sign-in page (the server answers with the person's saved
        software key: `demo_keys`)."""
        self.page.goto(f"{url}/console/demo-login?next=/console/")
        self.page.click(f"form:has(input[name=username][value={name}]) button")
        self.page.wait_for_url(f"{url}/console/", timeout=30_000)

    def shot(self, name: str) -> None:
        self.page.screenshot(path=str(self.shots / f"{name}.png"), full_page=True)

    def csp_reports(self) -> list[str]:
        return [p for p in self.problems if "Content Security Policy" in p]


def demo_keys(exchange: Exchange, keys: dict[str, Any]) -> None:
    """Keep these people's authenticators where the demo sign-in page finds them."""
    folder = exchange.ctx.settings.data_dir / AUTH_DIR
    folder.mkdir(exist_ok=True)
    for name, key in keys.items():
        assert key is not None
        save_authenticator(folder, name, key)


def security_key(watched: Watched, exchange: Exchange, name: str) -> None:
    """`name`'s enrolled key moved into Chrome's virtual authenticator (CDP), presence and
    user verification simulated: the page's own script signs with it, as with a real key."""
    key = exchange.users[name][1]
    assert key is not None
    cdp = watched.context.new_cdp_session(watched.page)
    cdp.send("WebAuthn.enable", {"enableUI": False})
    options = {
        "protocol": "ctap2",
        "transport": "usb",
        "hasResidentKey": False,
        "hasUserVerification": True,
        "isUserVerified": True,
        "automaticPresenceSimulation": True,
    }
    authenticator = cdp.send("WebAuthn.addVirtualAuthenticator", {"options": options})
    private = key._key.private_bytes(
        serialization.Encoding.DER,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    credential = {
        "credentialId": base64.b64encode(key.credential_id).decode(),
        "isResidentCredential": False,
        "rpId": exchange.ctx.settings.webauthn_rp_id,
        "privateKey": base64.b64encode(private).decode(),
        "signCount": key.sign_count,
    }
    cdp.send(
        "WebAuthn.addCredential",
        {"authenticatorId": authenticator["authenticatorId"], "credential": credential},
    )


def pending(exchange: Exchange) -> dict[str, Any]:
    """A withdrawal of 2 ETH alice asked for through the API, waiting for approvals."""
    alice = exchange.users["alice"][1]
    assert alice is not None
    with TestClient(create_app(exchange.ctx, services=exchange.services)) as client:
        made = client.post(
            "/v1/withdrawals",
            json={"asset": "ETH", "amount": "2", "destination": RECIPIENT},
            headers={**person_headers(exchange.ctx, "alice", alice), "Idempotency-Key": "e2e"},
        )
    assert made.status_code == 201 and made.json()["state"] == "pending_approval", made.text
    return dict(made.json())


def signed_in(browser: Any, url: str, exchange: Exchange, name: str, key: Any) -> Any:
    """A browser context holding `name`'s console session (signed in with their key
    through identity's ceremony; the demo's sign-in page knows the demo's people only)."""
    assert key is not None
    cookie, _ = sign_in(exchange.ctx, name, key)
    context = browser.new_context()
    # Set as the server sets it: host-only, Secure, Path=/ (a ``__Host-`` name allows no
    # Domain, which Playwright's add_cookies always gives; CDP's url alone does not).
    page = context.new_page()
    cdp = context.new_cdp_session(page)
    cdp.send(
        "Network.setCookie",
        {"name": COOKIE_NAME, "value": cookie, "url": f"{url}/", "secure": True, "path": "/"},
    )
    cdp.detach()
    page.close()
    return context


def changing_forms(page: Any) -> list[str]:
    """The actions of the page's forms that POST (the layout's sign-out aside)."""
    actions: list[str] = page.eval_on_selector_all(
        "form[method=post]", "forms => forms.map(f => f.getAttribute('action'))"
    )
    return [a for a in actions if a != "/console/logout"]
