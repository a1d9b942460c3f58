"""The console's dashboard (issue #17 point 1): each panel shown only with the permission
the API asks for the same data, showing that data — cold share per regime against its
threshold with the snapshots' days, proposals waiting for my vote, open alerts, freezes,
the audit log, screening freshness, the last self-inspection — and a panel whose data
cannot be read says why and shows nothing of it."""

from __future__ import annotations

import re
from datetime import timedelta

from fastapi.testclient import TestClient

from kinko.context import Context
from kinko.core.clock import FixedClock
from kinko.custody import holdings
from kinko.identity.model import RoleGrant
from kinko.identity.permissions import ROLE_PERMISSIONS, Role
from kinko.identity.sessions import COOKIE_NAME
from kinko.policy.model import FreezeScope
from kinko.server import create_app
from kinko.services import Services
from kinko.store.tables.audit import AuditEntryRow
from kinko.web.formatting import day
from tests.integration.custody.exchange import ACTOR, BTC, DAY, fund, set_up
from tests.integration.identity.test_four_eyes_proposals import _propose_grant
from tests.integration.web.records import stored_alert
from tests.support.identity import make_user, sign_in

BROWSER = {"Accept": "text/html"}


def page_as(ctx: Context, name: str, roles: list[Role | RoleGrant]) -> str:
    _, auth = make_user(ctx, name, roles)
    assert auth is not None
    cookie, _ = sign_in(ctx, name, auth)
    with TestClient(create_app(ctx), cookies={COOKIE_NAME: cookie}) as client:
        page = client.get("/console/", headers=BROWSER)
    assert page.status_code == 200, page.text
    assert "nonce-" in page.headers["content-security-policy"]
    return page.text


def panels_in(html: str) -> set[str]:
    return set(re.findall(r'<section class="panel" id="panel-([a-z_]+)"', html))


def section(html: str, key: str) -> str:
    found = re.search(rf'<section class="panel" id="panel-{key}".*?</section>', html, re.S)
    assert found is not None, key
    return found.group(0)


# The permission each panel's data needs in the API (None: public there).
NEEDS = {
    "withdrawals": "withdrawals:read",
    "cold_share": "custody:read",
    "proposals": "users:read",
    "alerts": "monitor:read",
    "freezes": "custody:read",
    "audit": None,
    "screening": "screening:read",
    "inspection": "inspection:read",
}


def test_each_panel_needs_the_permission_the_api_asks(ctx: Context) -> None:
    assert panels_in(page_as(ctx, "nobody", [])) == {"audit"}  # the checkpoint is public
    for role in Role:
        held = ROLE_PERMISSIONS[role]
        expected = {key for key, needs in NEEDS.items() if needs is None or needs in held}
        assert panels_in(page_as(ctx, f"as-{role.value}", [role])) == expected, role
    # custody:read limited to one asset: freezes within scope, but no cold share (it
    # spans every asset: the API refuses it too) — which the panel says in words.
    scoped = page_as(ctx, "ops", [RoleGrant(Role.OPERATOR, assets=("ethereum:ETH",))])
    assert {"cold_share", "freezes", "alerts", "screening"} <= panels_in(scoped)
    assert "inspection" not in panels_in(scoped) and "proposals" not in panels_in(scoped)
    cold = section(scoped, "cold_share")
    assert "This cannot be shown" in cold and "covers every asset and wallet" in cold
    assert "<table" not in cold


def test_cold_share_per_regime_against_its_threshold_with_the_snapshots(ctx: Context) -> None:
    ids = set_up(ctx)
    fund(ctx, ids, btc_hot=10**8, btc_cold=99 * 10**8, eth_hot=0, eth_cold=0, eth_guarantee=0)
    yesterday = DAY - timedelta(days=1)
    with ctx.db.transaction() as s:
        holdings.set_liabilities(ctx, s, {BTC: 100 * 10**8}, source="ledger", actor=ACTOR)
        holdings.set_prices(ctx, s, yesterday, "JPY", {BTC: "15000000"}, actor=ACTOR)
        holdings.take_snapshot(ctx, s, yesterday, actor=ACTOR)
    # Today more sits outside cold than Japan allows: 10 of 100 BTC.
    fund(ctx, ids, btc_hot=10 * 10**8, btc_cold=90 * 10**8, eth_hot=0, eth_cold=0, eth_guarantee=0)
    html = page_as(ctx, "aud", [Role.AUDITOR])
    jp = re.search(r'<table class="shares" id="cold-share-jp">.*?</table>', html, re.S)
    assert jp is not None
    rows = re.findall(r"<tr class=\"(\w+)\">(.*?)</tr>", jp.group(0), re.S)
    assert [cls for cls, _ in rows] == ["fail", "ok"]  # now, then yesterday's snapshot
    assert "10.00%" in rows[0][1] and "outside the threshold" in rows[0][1]
    assert day(yesterday) in rows[1][1] and "1.00%" in rows[1][1]  # the day as Babel writes it
    assert "at most 5%" in jp.group(0)
    # Korea values holdings at trailing KRW prices, and there are none: not known, and no
    # share is shown for it (never a made-up number).
    kr = re.search(r'<table class="shares" id="cold-share-kr">.*?</table>', html, re.S)
    assert kr is not None and "at least 80%" in kr.group(0)
    kr_rows = re.findall(r"<tr class=\"(\w+)\">(.*?)</tr>", kr.group(0), re.S)
    assert [cls for cls, _ in kr_rows] == ["unknown", "unknown"]
    assert all("not known" in row and "%" not in row for _, row in kr_rows)


