"""The console's screening and self-inspection pages (issue #17): list versions with
their provenance and staleness (screening:read, as GET /v1/screening/lists), and the
review queue (empty here; test_screening_cases_pages.py has cases); past inspection runs
from the audit log with their counts per status and change (inspection:read), and an
altered run entry shown as such, with no partial history."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from kinko.context import Context
from kinko.identity.permissions import Role
from kinko.inspection.runs import ACTION
from kinko.services import Services
from kinko.store.tables.audit import AuditEntryRow
from tests.integration.web.people import forms_in, person
from tests.integration.web.records import record_run

UN = Path(__file__).parents[2] / "fixtures" / "screening" / "un_consolidated_synthetic.xml"


def test_list_versions_with_provenance(ctx: Context, services: Services) -> None:
    auditor, _ = person(ctx, "aud", [Role.AUDITOR])
    empty = auditor.get("/console/screening")
    assert empty.status_code == 200 and 'id="no-list-versions"' in empty.text
    assert 'id="screening-stale"' in empty.text  # nothing loaded: screening cannot be fresh
    person(ctx, "lena", [Role.SECURITY_ADMIN])
    services.screening.load_file(UN, actor=f"user:{loader_id(services, 'lena')}")
    html = auditor.get("/console/screening").text
    with ctx.db.reading() as session:
        [version] = services.screening.versions(session)
    assert f'id="version-{version.id}"' in html and version.sha256 in html
    assert version.list_name in html and "<strong>lena</strong>" in html
    assert 'id="screening-cases"' in html and 'id="no-screening-cases"' in html
    assert forms_in(html) == []
    requester, _ = person(ctx, "rita", [Role.REQUESTER])  # screening:read too
    assert requester.get("/console/screening").status_code == 200
    nobody, _ = person(ctx, "nobody", [])
    assert nobody.get("/console/screening").status_code == 403


def loader_id(services: Services, username: str) -> str:
    with services.ctx.db.reading() as session:
        found = services.identity.users.user_by_name(session, username)
    assert found is not None
    return found.id


def test_inspection_runs_with_counts_and_an_altered_entry_fails_closed(ctx: Context) -> None:
    auditor, _ = person(ctx, "aud", [Role.AUDITOR])
    assert 'id="no-inspection-runs"' in auditor.get("/console/inspection").text
    record_run(ctx, "cli:ops", {"pass": 40, "fail": 2, "manual": 3})
    record_run(ctx, "cli:ops", {"pass": 41, "fail": 1, "manual": 3})
    html = auditor.get("/console/inspection").text
    assert html.count('id="run-') == 2 and "ab" * 32 in html
    assert "41 (+1)" in html and "1 (-1)" in html  # change since the previous run
    assert html.index("41 (+1)") < html.index(">40<")  # newest first
    assert forms_in(html) == []
    with ctx.db.transaction() as session:
        row = session.execute(
            select(AuditEntryRow).where(AuditEntryRow.action == ACTION).limit(1)
        ).scalar_one()
        row.entry = row.entry.replace(b'"fail":2', b'"fail":0')
    altered = auditor.get("/console/inspection").text
    assert 'id="inspection-error"' in altered and 'id="run-' not in altered
    assert "does not hash to its leaf hash" in altered
    operator, _ = person(ctx, "ops", [Role.OPERATOR])  # no inspection:read
    assert operator.get("/console/inspection").status_code == 403
