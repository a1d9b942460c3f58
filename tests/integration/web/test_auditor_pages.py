"""The auditor's (and a regulator's) read-only view of the console (issue #17): every page
the auditor role holds the permissions for opens, with data on it, and none has a form
(the layout's sign-out aside) — no freeze, proposal, triage or approval form."""

from __future__ import annotations

from fastapi.testclient import TestClient

from kinko.custody.model import Tier
from kinko.identity.permissions import Role
from kinko.identity.softauthn import SoftAuthenticator
from kinko.policy.model import FreezeScope, OwnerKind
from kinko.server import create_app
from tests.integration.web.people import forms_in, signed_in
from tests.integration.web.records import stored_alert, stored_response
from tests.integration.withdrawals.exchange import RECIPIENT, Exchange
from tests.support.identity import make_user, person_headers


def users(exchange: Exchange) -> dict[str, SoftAuthenticator]:
    out = {}
    for name, (_, auth) in exchange.users.items():
        assert auth is not None
        out[name] = auth
    return out


PAGES = (
    "/console/",
    "/console/withdrawals",
    "/console/alerts",
    "/console/audit",
    "/console/freezes",
    "/console/address-book",
    "/console/proposals",
    "/console/wallets",
    "/console/screening",
    "/console/inspection",
)


def test_the_auditor_reads_every_page_and_gets_no_form(exchange: Exchange) -> None:
    ctx, services = exchange.ctx, exchange.services
    alice = person_headers(ctx, "alice", users(exchange)["alice"])
    made = TestClient(create_app(ctx, services=services), base_url="https://x").post(
        "/v1/withdrawals",
        json={"asset": "ETH", "amount": "2", "destination": RECIPIENT},
        headers={**alice, "Idempotency-Key": "auditor-1"},
    )
    assert made.status_code == 201, made.text
    withdrawal = made.json()["id"]
    alert = stored_alert(ctx, "ETH outflow", asset="ethereum:ETH")
    stored_response(ctx, alert)
    proposer, _ = make_user(ctx, "rita", [Role.REQUESTER], with_authenticator=False)
    with ctx.db.transaction() as session:
        services.freezes.freeze(
            session, scope=FreezeScope.ALL, target=None, reason="drill", actor="user:x"
        )
        services.address_book.propose(
            session,
            chain="ethereum",
            address="0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed",
            label="Partner",
            owner_kind=OwnerKind.PARTNER,
            tiers_allowed=[Tier.HOT],
            actor=f"user:{proposer}",
        )
    auditor, _ = signed_in(ctx, "dave", users(exchange)["dave"], services)  # the auditor
    for page in (*PAGES, f"/console/alerts/{alert}", f"/console/withdrawals/{withdrawal}"):
        shown = auditor.get(page)
        assert shown.status_code == 200, (page, shown.text[:500])
        assert forms_in(shown.text) == [], page
    assert "drill" in auditor.get("/console/freezes").text
    assert "Partner" in auditor.get("/console/address-book").text
    assert 'data-kind="address_book_entry"' in auditor.get("/console/proposals").text
