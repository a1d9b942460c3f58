"""The console's self-inspection page (issue #17: run, view, download reports, and their
history) on both databases: the CISO runs one from the page and downloads its files; the
auditor's (a regulator's) view lists and downloads but shows no form, and says why; a
grant limited to some assets runs and downloads nothing; a refused form comes back with
the reason (a bad field, the same run in progress). Days derive from the real time."""

from __future__ import annotations

import hashlib
import re

from fastapi.testclient import TestClient

from kinko.context import Context
from kinko.identity.model import RoleGrant
from kinko.identity.permissions import Role
from kinko.inspection.evaluate import Period
from kinko.inspection.stored_runs import RunRecords
from tests.integration.inspection.test_runs import DAYS, END, record, vkey
from tests.integration.web.people import forms_in, person
from tests.unit.inspection.seed import snapshot

__all__ = ["vkey"]  # the fixture: runs sign with the audit log's key
PAGE = "/console/inspection"


def run_form(
    browser: TestClient, csrf: str, framework: str = "jp", *formats: str
) -> tuple[int, str]:
    period = {"from": DAYS[0].isoformat(), "to": END.isoformat()}
    form = {"csrf_token": csrf, "framework": framework, **period, "formats": list(formats)}
    answer = browser.post(PAGE + "/runs", data=form, follow_redirects=False)
    return answer.status_code, answer.text


def test_the_ciso_runs_from_the_page_and_the_auditor_downloads_without_a_form(
    ctx: Context, vkey: str
) -> None:
    record(ctx, [snapshot(d) for d in DAYS])
    ciso, csrf = person(ctx, "carol", [Role.CISO])
    auditor, _ = person(ctx, "dave", [Role.AUDITOR])
    page = ciso.get(PAGE).text
    [form] = forms_in(page)
    assert 'action="/console/inspection/runs"' in form
    assert 'id="inspection-run-refused"' not in page

    status, _ = run_form(ciso, csrf, "jp", "pdf", "html")
    assert status == 303
    shown = ciso.get(PAGE).text
    [run] = RunRecords(ctx).runs()
    assert run.state == "done" and run.requested_by.startswith("user:")
    links = re.findall(rf'href="(/console/inspection/runs/{run.id}/(\w+))"', shown)
    assert [kind for _, kind in links] == ["json", "html", "pdf", "sig", "proof"]
    assert f'id="run-{run.audit_seq}"' in shown and "<strong>carol</strong>" in shown

    viewed = auditor.get(PAGE).text
    assert forms_in(viewed) == []
    assert 'id="inspection-run-refused"' in viewed and "inspection:run permission" in viewed
    pdf = auditor.get(f"{PAGE}/runs/{run.id}/pdf")
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    assert pdf.headers["content-disposition"] == (
        f'attachment; filename="inspection-jp-{DAYS[0]}-{END}.pdf"'
    )
    assert "script-src 'none'" in pdf.headers["content-security-policy"]
    report = auditor.get(f"{PAGE}/runs/{run.id}/json")
    assert hashlib.sha256(report.content).hexdigest() == run.digest
    assert auditor.post(PAGE + "/runs", data={"framework": "jp"}).status_code == 403
    assert auditor.get(f"{PAGE}/runs/irun_nope/json").status_code == 404

    trend = auditor.get(PAGE + "/trend")  # the trend: kinko inspect history --html's page
    assert (
        trend.status_code == 200
        and 'filename="inspection-trend.html"' in (trend.headers["content-disposition"])
    )
    assert "Inspection runs over time" in trend.text and run.digest in trend.text
    assert 'href="/console/inspection/trend"' in viewed

    japanese = auditor.get(PAGE + "?lang=ja").text
    assert "自己点検を実行" in japanese  # the form's heading, translated


def test_a_refused_form_says_why_and_scoped_grants_run_and_download_nothing(
    ctx: Context, vkey: str
) -> None:
    record(ctx, [snapshot(d) for d in DAYS])
    ciso, csrf = person(ctx, "carol", [Role.CISO])
    status, page = run_form(ciso, csrf, "us")
    assert status == 422 and 'id="form-error"' in page and "framework" in page
    RunRecords(ctx).claim("jp", Period(DAYS[0], END), ("json",), actor="user:other")
    status, page = run_form(ciso, csrf, "jp")
    assert status == 409 and "already in progress" in page
    shown = ciso.get(PAGE).text
    assert 'id="inspection-unfinished"' in shown and 'data-state="running"' in shown

    status, _ = run_form(ciso, csrf, "kr")
    assert status == 303
    [done] = [r for r in RunRecords(ctx).runs() if r.state == "done"]
    sam, sam_csrf = person(ctx, "sam", [RoleGrant(Role.CISO, assets=("bitcoin:BTC",))])
    limited = sam.get(PAGE).text
    assert forms_in(limited) == [] and "limited to some assets or wallets" in limited
    assert "downloading needs inspection:read for every asset and wallet" in limited
    assert run_form(sam, sam_csrf, "ccss")[0] == 403
    assert sam.get(f"{PAGE}/runs/{done.id}/json").status_code == 403