def test_proposals_waiting_for_my_vote_and_not_for_the_proposers(ctx: Context) -> None:
    sec1, sec1_key = make_user(ctx, "sec1", [Role.SECURITY_ADMIN])
    assert sec1_key is not None
    clerk, _ = make_user(ctx, "clerk", with_authenticator=False)
    proposal = _propose_grant(ctx, sec1, clerk)  # the four-eyes tests' own
    second = section(page_as(ctx, "sec2", [Role.SECURITY_ADMIN]), "proposals")
    assert f"/console/approvals/proposal/{proposal}" in second
    auditor = section(page_as(ctx, "aud", [Role.AUDITOR]), "proposals")
    assert proposal not in auditor and "None." in auditor  # may read them, not vote
    cookie, _ = sign_in(ctx, "sec1", sec1_key)
    with TestClient(create_app(ctx), cookies={COOKIE_NAME: cookie}) as client:
        mine = section(client.get("/console/", headers=BROWSER).text, "proposals")
    assert proposal not in mine and "None." in mine  # the proposer's own


def test_alerts_freezes_audit_and_screening_show_what_the_services_hold(
    ctx: Context, services: Services
) -> None:
    alert = stored_alert(ctx, "<b>outflow</b> spike")
    with ctx.db.transaction() as s:
        freeze = services.freezes.freeze(
            s, scope=FreezeScope.CHAIN, target="ethereum", reason="drill", actor="user:x"
        )
    html = page_as(ctx, "aud", [Role.AUDITOR])
    alerts = section(html, "alerts")
    assert alert in alerts and "&lt;b&gt;outflow&lt;/b&gt; spike" in alerts
    freezes = section(html, "freezes")
    assert freeze.id in freezes and "ethereum" in freezes and "drill" in freezes
    with ctx.db.reading() as s:
        size = ctx.audit.size(s)
    assert size > 0
    audit = section(html, "audit")
    assert re.search(rf'<td id="audit-size">{size}</td>', audit), audit
    assert "none yet" in audit  # no checkpoint signed yet
    screening = section(html, "screening")
    assert 'id="screening-stale"' in screening and "No list loaded." in screening
    assert "No self-inspection has been run" in section(html, "inspection")


def _inspection_run(ctx: Context) -> int:
    with ctx.db.transaction() as s:
        return ctx.audit.append(
            s,
            actor="user:aud",
            action="inspection.run",
            subject="report.json",
            details={
                "framework": "jp",
                "from": "2026-01-01",
                "to": "2026-03-31",
                "summary": {"pass": 31, "fail": 2},
            },
        ).seq


def test_the_last_self_inspection_and_a_panel_that_cannot_be_read(ctx: Context) -> None:
    seq = _inspection_run(ctx)
    shown = section(page_as(ctx, "aud", [Role.AUDITOR]), "inspection")
    assert "jp from Jan 1, 2026 to Mar 31, 2026" in shown
    assert "31 pass, 2 fail, 0 insufficient evidence" in shown
    # The run's audit entry altered: the panel refuses it whole (never a part of it),
    # and says why; the other panels still show.
    with ctx.db.transaction() as s:
        row = s.get(AuditEntryRow, seq)
        assert row is not None
        row.entry = row.entry.replace(b'"fail":2', b'"fail":0')
    html = page_as(ctx, "aud2", [Role.AUDITOR])
    broken = section(html, "inspection")
    assert "This cannot be shown" in broken and "does not hash to its leaf hash" in broken
    assert "31 pass" not in broken and "jp from" not in broken
    assert 'id="audit-size"' in section(html, "audit")


def test_the_screening_panel_counts_the_name_hits_waiting_for_review(
    ctx: Context, services: Services, clock: FixedClock
) -> None:
    from tests.integration.web.test_screening_cases_pages import _open_case

    before = section(page_as(ctx, "aud", [Role.AUDITOR]), "screening")
    assert "No name hit waits for review." in before
    asker, _ = make_user(ctx, "asker", with_authenticator=False)
    _open_case(ctx, services, clock, str(asker))
    after = section(page_as(ctx, "aud2", [Role.AUDITOR]), "screening")
    assert '<a href="/console/screening">1 name hit waits for review</a>' in after
