"""The console's triage pages (issue #17): the alerts within scope by status; an alert's
page where whoever holds alerts:write for it acknowledges, then closes it with a note (the
triage service's own checks: a note is required, each step in its order); others read it
and are told why they cannot triage; a form refused comes back with the reason."""

from __future__ import annotations

import re

from kinko.context import Context
from kinko.identity.model import RoleGrant
from kinko.identity.permissions import Role
from tests.integration.web.people import person
from tests.integration.web.records import stored_alert, stored_response
from tests.support.identity import make_user


def status_of(html: str) -> str:
    found = re.search(r'id="alert-status">([^<]*)<', html)
    assert found is not None
    return found.group(1)


def test_triage_acknowledge_then_close_with_a_note(ctx: Context) -> None:
    eth = stored_alert(ctx, "ETH <outflow>", asset="ethereum:ETH")
    ciso, csrf = person(ctx, "ciso", [Role.CISO])
    listed = ciso.get("/console/alerts")
    assert listed.status_code == 200 and eth in listed.text
    assert "ETH &lt;outflow&gt;" in listed.text
    page = ciso.get(f"/console/alerts/{eth}")
    assert 'id="acknowledge"' in page.text and 'id="close"' not in page.text
    done = ciso.post(
        f"/console/alerts/{eth}/triage",
        data={"csrf_token": csrf, "step": "acknowledge"},
        follow_redirects=False,
    )
    assert (done.status_code, done.headers["location"]) == (303, f"/console/alerts/{eth}")
    page = ciso.get(f"/console/alerts/{eth}")
    assert status_of(page.text) == "acknowledged" and 'id="close"' in page.text
    assert "by <strong>ciso</strong>" in page.text  # a name, not a user id
    # No note: refused, nothing changed, the page says why.
    refused = ciso.post(
        f"/console/alerts/{eth}/triage",
        data={"csrf_token": csrf, "step": "close", "resolution": "resolved", "note": " "},
    )
    assert refused.status_code == 422
    assert "say what was found" in refused.text and status_of(refused.text) == "acknowledged"
    closed = ciso.post(
        f"/console/alerts/{eth}/triage",
        data={
            "csrf_token": csrf,
            "step": "close",
            "resolution": "false_positive",
            "note": "<i>drill</i>",
        },
    )
    assert closed.status_code == 200 and status_of(closed.text) == "false positive"
    assert "&lt;i&gt;drill&lt;/i&gt;" in closed.text
    assert "it is closed (false positive)" in closed.text and 'id="close"' not in closed.text
    assert ciso.get("/console/alerts?status=open").text.count(eth) == 0
    assert eth in ciso.get("/console/alerts?status=false_positive").text
    assert ciso.get("/console/alerts?status=lost").status_code == 422


def test_readers_are_told_why_and_scopes_hold(ctx: Context) -> None:
    eth = stored_alert(ctx, "ETH outflow", asset="ethereum:ETH")
    btc = stored_alert(ctx, "BTC outflow", asset="bitcoin:BTC")
    auditor, csrf = person(ctx, "aud", [Role.AUDITOR])
    page = auditor.get(f"/console/alerts/{eth}")
    assert page.status_code == 200 and 'id="acknowledge"' not in page.text
    assert "needs the alerts:write permission" in page.text
    refused = auditor.post(
        f"/console/alerts/{eth}/triage", data={"csrf_token": csrf, "step": "acknowledge"}
    )
    assert refused.status_code == 403
    scoped, csrf = person(ctx, "btc-ciso", [RoleGrant(Role.CISO, assets=("bitcoin:BTC",))])
    listed = scoped.get("/console/alerts").text
    assert btc in listed and eth not in listed
    assert scoped.get(f"/console/alerts/{eth}").status_code == 403
    outside = scoped.post(
        f"/console/alerts/{eth}/triage", data={"csrf_token": csrf, "step": "acknowledge"}
    )
    assert outside.status_code == 403
    assert status_of(auditor.get(f"/console/alerts/{eth}").text) == "open"
    nobody, _ = person(ctx, "nobody", [])
    assert nobody.get("/console/alerts").status_code == 403


def test_assign_by_username_shows_the_name_and_refuses_who_cannot_triage(ctx: Context) -> None:
    eth = stored_alert(ctx, "ETH outflow", asset="ethereum:ETH")
    ciso, csrf = person(ctx, "ciso", [Role.CISO])
    make_user(ctx, "sam", [Role.SECURITY_ADMIN], with_authenticator=False)
    make_user(ctx, "rita", [Role.REQUESTER], with_authenticator=False)
    page = ciso.get(f"/console/alerts/{eth}")
    assert 'id="assign"' in page.text and 'id="alert-assignee"' not in page.text
    done = ciso.post(
        f"/console/alerts/{eth}/triage",
        data={"csrf_token": csrf, "step": "assign", "assignee": "sam"},
        follow_redirects=False,
    )
    assert done.status_code == 303
    page = ciso.get(f"/console/alerts/{eth}")
    assert "<strong>sam</strong>" in page.text.split('id="alert-assignee"')[1].split("</td>")[0]
    # someone who does not triage alerts, and nobody of that name: refused, nothing changed
    for name, why in (("rita", "is not an active person who triages"), ("ghost", "no user")):
        refused = ciso.post(
            f"/console/alerts/{eth}/triage",
            data={"csrf_token": csrf, "step": "assign", "assignee": name},
        )
        assert refused.status_code == 422 and why in refused.text, name
        assert "<strong>sam</strong>" in refused.text
    auditor, csrf = person(ctx, "aud", [Role.AUDITOR])
    assert 'id="assign"' not in auditor.get(f"/console/alerts/{eth}").text
    denied = auditor.post(
        f"/console/alerts/{eth}/triage",
        data={"csrf_token": csrf, "step": "assign", "assignee": "sam"},
    )
    assert denied.status_code == 403


def test_responses_show_their_state_and_link_the_release_while_in_force(ctx: Context) -> None:
    eth = stored_alert(ctx, "ETH outflow", asset="ethereum:ETH")
    in_force = stored_response(ctx, eth)
    released = stored_response(ctx, eth, released=True)
    declined = stored_response(ctx, eth, status="skipped")
    auditor, _ = person(ctx, "aud", [Role.AUDITOR])
    html = auditor.get(f"/console/alerts/{eth}").text

    def item(response_id: str) -> str:
        found = re.search(rf'<li id="response-{response_id}">(.*?)</li>', html, re.S)
        assert found is not None, response_id
        return found.group(1)

    assert "in force" in item(in_force)
    assert f'href="/console/approvals/response-release/{in_force}"' in item(in_force)
    assert "released at" in item(released) and "href" not in item(released)
    assert "skipped" in item(declined) and "href" not in item(declined)
