"""Review cases for name hits (issue #17) on both databases: a HIT opens one case per
subject and set of list versions, a clear opens none; a second person decides it once,
with a reason, audited — through the service, the API and the CLI."""

from __future__ import annotations

import getpass
import json
import threading
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from kinko.context import Context
from kinko.core.clock import FixedClock
from kinko.core.errors import Conflict, InputError, PermissionDenied
from kinko.screening.cases import Asker, CaseState, Decision
from kinko.screening.model import VerdictStatus
from kinko.screening.rescreen import RescreenTarget
from kinko.screening.service import ScreeningService
from kinko.server import create_app
from kinko.services import Services
from kinko.store.tables.audit import AuditEntryRow
from kinko.store.tables.screening import ScreeningCaseRow
from tests.support.cli_api import kinko, route_cli_to_api, session_of
from tests.support.identity import bearer, make_user

FIXTURES = Path(__file__).parents[2] / "fixtures" / "screening"
PARK = {"name": "Jin-Hyok Park", "dob": "1984-08-15", "nationality": "DPRK"}


@pytest.fixture
def loaded(services: Services, clock: FixedClock) -> ScreeningService:
    """OFAC and UN lists loaded, the clock a day after OFAC's publication."""
    clock.set(clock.now().replace(year=2024, month=5, day=29))
    services.screening.load_file(FIXTURES / "sdn_advanced_excerpt.xml", actor="system:test")
    services.screening.load_file(FIXTURES / "un_consolidated_synthetic.xml", actor="system:test")
    return services.screening


def _count(ctx: Context) -> int:
    with ctx.db.reading() as session:
        return int(session.scalar(select(func.count()).select_from(ScreeningCaseRow)) or 0)


def _audit(ctx: Context, action: str) -> list[AuditEntryRow]:
    with ctx.db.reading() as session:
        rows = session.scalars(select(AuditEntryRow).where(AuditEntryRow.action == action))
        found = list(rows)
        session.expunge_all()
    return found


def test_a_hit_opens_one_case_per_subject_and_list_versions(
    ctx: Context, loaded: ScreeningService
) -> None:
    with ctx.db.transaction() as s:
        hit = loaded.screen_name(s, **PARK, asker=Asker("user:usr_a", "usr_a"))
        clear = loaded.screen_name(s, "Maria Gonzalez", asker=Asker("user:usr_a", "usr_a"))
    assert hit.status is VerdictStatus.HIT and hit.case_id is not None
    assert clear.status is VerdictStatus.CLEAR and clear.case_id is None
    assert hit.to_dict()["case"] == hit.case_id and clear.to_dict()["case"] is None
    with ctx.db.transaction() as s:  # the same subject, written another way, another asker
        again = loaded.screen_name(
            s, "PARK Jin Hyok", dob="1984-08-15", nationality="dprk", asker=Asker("user:b", "b")
        )
    assert again.case_id == hit.case_id and _count(ctx) == 1
    with ctx.db.reading() as s:
        case = loaded.cases.get(s, hit.case_id)
    assert case.name == "Jin-Hyok Park" and case.dob == "1984-08-15"
    assert case.nationality == "DPRK" and case.requested_by == "user:usr_a"
    assert case.askers == ("usr_a", "b")  # neither may decide it
    assert case.hits[0]["source_ref"] == "24389" and case.hits[0]["score"] >= case.threshold
    assert case.list_versions == hit.list_versions and case.threshold == hit.threshold
    [opened] = _audit(ctx, "screening.case_opened")
    assert opened.actor == "user:usr_a" and opened.subject == f"screening_case:{hit.case_id}"
    [asked] = _audit(ctx, "screening.case_asked")  # who may not decide it changed: recorded
    assert asked.actor == "user:b" and asked.subject == opened.subject
    # a new list version is a new question: a new case
    loaded.load_file(FIXTURES / "kinko_lists_synthetic.csv", actor="system:test")
    with ctx.db.transaction() as s:
        newer = loaded.screen_name(s, **PARK, asker=Asker("local:ops"))
    assert newer.case_id not in (None, hit.case_id) and _count(ctx) == 2


def test_re_screening_a_person_opens_their_case_asked_by_whoever_re_screened(
    ctx: Context, loaded: ScreeningService
) -> None:
    people = [RescreenTarget.for_name("customer", "cu_9", name="Pak Jin Hyok", dob="1984")]
    service = ScreeningService(ctx, loaded.config, rescreen_from=[lambda _session: people])
    alerts = service.rescreen_all(actor="user:usr_r")
    assert [a.target_ref for a in alerts] == ["cu_9"]
    with ctx.db.reading() as s:
        [case] = service.cases.list(s, state=CaseState.OPEN)
    assert case.name == "Pak Jin Hyok" and case.requested_by == "user:usr_r"
    assert case.askers == ("usr_r",)
    service.rescreen_all(actor="system:rescreen")  # the same lists: the same case
    assert _count(ctx) == 1
    # Through an API token: the actor is the token, the person behind it asks too, so a
    # security admin re-screening with a token cannot then decide what it opened.
    service.rescreen_all(actor="token:tok_1", asker=Asker("token:tok_1", "usr_owner"))
    with ctx.db.reading() as s:
        [case] = service.cases.list(s, state=CaseState.OPEN)
    assert case.askers == ("usr_r", "usr_owner")


