"""The console's freezes, address-book and proposals pages (issue #17): each gated by the
permission and scope of the API route for the same data; freeze and propose forms for
whoever may use them (the service's refusals come back as the page with the reason); the
second person's vote is identity's proposal page, linked from each; an auditor reads
everything and gets no form."""

from __future__ import annotations

import re

from kinko.context import Context
from kinko.core.amount import Asset
from kinko.custody import wallets
from kinko.identity.model import RoleGrant
from kinko.identity.permissions import Role
from tests.integration.web.people import forms_in, person

ADDRESS = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"
BTC_ONLY = ("bitcoin:BTC",)


def proposal_links(html: str) -> list[str]:
    return re.findall(r'href="/console/approvals/proposal/(prp_[0-9a-z]+)"', html)


def test_freeze_then_propose_lifting_it_and_the_vote_is_linked(ctx: Context) -> None:
    # lifting a freeze is proposed by a security admin; reading freezes needs custody:read
    ciso, csrf = person(ctx, "ciso", [Role.CISO, Role.SECURITY_ADMIN])
    plain, _ = person(ctx, "ciso2", [Role.CISO])
    with ctx.db.transaction() as session:
        wallets.unsafe_register_asset(ctx, session, Asset("ETH", "ethereum", 18), actor="user:t")
    page = ciso.get("/console/freezes")
    assert page.status_code == 200 and 'id="freeze"' in page.text and 'id="no-freezes"' in page.text
    refused = ciso.post(
        "/console/freezes",
        data={"csrf_token": csrf, "scope": "asset", "target": "ethereum:ETH", "reason": " "},
    )
    assert refused.status_code == 422 and 'id="form-error"' in refused.text
    assert 'id="no-freezes"' in refused.text  # nothing was frozen
    done = ciso.post(
        "/console/freezes",
        data={"csrf_token": csrf, "scope": "asset", "target": "ethereum:ETH", "reason": "<drill>"},
        follow_redirects=False,
    )
    assert (done.status_code, done.headers["location"]) == (303, "/console/freezes")
    page = ciso.get("/console/freezes").text
    freeze_id = re.search(r'id="freeze-(frz_[0-9a-z]+)"', page)
    assert freeze_id is not None, page
    assert "&lt;drill&gt;" in page and "<strong>ciso</strong>" in page
    assert f'action="/console/freezes/{freeze_id.group(1)}/unfreeze"' in page
    # a CISO alone holds freeze:release but may not propose it: no form, identity's reason
    alone = plain.get("/console/freezes").text
    assert "unfreeze" not in "".join(forms_in(alone)) and 'id="lifting-refused"' in alone
    assert "security_admin" in alone
    lifted = ciso.post(
        f"/console/freezes/{freeze_id.group(1)}/unfreeze",
        data={"csrf_token": csrf, "reason": "drill over"},
        follow_redirects=False,
    )
    assert lifted.status_code == 303
    page = ciso.get("/console/freezes").text
    [vote] = proposal_links(page)
    assert "unfreeze" not in "".join(forms_in(page))  # proposed once: no second form
    # the proposals page lists it with who proposed it, linking to the same vote
    listed = ciso.get("/console/proposals").text
    assert vote in proposal_links(listed) and 'data-kind="release_freeze"' in listed
    assert "<strong>ciso</strong>" in listed
    # the auditor reads both pages and has no form; a form posted anyway is refused
    auditor, csrf_a = person(ctx, "aud", [Role.AUDITOR])
    seen = auditor.get("/console/freezes")
    assert seen.status_code == 200 and freeze_id.group(1) in seen.text
    assert vote in proposal_links(seen.text) and forms_in(seen.text) == []
    assert vote in proposal_links(auditor.get("/console/proposals").text)
    posted = auditor.post(
        "/console/freezes",
        data={"csrf_token": csrf_a, "scope": "all", "reason": "not mine to do"},
    )
    assert posted.status_code == 403
    # outside the reader's scope (an ETH freeze, a BTC reader): neither it nor its proposal
    scoped, csrf_s = person(ctx, "btc-ciso", [RoleGrant(Role.CISO, assets=BTC_ONLY)])
    assert freeze_id.group(1) not in scoped.get("/console/freezes").text
    assert vote not in scoped.get("/console/proposals").text
    eth_freeze = {"scope": "asset", "target": "ethereum:ETH", "reason": "not my asset"}
    assert (
        scoped.post("/console/freezes", data={**eth_freeze, "csrf_token": csrf_s}).status_code
        == 403
    )
    outside = scoped.post(
        f"/console/freezes/{freeze_id.group(1)}/unfreeze",
        data={"csrf_token": csrf_s, "reason": "not my chain"},
    )
    assert outside.status_code == 403
    nobody, _ = person(ctx, "nobody", [])
    assert nobody.get("/console/freezes").status_code == 403
    assert nobody.get("/console/proposals").status_code == 403


def test_propose_an_address_and_the_approval_is_identitys_page(ctx: Context) -> None:
    requester, csrf = person(ctx, "rita", [Role.REQUESTER])
    page = requester.get("/console/address-book")
    assert page.status_code == 200 and 'id="propose-entry"' in page.text
    entry = {
        "csrf_token": csrf,
        "chain": "ethereum",
        "address": ADDRESS,
        "label": "Partner <Beta>",
        "owner_kind": "partner",
        "reason": "new partner",
    }
    refused = requester.post("/console/address-book", data=entry)  # no tier ticked
    assert refused.status_code == 422 and "tick at least one tier" in refused.text
    done = requester.post(
        "/console/address-book", data={**entry, "tiers": "hot"}, follow_redirects=False
    )
    assert done.status_code == 303, done.text
    page = requester.get("/console/address-book").text
    [vote] = proposal_links(page)
    assert "Partner &lt;Beta&gt;" in page and "<strong>rita</strong>" in page
    auditor, csrf_a = person(ctx, "aud", [Role.AUDITOR])
    seen = auditor.get("/console/address-book").text
    assert vote in proposal_links(seen) and forms_in(seen) == []
    assert vote in proposal_links(auditor.get("/console/proposals").text)
    posted = auditor.post("/console/address-book", data={**entry, "csrf_token": csrf_a})
    assert posted.status_code == 403
    scoped, csrf_s = person(ctx, "btc-rita", [RoleGrant(Role.REQUESTER, assets=BTC_ONLY)])
    assert vote not in scoped.get("/console/address-book").text
    outside = scoped.post(
        "/console/address-book", data={**entry, "csrf_token": csrf_s, "tiers": "hot"}
    )
    assert outside.status_code == 403
    # the vote page is identity's: a senior approver is shown it
    senior, _ = person(ctx, "sam", [Role.SENIOR_APPROVER])
    assert senior.get(f"/console/approvals/proposal/{vote}").status_code == 200
