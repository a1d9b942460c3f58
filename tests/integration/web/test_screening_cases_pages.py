"""The console's review queue for name hits (issue #17): the queue on /console/screening
and a case's page, gated as GET /v1/screening/cases (screening:read); the decide form only
for whoever may decide (screening:write, not an asker, still open), others told why; what
people and lists typed shown as text."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from kinko.context import Context
from kinko.core.clock import FixedClock
from kinko.identity.permissions import Role
from kinko.screening.cases import Asker
from kinko.services import Services
from kinko.store.tables.audit import AuditEntryRow
from tests.integration.web.people import forms_in, person

FIXTURES = Path(__file__).parents[2] / "fixtures" / "screening"
MARKUP = "<i>KP</i>"


def _open_case(ctx: Context, services: Services, clock: FixedClock, asker_id: str) -> str:
    clock.set(clock.now().replace(year=2024, month=5, day=29))
    services.screening.load_file(FIXTURES / "sdn_advanced_excerpt.xml", actor="system:test")
    services.screening.load_file(FIXTURES / "un_consolidated_synthetic.xml", actor="system:test")
    with ctx.db.transaction() as session:
        verdict = services.screening.screen_name(
            session,
            "Jin-Hyok Park",
            dob="1984-08-15",
            nationality=MARKUP,
            asker=Asker(f"user:{asker_id}", asker_id),
        )
    assert verdict.case_id is not None
    return verdict.case_id


def _user_id(services: Services, username: str) -> str:
    with services.ctx.db.reading() as session:
        found = services.identity.users.user_by_name(session, username)
    assert found is not None
    return found.id


def test_the_queue_and_a_case_decided_by_a_second_person(
    ctx: Context, services: Services, clock: FixedClock
) -> None:
    sam, sam_csrf = person(ctx, "sam", [Role.SECURITY_ADMIN], services)
    case_id = _open_case(ctx, services, clock, _user_id(services, "sam"))
    auditor, auditor_csrf = person(ctx, "aud", [Role.AUDITOR], services)
    vera, vera_csrf = person(ctx, "vera", [Role.SECURITY_ADMIN], services)
    page = f"/console/screening/cases/{case_id}"

    queue = auditor.get("/console/screening").text
    assert f'id="case-{case_id}"' in queue and "<strong>sam</strong>" in queue
    assert "PARK Jin Hyok" in queue and "24389" in queue
    assert forms_in(queue) == []  # only the GET filter
    assert 'id="no-screening-cases"' in auditor.get("/console/screening?cases=decided").text
    assert auditor.get("/console/screening?cases=shut").status_code == 422

    read_only = auditor.get(page)
    assert read_only.status_code == 200 and forms_in(read_only.text) == []
    assert "screening:write permission, which you do not hold" in read_only.text
    assert MARKUP not in read_only.text and "&lt;i&gt;KP&lt;/i&gt;" in read_only.text
    assert "date of birth 1984-08-15 matches" in read_only.text
    own = sam.get(page).text
    assert forms_in(own) == [] and "you asked for this screening" in own
    assert len(forms_in(vera.get(page).text)) == 1

    decide = f"{page}/decide"
    form = {"decision": "true_match", "reason": "<script>x()</script> same DOB, KP"}
    refused = auditor.post(decide, data={**form, "csrf_token": auditor_csrf})
    assert refused.status_code == 403
    refused = sam.post(decide, data={**form, "csrf_token": sam_csrf})
    assert refused.status_code == 403
    blank = vera.post(decide, data={**form, "reason": " ", "csrf_token": vera_csrf})
    assert blank.status_code == 422 and 'id="decide-error"' in blank.text
    assert len(forms_in(blank.text)) == 1  # nothing changed: still open
    done = vera.post(decide, data={**form, "csrf_token": vera_csrf}, follow_redirects=False)
    assert done.status_code == 303 and done.headers["location"] == page

    decided = auditor.get(page).text
    assert 'id="case-decision">true match<' in decided and "<strong>vera</strong>" in decided
    assert "<script>x()" not in decided and "&lt;script&gt;x()&lt;/script&gt;" in decided
    again = vera.get(page).text
    assert forms_in(again) == [] and "decided already" in again
    twice = vera.post(decide, data={**form, "csrf_token": vera_csrf})
    assert twice.status_code == 409 and "final" in twice.text
    with ctx.db.reading() as session:
        actions = list(session.scalars(select(AuditEntryRow.action)))
    assert actions.count("screening.case_opened") == 1
    assert actions.count("screening.case_decided") == 1
    listed = auditor.get("/console/screening?cases=decided").text
    assert f'id="case-{case_id}"' in listed


def test_the_pages_need_screening_read(ctx: Context, services: Services, clock: FixedClock) -> None:
    person(ctx, "sam", [Role.SECURITY_ADMIN], services)
    case_id = _open_case(ctx, services, clock, _user_id(services, "sam"))
    nobody, _ = person(ctx, "nobody", [], services)
    assert nobody.get(f"/console/screening/cases/{case_id}").status_code == 403
    reader, _ = person(ctx, "rita", [Role.REQUESTER], services)
    assert reader.get("/console/screening/cases/sc_nope").status_code == 404
    assert forms_in(reader.get(f"/console/screening/cases/{case_id}").text) == []