def test_a_decision_is_once_with_a_reason_and_never_by_an_asker(
    ctx: Context, loaded: ScreeningService
) -> None:
    with ctx.db.transaction() as s:
        case_id = loaded.screen_name(s, **PARK, asker=Asker("user:usr_a", "usr_a")).case_id
    assert case_id is not None

    def decide(who: str, reason: str = "DOB and nationality match the SDN entry") -> None:
        with ctx.db.transaction() as s:
            loaded.cases.decide(
                s,
                case_id,
                decision=Decision.TRUE_MATCH,
                reason=reason,
                actor=f"user:{who}",
                user_id=who,
            )

    with pytest.raises(PermissionDenied) as own:
        decide("usr_a")
    assert own.value.code == "screening_own_case" and "second person" in own.value.message
    with pytest.raises(InputError) as empty:
        decide("usr_b", reason="   ")
    assert empty.value.field == "reason"
    assert _audit(ctx, "screening.case_decided") == []  # refusals change nothing
    decide("usr_b")
    with pytest.raises(Conflict) as twice:
        decide("usr_c")
    assert twice.value.code == "screening_case_decided" and twice.value.http_status == 409
    with ctx.db.reading() as s:
        case = loaded.cases.get(s, case_id)
    assert case.decision is Decision.TRUE_MATCH and case.decided_by == "user:usr_b"
    [decided] = _audit(ctx, "screening.case_decided")
    assert decided.actor == "user:usr_b"
    assert b"true_match" in decided.entry and b"DOB and nationality" in decided.entry


def test_the_api_lists_reads_and_decides_cases(
    ctx: Context, loaded: ScreeningService, services: Services
) -> None:
    client = TestClient(create_app(ctx, services=services))
    sam_id, _ = make_user(ctx, "sam", ["security_admin"], with_authenticator=False)
    vera_id, _ = make_user(ctx, "vera", ["security_admin"], with_authenticator=False)
    make_user(ctx, "rita", ["requester"], with_authenticator=False)
    sam, vera, rita = (bearer(session_of(ctx, n)) for n in ("sam", "vera", "rita"))

    answer = client.post("/v1/screening/name", headers=sam, json=PARK)
    assert answer.status_code == 200 and answer.json()["status"] == "hit"
    case_id = answer.json()["case"]
    assert client.post("/v1/screening/name", headers=sam, json=PARK).json()["case"] == case_id
    clear = client.post("/v1/screening/name", headers=sam, json={"name": "Maria Gonzalez"})
    assert clear.json()["case"] is None and _count(ctx) == 1

    listed = client.get("/v1/screening/cases", headers=rita, params={"state": "open"})
    assert [c["id"] for c in listed.json()["cases"]] == [case_id]
    assert listed.json()["cases"][0]["requested_by"] == f"user:{sam_id}"
    bad = client.get("/v1/screening/cases", headers=rita, params={"state": "shut"})
    assert bad.status_code == 422 and bad.json()["field"] == "state"
    missing = client.get("/v1/screening/cases/sc_nope", headers=rita)
    assert missing.status_code == 404 and missing.json()["error"] == "screening_case_not_found"

    body = {"decision": "false_positive", "reason": "born 1979 per passport; other person"}
    url = f"/v1/screening/cases/{case_id}/decide"
    reader = client.post(url, headers=rita, json=body)
    assert reader.status_code == 403 and reader.json()["error"] == "missing_permission"
    own = client.post(url, headers=sam, json=body)
    assert own.status_code == 403 and own.json()["error"] == "screening_own_case"
    maybe = client.post(url, headers=vera, json={**body, "decision": "maybe"})
    assert maybe.status_code == 422 and maybe.json()["field"] == "decision"
    blank = client.post(url, headers=vera, json={**body, "reason": "  "})
    assert blank.status_code == 422 and blank.json()["field"] == "reason"
    done = client.post(url, headers=vera, json=body)
    assert done.status_code == 200, done.text
    assert done.json()["decision"] == "false_positive" and done.json()["state"] == "decided"
    assert done.json()["decided_by"] == f"user:{vera_id}"
    again = client.post(url, headers=vera, json={**body, "decision": "true_match"})
    assert again.status_code == 409 and again.json()["error"] == "screening_case_decided"
    assert client.get("/v1/screening/cases", headers=rita, params={"state": "open"}).json() == {
        "cases": []
    }
    decided = client.get(f"/v1/screening/cases/{case_id}", headers=rita).json()
    assert decided["reason"] == body["reason"]
    assert [e.actor for e in _audit(ctx, "screening.case_decided")] == [f"user:{vera_id}"]


