"""The console's dashboard and a withdrawal's page in Debian's Chromium (Playwright),
against the real app served by uvicorn on a loopback port: the demo's people sign in on
the demo sign-in page (their software authenticators, kept in the data directory, answer
the real sign-in challenge), the approver sees the withdrawal waiting on the dashboard,
opens it (amount in ETH with base units, short code of the digest), approves it; the
requester's page has no button and says why. Every page runs its scripts under the strict
policy: no console error, no CSP report. Screenshots of each page are kept
(``KINKO_SCREENSHOTS=DIR`` to keep them after the run)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from kinko.identity.permissions import Role
from kinko.web.formatting import short_code
from tests.e2e.web.browsing import (
    NEW_PAGES,
    Watched,
    changing_forms,
    demo_keys,
    pending,
    signed_in,
)
from tests.integration.web.records import record_run, stored_alert
from tests.integration.withdrawals.exchange import Exchange
from tests.support.identity import make_user

pytestmark = [
    pytest.mark.slow,
    pytest.mark.timeout(240),
    pytest.mark.filterwarnings("ignore::DeprecationWarning"),
    pytest.mark.parametrize("backend", ["sqlite"]),  # the pages, not the database, here
]


def test_dashboard_and_withdrawal_page_in_chromium(
    served: str, exchange: Exchange, browser: Any, shots: Path
) -> None:
    wd = pending(exchange)
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
