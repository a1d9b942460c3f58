"""The console's dashboard and a withdrawal's page in Debian's Chromium (Playwright),
against the real app served by uvicorn on a loopback port: the demo's people sign in on
the demo sign-in page (their software authenticators, kept in the data directory, answer
the real sign-in challenge), the approver sees the withdrawal waiting on the dashboard,
opens it (amount in ETH with base units, short code of the digest), approves it; the
requester's page has no button and says why. Every page runs its scripts under the strict
policy: no console error, no CSP report. Screenshots of each page are kept
(``KINKO_SCREENSHOTS=DIR`` to keep them after the run)."""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from fastapi.testclient import TestClient

from kinko.demo.exchange import AUTH_DIR, save_authenticator
from kinko.identity.permissions import Role
from kinko.identity.sessions import COOKIE_NAME
from kinko.server import create_app
from kinko.web import demo_login
from kinko.web.formatting import short_code
from tests.integration.web.records import record_run, stored_alert
from tests.integration.withdrawals.exchange import RECIPIENT, Exchange
from tests.support.identity import make_user, person_headers, sign_in

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"]
pytestmark = [
    pytest.mark.slow,
    pytest.mark.timeout(240),
    pytest.mark.filterwarnings("ignore::DeprecationWarning"),
    pytest.mark.parametrize("backend", ["sqlite"]),  # the pages, not the database, here
]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def served(exchange: Exchange) -> Iterator[str]:
    app = create_app(exchange.ctx, services=exchange.services)
    demo_login.install(app)
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    try:
        yield f"http://localhost:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)


