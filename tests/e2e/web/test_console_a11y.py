"""Accessibility of the console (issue #17 point 4) in Debian's Chromium: axe-core
(axe-playwright-python) finds no WCAG 2.2 AA violation (tags wcag2a, wcag2aa, wcag21a,
wcag21aa, wcag22aa) on any page visited here, in English, Japanese and Korean (the
browser's own language: Accept-Language), and no page logs a console error or a CSP
report. Screenshots of each page in each language are kept (``KINKO_SCREENSHOTS=DIR``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from kinko.identity.permissions import Role
from kinko.screening.cases import Asker
from kinko.screening.freshness import ScreeningConfig
from kinko.screening.model import ListName
from kinko.screening.service import ScreeningService
from tests.e2e.web.browsing import NEW_PAGES, Watched, demo_keys, pending
from tests.integration.web.records import stored_alert
from tests.integration.withdrawals.exchange import Exchange
from tests.support.identity import make_user

pytestmark = [
    pytest.mark.slow,
    pytest.mark.timeout(420),
    pytest.mark.filterwarnings("ignore::DeprecationWarning"),
    pytest.mark.parametrize("backend", ["sqlite"]),
]
FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "screening"
WCAG_22_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
BROWSER_LOCALES = {"en": "en-US", "ja": "ja-JP", "ko": "ko-KR"}
# Who opens which pages (name, path; None: where signing in lands, the dashboard).
PAGES: dict[str, list[tuple[str, str | None]]] = {
    "anyone": [
        ("login", "/console/login"),
        ("demo-login", "/console/demo-login?next=/console/"),
        ("enrol", "/console/enrol"),
    ],
    "bob": [  # an approver
        ("dashboard", None),
        ("withdrawals", "/console/withdrawals"),
        ("withdrawal", "/console/withdrawals/{wd}"),
        ("device", "/console/device"),
        ("token-confirm", "/console/tokens/confirm"),
        ("not-found", "/console/withdrawals/wd_none"),
    ],
    "alice": [("withdrawal-refused", "/console/withdrawals/{wd}")],  # the requester
    "sec2": [  # a CISO who is a security admin
        ("dashboard", None),
        ("alerts", "/console/alerts"),
        ("alert", "/console/alerts/{alert}"),
        ("audit", "/console/audit"),
        ("audit-entry", "/console/audit/1"),
        *((name, f"/console/{name}") for name in NEW_PAGES),
        ("screening-case", "/console/screening/cases/{case}"),  # with the decide form
    ],
}


def name_hit_case(exchange: Exchange, *, asked_by: str) -> str:
    """A review case: a listed name screened (OFAC's SDN excerpt) by `asked_by`, through
    a screening service that requires that list for names (the exchange's own requires
    none, so it refuses name screening)."""
    names = ScreeningService(
        exchange.ctx,
        ScreeningConfig(required_address_lists=(), required_name_lists=(ListName("ofac-sdn"),)),
    )
    names.load_file(FIXTURES / "sdn_advanced_excerpt.xml", actor="system:test")
    asker = exchange.user(asked_by)
    with exchange.ctx.db.transaction() as session:
        verdict = names.screen_name(
            session, "Jin-Hyok Park", dob="1984-08-15", asker=Asker(f"user:{asker}", asker)
        )
    assert verdict.case_id is not None
    return verdict.case_id


def violations(page: Any) -> list[str]:
    """axe's WCAG 2.2 AA violations on the page as it is now: rule, impact, where."""
    from axe_playwright_python.sync_playwright import Axe

    found = Axe().run(
        page,
        options={"runOnly": {"type": "tag", "values": WCAG_22_AA}, "resultTypes": ["violations"]},
    )
    return [
        f"{v['id']} ({v['impact']}): {[n['target'] for n in v['nodes']][:5]}"
        for v in found.response["violations"]
    ]


class Visit:
    """One person's browser in one language: each page is opened, checked and shot."""

    def __init__(self, watched: Watched, url: str, lang: str, who: str) -> None:
        self.watched, self.url, self.lang, self.who = watched, url, lang, who
        self.found: dict[str, list[str]] = {}

    def check(self, name: str, path: str | None = None) -> None:
        page = self.watched.page
        if path is not None:
            page.goto(f"{self.url}{path}")
        page.wait_for_load_state("networkidle")
        assert page.get_attribute("html", "lang") == self.lang, (name, self.lang)
        self.found[f"{name} as {self.who} [{self.lang}]"] = violations(page)
        self.watched.shot(f"a11y-{name}-{self.who}-{self.lang}")


@pytest.mark.parametrize("lang", ["en", "ja", "ko"])
def test_every_page_has_no_wcag_22_aa_violation(
    served: str, exchange: Exchange, browser: Any, shots: Path, lang: str
) -> None:
    wd = pending(exchange)
    alert = stored_alert(exchange.ctx, "Hot wallet outflow", asset="ETH")
    case = name_hit_case(exchange, asked_by="alice")
    _, chief = make_user(exchange.ctx, "sec2", [Role.CISO, Role.SECURITY_ADMIN])
    demo_keys(exchange, {**{n: exchange.users[n][1] for n in ("alice", "bob")}, "sec2": chief})
    locale = BROWSER_LOCALES[lang]
    visits = []
    probe = browser.new_page()  # the checker itself sees a page without lang or labels
    probe.set_content("<!doctype html><html><body><input name=q></body></html>")
    assert {v.split(" ")[0] for v in violations(probe)} >= {"html-has-lang", "label"}
    probe.close()

    for who, pages in PAGES.items():
        visit = Visit(Watched(browser.new_context(locale=locale), shots), served, lang, who)
        if who != "anyone":
            visit.watched.sign_in(served, who)
        for name, path in pages:
            visit.check(name, path and path.format(wd=wd["id"], alert=alert, case=case))
        visits.append(visit)
    # what the browser logs on the error page: the page's own status, once
    assert visits[1].watched.problems == [
        "Failed to load resource: the server responded with a status of 404 (Not Found)"
    ]
    visits[1].watched.problems.clear()

    found = {page: v for visit in visits for page, v in visit.found.items() if v}
    assert found == {}, "\n".join(f"{page}: {v}" for page, v in found.items())
    for visit in visits:
        assert visit.watched.problems == [], (visit.who, visit.watched.problems)