def test_the_cli_lists_and_decides_as_the_signed_in_person(
    ctx: Context,
    loaded: ScreeningService,
    services: Services,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    route_cli_to_api(ctx, monkeypatch, tmp_path / "config", services=services)
    sam_id, _ = make_user(ctx, "sam", ["security_admin"], with_authenticator=False)
    make_user(ctx, "vera", ["security_admin"], with_authenticator=False)
    make_user(ctx, "rita", ["requester"], with_authenticator=False)
    with ctx.db.transaction() as s:
        case_id = loaded.screen_name(s, **PARK, asker=Asker(f"user:{sam_id}", sam_id)).case_id
    assert case_id is not None
    # `kinko screen name` screens on the database itself: asked by this machine's account
    code, out = kinko(ctx, "screen", "name", "Jon Chang-hyok", "--json")
    assert code == 1 and json.loads(out)["case"] is not None
    local = json.loads(out)["case"]
    code, out = kinko(ctx, "screening", "cases", "--state", "open", "--json", as_="rita")
    listed = {c["id"]: c["requested_by"] for c in json.loads(out)["cases"]}
    assert code == 0 and listed[case_id] == f"user:{sam_id}"
    assert listed[local] == f"local:{getpass.getuser()}" and len(listed) == 2
    code, out = kinko(ctx, "screening", "cases", as_="rita")
    assert code == 0 and case_id in out and "PARK Jin Hyok" in out
    code, out = kinko(ctx, "screening", "case", case_id, as_="rita")
    assert code == 0 and "1984-08-15" in out and "24389" in out
    args = ("screening", "decide", case_id, "--decision", "true_match", "--reason", "same DOB")
    code, out = kinko(ctx, *args, as_="rita")
    assert code == 1 and "screening:write" in out
    code, out = kinko(ctx, *args, as_="sam")
    assert code == 1 and "second person" in out
    code, out = kinko(ctx, *args[:3], "--decision", "yes", "--reason", "x", as_="vera")
    assert code == 2 and "decision" in out
    code, out = kinko(ctx, *args, as_="vera")
    assert code == 0 and f"{case_id} decided: true_match" in out
    code, out = kinko(ctx, *args, "--json", as_="vera")
    assert code == 2 and '"error": "screening_case_decided"' in out and "final" in out


def test_two_new_askers_at_once_are_both_kept(ctx: Context, loaded: ScreeningService) -> None:
    """Two people screening the same subject at once are both kept as askers (neither may
    decide it); on PostgreSQL the second one's list of askers overwrote the first's."""
    with ctx.db.transaction() as s:
        case_id = loaded.screen_name(s, **PARK, asker=Asker("user:usr_a", "usr_a")).case_id
    assert case_id is not None

    def second() -> None:
        with ctx.db.transaction() as s:
            loaded.screen_name(s, **PARK, asker=Asker("user:usr_c", "usr_c"))

    other = threading.Thread(target=second)
    with ctx.db.transaction() as s:
        loaded.screen_name(s, **PARK, asker=Asker("user:usr_b", "usr_b"))
        other.start()
        other.join(timeout=1.0)  # it waits for this transaction to end
    other.join(timeout=30)
    assert not other.is_alive()
    with ctx.db.reading() as s:
        case = loaded.cases.get(s, case_id)
    assert sorted(case.askers) == ["usr_a", "usr_b", "usr_c"]
    assert case.refusal("usr_b") is not None and case.refusal("usr_c") is not None


def test_the_open_queue_is_oldest_first(
    ctx: Context, loaded: ScreeningService, clock: FixedClock
) -> None:
    """Whoever screens many names cannot push a waiting case out of the queue's page: open
    cases come oldest first (decided ones newest first)."""
    with ctx.db.transaction() as s:
        first = loaded.screen_name(s, **PARK, asker=Asker("user:a", "a"))
    clock.advance(timedelta(minutes=5))
    with ctx.db.transaction() as s:
        later = loaded.screen_name(
            s, "Jin-Hyok Park", dob="1984-08-15", nationality="KP", asker=Asker("user:b", "b")
        )
    assert first.case_id and later.case_id and first.case_id != later.case_id
    with ctx.db.reading() as s:
        queue = [c.id for c in loaded.cases.list(s, state=CaseState.OPEN)]
    assert queue == [first.case_id, later.case_id]
