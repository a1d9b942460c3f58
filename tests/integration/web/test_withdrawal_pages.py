"""The console's withdrawal pages (issue #17 point 1): the list with filters; a
withdrawal's page with the decoded intent in the asset's units beside the base units,
names for ids (wallet, address-book label, people), the digest and its short code, the
policy's rules, the answers so far; the approve button only for whoever may approve, and
for the requester, someone not eligible, one who already answered and an expired
request the reason in words instead; the dashboard's "waiting for my approval"."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from kinko.core.clock import FixedClock
from kinko.identity.model import RoleGrant
from kinko.identity.permissions import Role
from kinko.identity.rules import MATRIX_KEY
from kinko.identity.sod import DEFAULT_MATRIX
from kinko.server import create_app
from kinko.store.tables.identity import IdentityConfigRow
from kinko.store.tables.policy import AddressBookEntryRow
from kinko.web.formatting import short_code
from tests.integration.withdrawals.exchange import RECIPIENT, Exchange
from tests.support.identity import make_user, person_headers

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")
BROWSER = {"Accept": "text/html"}


@pytest.fixture
def api(exchange: Exchange) -> TestClient:
    return TestClient(create_app(exchange.ctx, services=exchange.services), base_url="https://x")


def as_person(exchange: Exchange, name: str) -> dict[str, str]:
    auth = exchange.users[name][1]
    assert auth is not None
    return {**person_headers(exchange.ctx, name, auth), **BROWSER}


def request_eth(exchange: Exchange, api: TestClient, amount: str, key: str) -> dict[str, Any]:
    made = api.post(
        "/v1/withdrawals",
        json={"asset": "ETH", "amount": amount, "destination": RECIPIENT},
        headers={**as_person(exchange, "alice"), "Idempotency-Key": key},
    )
    assert made.status_code == 201, made.text
    assert made.json()["state"] == "pending_approval"
    return dict(made.json())


def label(exchange: Exchange, address: str, text: str) -> None:
    now = exchange.ctx.clock.now()
    with exchange.ctx.db.transaction() as session:
        session.add(
            AddressBookEntryRow(
                id="abe_test",
                chain="ethereum",
                address=address,
                label=text,
                owner_kind="customer_verified",
                tiers_allowed=["hot"],
                proposal_id="abp_test",
                proposed_by="user:x",
                approved_by="user:y",
                created_at=now,
                effective_at=now,
            )
        )


def text_of(html: str, element_id: str) -> str:
    """The text inside the element with `element_id` (tags dropped)."""
    found = re.search(rf'<(\w+)[^>]*\bid="{element_id}"[^>]*>(.*?)</\1>', html, re.S)
    assert found is not None, element_id
    return re.sub(r"<[^>]+>", "", found.group(2))


def test_the_page_shows_units_names_digest_code_rules_and_a_button(
    exchange: Exchange, api: TestClient
) -> None:
    label(exchange, RECIPIENT, "Customer <Alpha> & Co")
    wd = request_eth(exchange, api, "2.5", "page-1")
    page = api.get(f"/console/withdrawals/{wd['id']}", headers=as_person(exchange, "bob"))
    assert page.status_code == 200, page.text
    html = page.text
    amount = text_of(html, "intent-amount")
    assert "2.5 ETH" in amount and str(25 * 10**17) in amount
    destination = text_of(html, "intent-destination")
    assert RECIPIENT in destination and "Customer &lt;Alpha&gt; &amp; Co" in destination
    assert "ETH hot" in text_of(html, "intent-wallet")
    assert wd["digest"] in text_of(html, "digest")
    assert text_of(html, "short-code") == short_code(wd["digest"])
    assert "Requested by <strong>alice</strong>" in html  # a name, not a user id
    fired = text_of(html, "rules-fired")
    assert fired.strip() and all(hit["rule"] in fired for hit in wd["decision"]["fired"])
    assert 'id="red-flags"' not in html  # a plain transfer
    assert 'id="intent-differs"' not in html
    assert "data-approve" in html and 'id="approval-refused"' not in html


def test_no_button_and_the_reason_in_words_for_whoever_may_not_approve(
    exchange: Exchange, api: TestClient, clock: FixedClock
) -> None:
    wd = request_eth(exchange, api, "2", "page-2")
    page = f"/console/withdrawals/{wd['id']}"

    def refused(name: str) -> str:
        shown = api.get(page, headers=as_person(exchange, name))
        assert shown.status_code == 200, shown.text
        assert "data-approve" not in shown.text and "approve.js" not in shown.text, name
        return text_of(shown.text, "approval-refused")

    # The approval service's own words (ApprovalService.refusal), after the page's check
    # of withdrawals:approve in scope.
    # (a requester holds no withdrawals:approve where she requests: requester × approver on
    # the same scope is a separation-of-duties conflict)
    assert "you do not hold withdrawals:approve" in refused("alice")
    assert "you do not hold withdrawals:approve" in refused("dave")  # an auditor
    _, auth = make_user(exchange.ctx, "eve", [RoleGrant(Role.APPROVER, assets=("BTC",))])
    assert auth is not None
    outside = api.get(page, headers={**person_headers(exchange.ctx, "eve", auth), **BROWSER})
    assert outside.status_code == 403  # not even readable outside the scope
    bob = as_person(exchange, "bob")  # signed in first: the key's counter moves on
    answered = api.post(
        f"/v1/withdrawals/{wd['id']}/approve",
        json={"assertion": exchange.assertion_for("bob", wd["id"])},
        headers=bob,
    )
    assert answered.status_code == 200, answered.text
    assert "bob has already answered this withdrawal" in refused("bob")
    assert "data-approve" in api.get(page, headers=as_person(exchange, "carol")).text
    clock.advance(timedelta(days=30))
    assert f"withdrawal {wd['id']} expired before it was approved" in refused("carol")


def test_a_separation_of_duties_conflict_shows_no_button(
    exchange: Exchange, api: TestClient
) -> None:
    """An approver whose roles conflict under the current separation-of-duties matrix (here
    approver × operator, a matrix stored after both were granted) may not approve: the
    approval service says so, and the page shows its reason instead of a button (the
    page's own rules used to offer it)."""
    wd = request_eth(exchange, api, "2", "page-sod")
    _, auth = make_user(exchange.ctx, "frank", [Role.APPROVER, Role.OPERATOR])
    assert auth is not None
    stricter = {"roles": ["operator", "approver"], "same_scope": False}
    conflicts = [*DEFAULT_MATRIX.to_list(), stricter]
    with exchange.ctx.db.transaction() as session:
        session.add(
            IdentityConfigRow(
                key=MATRIX_KEY,
                value=conflicts,
                updated_at=exchange.ctx.clock.now(),
                updated_by="user:test",
            )
        )
    shown = api.get(
        f"/console/withdrawals/{wd['id']}",
        headers={**person_headers(exchange.ctx, "frank", auth), **BROWSER},
    )
    assert shown.status_code == 200, shown.text
    assert "data-approve" not in shown.text
    assert "frank holds conflicting roles (separation of duties)" in text_of(
        shown.text, "approval-refused"
    )


def test_the_list_filters_and_holds_to_scope(exchange: Exchange, api: TestClient) -> None:
    first = request_eth(exchange, api, "2", "list-1")
    second = request_eth(exchange, api, "3", "list-2")
    bob = as_person(exchange, "bob")
    everything = api.get("/console/withdrawals", headers=bob)
    assert everything.status_code == 200
    assert everything.text.index(second["id"]) < everything.text.index(first["id"])  # newest
    assert "<strong>3 ETH</strong>" in everything.text and str(3 * 10**18) in everything.text
    pending = api.get("/console/withdrawals?state=pending_approval&asset=ETH", headers=bob)
    assert first["id"] in pending.text and second["id"] in pending.text
    assert '<option value="pending_approval" selected>' in pending.text
    for query in ("state=confirmed", "asset=BTC", "wallet=wal_other"):
        none = api.get(f"/console/withdrawals?{query}", headers=bob)
        assert none.status_code == 200, query
        assert first["id"] not in none.text and "matches these filters" in none.text, query
    bad = api.get("/console/withdrawals?state=lost", headers=bob)
    assert bad.status_code == 422 and "pending_approval" in bad.text
    _, auth = make_user(exchange.ctx, "eve", [RoleGrant(Role.APPROVER, assets=("BTC",))])
    assert auth is not None
    btc = api.get(
        "/console/withdrawals", headers={**person_headers(exchange.ctx, "eve", auth), **BROWSER}
    )
    assert btc.status_code == 200 and first["id"] not in btc.text
    assert api.get("/console/withdrawals", headers=as_person(exchange, "dave")).status_code == 200


def test_the_dashboard_lists_what_waits_for_my_approval(
    exchange: Exchange, api: TestClient
) -> None:
    wd = request_eth(exchange, api, "2", "dash-1")

    def waiting(name: str) -> str:
        home = api.get("/console/", headers=as_person(exchange, name))
        assert home.status_code == 200
        found = re.search(r'id="panel-withdrawals".*?</section>', home.text, re.S)
        assert found is not None, name
        return found.group(0)

    assert f"/console/withdrawals/{wd['id']}" in waiting("bob")
    assert "<strong>2 ETH</strong>" in waiting("bob")
    assert wd["id"] not in waiting("alice")  # her own request
    assert wd["id"] not in waiting("dave")  # may read, may not approve
