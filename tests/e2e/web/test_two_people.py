"""Two people and an attacker, each in a browser of their own (issue #17 point 4): the
requester signs in on the ordinary sign-in page with her security key (Chrome's CDP
virtual authenticator holding her enrolled key) and asks for a withdrawal from her
session; an approver, in a second browser context and in Japanese, approves it with his
key through the page's own script; then someone with a shell on the host rewrites the
transaction waiting for signatures (DMM Bitcoin, 2024), and the second approver, in a
third context and in Korean, finds the page warning that the bytes do not match the
request — and, approving anyway, sees Kinko refuse it. Nothing leaves the wallet. No
console error and no CSP report on any page."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from kinko.chains.ethereum.adapter import EthereumAdapter
from kinko.replays.moves import transfer_payload
from kinko.store.tables.audit import AuditEntryRow
from kinko.store.tables.withdrawals import WithdrawalRow
from kinko.web import i18n
from kinko.web.script_words import script_words
from tests.e2e.web.browsing import Watched, security_key
from tests.integration.withdrawals.exchange import RECIPIENT, Exchange

pytestmark = [
    pytest.mark.slow,
    pytest.mark.timeout(240),
    pytest.mark.filterwarnings("ignore::DeprecationWarning"),
    pytest.mark.parametrize("backend", ["sqlite"]),  # the pages, not the database, here
]
THIEF = "0x000000000000000000000000000000000000dEaD"


def signed_in_with_key(
    browser: Any, url: str, exchange: Exchange, name: str, locale: str, shots: Path
) -> Watched:
    """`name` signs in on /console/login: console.js runs the WebAuthn ceremony against
    the key in the context's virtual authenticator."""
    watched = Watched(browser.new_context(locale=locale), shots)
    security_key(watched, exchange, name)
    watched.page.goto(f"{url}/console/login")
    watched.page.fill("#webauthn-login input[name=username]", name)
    watched.page.click("#webauthn-login button")
    watched.page.wait_for_url(f"{url}/console/", timeout=30_000)
    return watched


def words(lang: str) -> dict[str, str]:
    return script_words(i18n.translations(lang).gettext)


def rewrite_the_transaction(exchange: Exchange, withdrawal_id: str) -> None:
    """A shell on the host: the transaction waiting for signatures now pays the thief
    (same nonce and fees); its digest and intent on record are left as they were."""
    with exchange.ctx.db.transaction() as session:
        row = session.get(WithdrawalRow, withdrawal_id)
        assert row is not None and row.intent is not None
        row.unsigned_tx = transfer_payload(EthereumAdapter("devnet"), row.intent, THIEF, 10**18)


def test_request_approve_in_two_contexts_and_a_tampered_transaction_refused(
    served: str, exchange: Exchange, browser: Any, shots: Path
) -> None:
    alice = signed_in_with_key(browser, served, exchange, "alice", "en-US", shots)
    csrf = alice.page.get_attribute("form[action='/console/logout'] input", "value")
    status, made = alice.page.evaluate(
        """async ([csrf, destination]) => {
             const answer = await fetch("/v1/withdrawals", {
               method: "POST", credentials: "same-origin",
               headers: {"Content-Type": "application/json", "X-CSRF-Token": csrf,
                         "Idempotency-Key": "two-people"},
               body: JSON.stringify({asset: "ETH", amount: "2", destination: destination}),
             });
             return [answer.status, await answer.json()];
           }""",
        [csrf, RECIPIENT],
    )
    assert status == 201 and made["state"] == "pending_approval", made
    page_of = f"{served}/console/withdrawals/{made['id']}"
    alice.page.goto(page_of)
    assert not alice.page.is_visible("button[data-approve]")  # the requester: no button
    alice.shot("two-people-alice")

    bob = signed_in_with_key(browser, served, exchange, "bob", "ja-JP", shots)
    bob.page.goto(page_of)
    assert bob.page.get_attribute("html", "lang") == "ja"
    bob.page.click("button[data-approve]")
    bob.page.wait_for_selector("#approve-result:not([hidden])", timeout=30_000)
    said = bob.page.inner_text("#approve-result")
    ja = words("ja")
    assert said == ja["withdrawal_now"] % {"state": ja["word:pending_approval"]}, said
    bob.shot("two-people-bob-approved")

    rewrite_the_transaction(exchange, made["id"])
    carol = signed_in_with_key(browser, served, exchange, "carol", "ko-KR", shots)
    carol.page.goto(page_of)
    # The page decodes the bytes that would be signed: the thief's address, the warning
    # that they are not what was requested nor what was built, and no button.
    assert THIEF.lower() in carol.page.inner_text("#intent-destination").lower()
    assert carol.page.is_visible("#intent-differs")
    assert made["digest"] in carol.page.inner_text("#transaction-altered")
    assert not carol.page.is_visible("button[data-approve]")
    carol.shot("two-people-carol-warned")
    # Asking for a challenge anyway (a stolen session, a script): refused, in her language.
    csrf = carol.page.get_attribute("form[action='/console/logout'] input", "value")
    status, answer = carol.page.evaluate(
        """async ([csrf, id]) => {
             const answer = await fetch("/v1/withdrawals/" + id + "/approval-challenge", {
               method: "POST", credentials: "same-origin", body: "{}",
               headers: {"Content-Type": "application/json", "X-CSRF-Token": csrf},
             });
             return [answer.status, await answer.json()];
           }""",
        [csrf, made["id"]],
    )
    assert status == 403 and answer["error"] == "transaction_altered", answer
    assert answer["localised"] != answer["message"] and made["digest"] in answer["localised"]
    assert carol.problems == [  # the browser logs the refusal it was asked to fetch
        "Failed to load resource: the server responded with a status of 403 (Forbidden)"
    ]
    carol.problems.clear()

    with exchange.ctx.db.transaction() as session:
        row = session.get(WithdrawalRow, made["id"])
        assert row is not None and row.state == "pending_approval"
        refusals = session.scalars(
            select(AuditEntryRow).where(
                AuditEntryRow.subject == made["id"],
                AuditEntryRow.action == "withdrawal.approval_refused",
            )
        ).all()
        frozen = session.scalars(
            select(AuditEntryRow).where(AuditEntryRow.action == "freeze.set")
        ).all()
    assert refusals and frozen, "the refusal is audited and the wallet frozen"
    assert exchange.w3.eth.get_balance(THIEF) == 0
    for who in (alice, bob, carol):
        assert who.problems == [], who.problems