@pytest.fixture
def shots(tmp_path: Path) -> Path:
    """Where the screenshots go (``KINKO_SCREENSHOTS`` keeps them after the run)."""
    folder = Path(os.environ.get("KINKO_SCREENSHOTS") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        try:
            yield launched
        finally:
            launched.close()


def demo_keys(exchange: Exchange, keys: dict[str, Any]) -> None:
    """Keep these people's authenticators where the demo sign-in page finds them."""
    folder = exchange.ctx.settings.data_dir / AUTH_DIR
    folder.mkdir(exist_ok=True)
    for name, key in keys.items():
        assert key is not None
        save_authenticator(folder, name, key)


def _pending(exchange: Exchange) -> dict[str, Any]:
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


class Watched:
    """A browser page whose console errors and CSP reports are collected."""

    def __init__(self, context: Any, shots: Path) -> None:
        self.page = context.new_page()
        self.problems: list[str] = []
        self.shots = shots
        self.page.on(
            "console",
            lambda m: self.problems.append(m.text) if m.type in {"error", "warning"} else None,
        )
        self.page.on("pageerror", lambda e: self.problems.append(str(e)))

    def sign_in(self, url: str, name: str) -> None:
        self.page.goto(f"{url}/console/demo-login?next=/console/")
        self.page.click(f"form:has(input[name=username][value={name}]) button")
        self.page.wait_for_url(f"{url}/console/", timeout=30_000)

    def shot(self, name: str) -> None:
        self.page.screenshot(path=str(self.shots / f"{name}.png"), full_page=True)

    def csp_reports(self) -> list[str]:
        return [p for p in self.problems if "Content Security Policy" in p]


def test_dashboard_and_withdrawal_page_in_chromium(
    served: str, exchange: Exchange, browser: Any, shots: Path
) -> None:
    wd = _pending(exchange)
    # Saved after alice's sign-in above: a saved key's counter must be its latest.
    demo_keys(exchange, {name: exchange.users[name][1] for name in ("alice", "bob")})
    bob = Watched(browser.new_context(), shots)
    bob.sign_in(served, "bob")
    waiting = bob.page.inner_text("#panel-withdrawals")
    assert wd["id"] in waiting, waiting
    assert bob.page.inner_text("#panel-audit").count("Entries") == 1
    bob.shot("dashboard-bob")
    bob.page.click(f"#panel-withdrawals a[href='/console/withdrawals/{wd['id']}']")
    bob.page.wait_for_selector("#short-code")
    assert bob.page.inner_text("#short-code") == short_code(wd["digest"])
    amount = bob.page.inner_text("#intent-amount")
    assert "2 ETH" in amount and str(2 * 10**18) in amount, amount
    assert bob.page.is_visible("button[data-approve]")
    bob.shot("withdrawal-bob")
    # The policy's own probe: an inline script added to the page is refused.
    injected = bob.page.evaluate(
        """() => { window.__ran = false; const s = document.createElement('script');
        s.textContent = 'window.__ran = true'; document.body.appendChild(s);
        return window.__ran; }"""
    )
    assert injected is False  # no nonce: the browser refuses to run it
    assert bob.csp_reports(), "the refused inline script is reported"
    bob.problems.clear()
    bob.page.click("form[action^='/console/demo-approve/'] button")
    bob.page.wait_for_selector("#approval-refused")
    assert "bob has already answered" in bob.page.inner_text("#approval-refused")
    assert "approve by bob" in bob.page.inner_text("#answers")
    bob.shot("withdrawal-bob-answered")

    alice = Watched(browser.new_context(), shots)
    alice.sign_in(served, "alice")
    assert wd["id"] not in alice.page.inner_text("#panel-withdrawals")
    alice.page.goto(f"{served}/console/withdrawals/{wd['id']}")
    assert not alice.page.is_visible("button[data-approve]")
    assert "you do not hold withdrawals:approve" in alice.page.inner_text("#approval-refused")
    alice.shot("withdrawal-alice")
    alice.page.goto(f"{served}/console/withdrawals?state=pending_approval")
    assert wd["id"] in alice.page.inner_text("#withdrawals")
    alice.shot("withdrawals-list")
    for who in (bob, alice):
        assert who.problems == [], who.problems
    assert len(list(shots.glob("*.png"))) >= 5


def test_triage_an_alert_in_chromium(
    served: str, exchange: Exchange, browser: Any, shots: Path
) -> None:
    """A security admin sees the alert on the dashboard, acknowledges it and closes it with
    a note through the page's forms (their CSRF tokens, the strict policy)."""
    raised = stored_alert(exchange.ctx, "Hot wallet outflow <spike>", asset="ETH")
    _, sec1 = make_user(exchange.ctx, "sec1", [Role.SECURITY_ADMIN])
    assert sec1 is not None
    demo_keys(exchange, {"sec1": sec1})
    admin = Watched(browser.new_context(), shots)
    admin.sign_in(served, "sec1")
    assert "Hot wallet outflow <spike>" in admin.page.inner_text("#panel-alerts")
    admin.shot("dashboard-sec1")
    admin.page.click(f"#panel-alerts a[href='/console/alerts/{raised}']")
    admin.page.click("#acknowledge button")
    admin.page.wait_for_selector("#close")
    assert admin.page.inner_text("#alert-status") == "acknowledged"
    admin.page.check("input[name=resolution][value=resolved]")
    admin.page.fill("textarea[name=note]", "a drill: the treasury's planned sweep")
    admin.page.click("#close button")
    admin.page.wait_for_selector("#triage-refused")
    assert admin.page.inner_text("#alert-status") == "resolved"
    assert "planned sweep" in admin.page.inner_text("#alert-note")
    admin.shot("alert-sec1-resolved")
    admin.page.goto(f"{served}/console/alerts?status=resolved")
    assert raised in admin.page.inner_text("#alerts")
    admin.shot("alerts-list")
    assert admin.problems == [], admin.problems


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


NEW_PAGES = ("freezes", "address-book", "proposals", "wallets", "screening", "inspection")


def changing_forms(page: Any) -> list[str]:
    """The actions of the page's forms that POST (the layout's sign-out aside)."""
    actions: list[str] = page.eval_on_selector_all(
        "form[method=post]", "forms => forms.map(f => f.getAttribute('action'))"
    )
    return [a for a in actions if a != "/console/logout"]


def test_the_new_pages_as_an_admin_and_as_the_auditor_in_chromium(
    served: str, exchange: Exchange, browser: Any, shots: Path
) -> None:
    """A CISO who is also a security admin freezes ETH and proposes lifting it through the
    freezes page's forms, finds the proposal on the proposals page and opens its vote page;
    then visits every new page. The auditor opens the same pages and finds no form. No
    console error, no CSP report on any page."""
    _, admin_key = make_user(exchange.ctx, "chief", [Role.CISO, Role.SECURITY_ADMIN])
    admin = Watched(signed_in(browser, served, exchange, "chief", admin_key), shots)
    record_run(exchange.ctx, "cli:ops", {"pass": 40, "fail": 2, "manual": 3})
    admin.page.goto(f"{served}/console/freezes")
    admin.page.select_option("#freeze select[name=scope]", "asset")
    admin.page.fill("#freeze input[name=target]", "ethereum:ETH")
    admin.page.fill("#freeze input[name=reason]", "drill <e2e>")
    admin.page.click("#freeze button")
    admin.page.wait_for_selector("#freezes")
    assert "drill <e2e>" in admin.page.inner_text("#freezes")
    admin.page.fill("form.unfreeze input[name=reason]", "drill over")
    admin.page.click("form.unfreeze button")
    admin.page.wait_for_selector("#freezes a[href^='/console/approvals/proposal/']")
    admin.shot("freezes-chief")
    admin.page.goto(f"{served}/console/proposals")
    assert admin.page.locator("#proposals tr[data-kind=release_freeze]").count() == 1
    admin.shot("proposals-chief")
    admin.page.click("#proposals a[href^='/console/approvals/proposal/']")
    admin.page.wait_for_load_state()
    admin.shot("proposal-vote-chief")  # the proposer: told why they may not vote
    for name in NEW_PAGES:
        admin.page.goto(f"{served}/console/{name}")
        assert admin.page.locator("h1").count() == 1, name
        admin.shot(f"{name}-chief")
    assert "40" in admin.page.inner_text("#inspection-runs")  # the last page visited
    admin.page.goto(f"{served}/console/wallets")
    assert "wal_eth_hot" in admin.page.inner_text("#wallets")

    auditor_key = exchange.users["dave"][1]  # the exchange's auditor
    auditor = Watched(signed_in(browser, served, exchange, "dave", auditor_key), shots)
    for name in NEW_PAGES:
        response = auditor.page.goto(f"{served}/console/{name}")
        assert response is not None and response.status == 200, name
        assert changing_forms(auditor.page) == [], name
        auditor.shot(f"{name}-auditor")
    auditor.page.goto(f"{served}/console/freezes")
    assert "drill <e2e>" in auditor.page.inner_text("#freezes")
    for who in (admin, auditor):
        assert who.problems == [], who.problems
