"""Screening lists keep their identity (issue #13, attack 4), on both databases.

A list's name, format and publisher are pinned at its first load. A file that changes the
format or the publisher, or shrinks the list beyond the guard, is a four-eyes proposal
(the identity proposal mechanism: a second security_admin approves) instead of replacing
the list; a local operator's CLI load of such a file is refused.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from typer.testing import CliRunner

from kinko.cli.main import app
from kinko.context import Context
from kinko.core.clock import FixedClock
from kinko.core.errors import Conflict, PermissionDenied
from kinko.core.events import SecurityEvent
from kinko.identity.approval_terms import ApprovalKind
from kinko.identity.model import UserId
from kinko.screening.model import ListFormat, VerdictStatus
from kinko.screening.service import ScreeningService
from kinko.server import create_app
from kinko.services import Services
from kinko.store.tables.audit import AuditEntryRow
from tests.support.cli_api import as_person, route_cli_to_api
from tests.support.identity import make_user, person_headers
from tests.support.votes import key_vote, vote_json

FIXTURES = Path(__file__).parents[2] / "fixtures" / "screening"
ADVANCED = FIXTURES / "sdn_advanced_excerpt.xml"
LAZARUS = "0x098B716B8Aaf21512996dC57EB0615e2383E2f96"
runner = CliRunner()


def fake_ofac_csv(path: Path, rows: int = 25) -> Path:
    """A Kinko CSV whose `list` column says ofac-sdn: `rows` made-up addresses, no Lazarus."""
    lines = ["list,entity_name,chain,address,source_ref,listed_on"]
    for i in range(rows):
        address = "0x" + hashlib.sha256(f"decoy {i}".encode()).hexdigest()[:40]
        lines.append(f"ofac-sdn,Decoy {i},ethereum,{address},decoy-{i},2024-05-01")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def status_of(ctx: Context, service: ScreeningService, address: str) -> VerdictStatus:
    with ctx.db.transaction() as session:
        return service.screen_address(session, chain="ethereum", address=address).status


def kinko(ctx: Context, *args: str, as_: str | None = None) -> tuple[int, str]:
    """`kinko ARGS`; with `as_`, run by that person with their own session."""
    env = {
        "KINKO_DATA_DIR": str(ctx.settings.data_dir),
        "KINKO_DATABASE_URL": ctx.settings.resolved_database_url,
        "KINKO_CONFIG": "",
        **(as_person(ctx, as_) if as_ else {}),
    }
    result = runner.invoke(app, list(args), env=env)
    assert "Traceback" not in result.output
    return result.exit_code, result.output


@pytest.fixture
def admins(ctx: Context) -> tuple[UserId, UserId]:
    first, _ = make_user(ctx, "ada", ["security_admin"])
    second, _ = make_user(ctx, "bob", ["security_admin"])
    return first, second


@pytest.fixture
def ofac(ctx: Context, services: Services, clock: FixedClock) -> ScreeningService:
    """The OFAC advanced excerpt loaded as ofac-sdn, the clock a day after its date."""
    clock.set(clock.now().replace(year=2024, month=5, day=29))
    service = services.screening
    service.load_file(ADVANCED, actor="system:setup")
    return service


def test_a_csv_claiming_to_be_ofac_is_a_proposal_not_a_replacement(
    ctx: Context,
    services: Services,
    ofac: ScreeningService,
    admins: tuple[UserId, UserId],
    tmp_path: Path,
) -> None:
    ada, bob = admins
    assert status_of(ctx, ofac, LAZARUS) is VerdictStatus.HIT
    result = ofac.load_file(fake_ofac_csv(tmp_path / "ofac.csv"), actor=f"user:{ada}", proposer=ada)
    assert result.versions == ()
    [proposed] = result.proposed
    assert proposed.version.list_name == "ofac-sdn"
    assert set(proposed.changes) == {"format", "publisher"}
    # Nothing changed yet: the OFAC XML stays the active version and Lazarus still hits.
    assert status_of(ctx, ofac, LAZARUS) is VerdictStatus.HIT
    with ctx.db.transaction() as s:
        [active] = ofac.versions(s)
    assert active.format is ListFormat.OFAC_ADVANCED
    roles = services.identity.roles
    no_key = services.step_ups.presented(None)  # refused by the rules, before any key
    with pytest.raises(PermissionDenied) as own, ctx.db.transaction() as s:
        roles.approve(s, proposed.proposal_id, actor=ada, vote=no_key)
    assert own.value.code == "self_approval"
    assert status_of(ctx, ofac, LAZARUS) is VerdictStatus.HIT
    vote = key_vote(ctx, bob, ApprovalKind.PROPOSAL, proposed.proposal_id)
    with ctx.db.transaction() as s:
        roles.approve(s, proposed.proposal_id, actor=bob, vote=vote)
    with ctx.db.transaction() as s:
        [active] = ofac.versions(s)
    assert (active.format, active.publisher) == (ListFormat.KINKO_CSV, "operator")
    assert active.approved_by == f"user:{bob}" and active.loaded_by == f"user:{ada}"
    assert status_of(ctx, ofac, LAZARUS) is VerdictStatus.CLEAR  # two people chose this


def test_proposer_must_be_a_security_admin(
    ctx: Context, ofac: ScreeningService, tmp_path: Path
) -> None:
    clerk, _ = make_user(ctx, "clerk", ["requester"], with_authenticator=False)
    with pytest.raises(PermissionDenied):
        ofac.load_file(fake_ofac_csv(tmp_path / "ofac.csv"), actor=f"user:{clerk}", proposer=clerk)
    assert status_of(ctx, ofac, LAZARUS) is VerdictStatus.HIT


def test_without_a_person_the_change_is_refused(
    ctx: Context, ofac: ScreeningService, tmp_path: Path
) -> None:
    with pytest.raises(Conflict) as err:
        ofac.load_file(fake_ofac_csv(tmp_path / "ofac.csv"), actor="cli:root")
    assert err.value.code == "list_identity_changed"
    assert "ofac-advanced-xml" in err.value.message and "kinko-csv" in err.value.message
    assert "two security admins" in err.value.message
    assert status_of(ctx, ofac, LAZARUS) is VerdictStatus.HIT


def test_refused_proposal_leaves_the_list_and_is_shown_refused(
    ctx: Context,
    services: Services,
    ofac: ScreeningService,
    admins: tuple[UserId, UserId],
    tmp_path: Path,
) -> None:
    ada, bob = admins
    result = ofac.load_file(fake_ofac_csv(tmp_path / "ofac.csv"), actor=f"user:{ada}", proposer=ada)
    [proposed] = result.proposed
    with ctx.db.transaction() as s:
        services.identity.roles.refuse(s, proposed.proposal_id, actor=bob, reason="not from OFAC")
    with ctx.db.transaction() as s:
        states = {v.id: v.status for v in ofac.versions(s, include_inactive=True)}
    assert states[proposed.version.id] == "refused"
    assert status_of(ctx, ofac, LAZARUS) is VerdictStatus.HIT


def test_routine_update_of_the_same_format_applies_at_once(
    ctx: Context, ofac: ScreeningService, tmp_path: Path
) -> None:
    newer = tmp_path / "sdn_advanced.xml"
    newer.write_text(
        ADVANCED.read_text(encoding="utf-8").replace("<Day>28</Day>", "<Day>29</Day>"),
        encoding="utf-8",
    )
    result = ofac.load_file(newer, actor="cli:root")
    assert [v.list_name for v in result.versions] == ["ofac-sdn"] and result.proposed == ()


def test_first_load_of_a_reserved_name_from_another_publisher_needs_four_eyes(
    ctx: Context, services: Services, clock: FixedClock, tmp_path: Path
) -> None:
    service = services.screening
    with pytest.raises(Conflict) as err:
        service.load_file(fake_ofac_csv(tmp_path / "ofac.csv"), actor="cli:root")
    assert err.value.code == "list_identity_changed"
    assert "OFAC" in err.value.message


def test_a_shrinking_list_is_a_proposal(
    ctx: Context,
    services: Services,
    ofac: ScreeningService,
    admins: tuple[UserId, UserId],
    tmp_path: Path,
) -> None:
    ada, bob = admins
    text = ADVANCED.read_text(encoding="utf-8")
    start = text.index('<DistinctParty FixedRef="32338">')
    end = text.index("</DistinctParty>", text.index('<DistinctParty FixedRef="47108">'))
    shrunk = tmp_path / "sdn_advanced.xml"
    shrunk.write_text(text[:start] + text[end + len("</DistinctParty>") :], encoding="utf-8")
    with pytest.raises(Conflict) as err:
        ofac.load_file(shrunk, actor="cli:root")
    assert err.value.code == "list_shrank"
    result = ofac.load_file(shrunk, actor=f"user:{ada}", proposer=ada)
    [proposed] = result.proposed
    assert proposed.changes == ("shrank",)
    tron = "TBHTJqAy4DhHhmT3dNceJYNRz4SdLofLre"
    vote = key_vote(ctx, bob, ApprovalKind.PROPOSAL, proposed.proposal_id)
    with ctx.db.transaction() as s:
        assert ofac.screen_address(s, chain="tron", address=tron).status is VerdictStatus.HIT
        services.identity.roles.approve(s, proposed.proposal_id, actor=bob, vote=vote)
    with ctx.db.transaction() as s:
        assert ofac.screen_address(s, chain="tron", address=tron).status is VerdictStatus.CLEAR


def test_the_same_file_proposed_twice_is_one_proposal(
    ctx: Context, ofac: ScreeningService, admins: tuple[UserId, UserId], tmp_path: Path
) -> None:
    ada, bob = admins
    path = fake_ofac_csv(tmp_path / "ofac.csv")
    first = ofac.load_file(path, actor=f"user:{ada}", proposer=ada)
    again = ofac.load_file(path, actor=f"user:{bob}", proposer=bob)
    assert [p.proposal_id for p in again.proposed] == [p.proposal_id for p in first.proposed]


def test_a_list_without_a_publish_date_is_dated_by_its_load(
    ctx: Context, ofac: ScreeningService
) -> None:
    result = ofac.load_file(FIXTURES / "kinko_lists_synthetic.csv", actor="cli:root")
    for version in result.versions:
        assert version.published is None and version.dated_by == "load"
        assert version.as_of == version.loaded_at
        assert version.to_dict()["dated_by"] == "load"
    with ctx.db.transaction() as s:
        [ofac_version] = [v for v in ofac.versions(s) if v.list_name == "ofac-sdn"]
    assert ofac_version.dated_by == "publisher"


def test_provenance_is_recorded_and_audited(ctx: Context, ofac: ScreeningService) -> None:
    digest = hashlib.sha256(ADVANCED.read_bytes()).hexdigest()
    with ctx.db.transaction() as s:
        [version] = ofac.versions(s)
        entry = s.scalars(
            select(AuditEntryRow).where(AuditEntryRow.action == "screening.list_loaded")
        ).one()
    assert version.publisher == "US Treasury OFAC"
    assert version.sha256 == digest and version.loaded_by == "system:setup"
    details = json.loads(entry.entry)["details"]
    assert details["publisher"] == "US Treasury OFAC"
    assert details["published"].startswith("2024-05-28")
    assert details["sha256"] == digest
    assert details["loaded_by"] == "system:setup" and details["loaded_at"]
    assert details["dated_by"] == "publisher"


def test_the_replacement_is_announced_to_the_monitor(
    ctx: Context,
    services: Services,
    ofac: ScreeningService,
    admins: tuple[UserId, UserId],
    tmp_path: Path,
) -> None:
    ada, bob = admins
    events: list[SecurityEvent] = []
    ctx.bus.subscribe(events.append)
    result = ofac.load_file(fake_ofac_csv(tmp_path / "ofac.csv"), actor=f"user:{ada}", proposer=ada)
    proposal_id = result.proposed[0].proposal_id
    vote = key_vote(ctx, bob, ApprovalKind.PROPOSAL, proposal_id)
    with ctx.db.transaction() as s:
        services.identity.roles.approve(s, proposal_id, actor=bob, vote=vote)
    [loaded] = [e for e in events if e.type == "screening.list_loaded"]
    assert loaded.fields["list"] == "ofac-sdn"
    assert set(loaded.fields["changes"]) == {"format", "publisher"}
    assert loaded.fields["approved_by"] == f"user:{bob}"
    assert loaded.actor == f"user:{ada}"


def test_cli_proposes_and_shows_provenance(
    ctx: Context,
    ofac: ScreeningService,
    admins: tuple[UserId, UserId],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """`kinko lists load` is a security admin's upload through the API: a file that
    changes a list's identity is proposed, never applied alone."""
    route_cli_to_api(ctx, monkeypatch, tmp_path / "config")
    fake = str(fake_ofac_csv(tmp_path / "ofac.csv"))
    code, out = kinko(ctx, "lists", "load", fake)
    assert code == 1 and "not signed in" in out
    code, out = kinko(ctx, "lists", "load", fake, as_="ada")
    assert code == 0, out
    assert "proposed ofac-sdn" in out and "kinko role approve prp_" in out  # the id whole
    assert status_of(ctx, ofac, LAZARUS) is VerdictStatus.HIT
    code, out = kinko(ctx, "lists", "load", str(FIXTURES / "kinko_lists_synthetic.csv"), as_="ada")
    assert code == 0, out
    code, out = kinko(ctx, "lists", "show", "--json")
    shown = {v["list"]: v for v in json.loads(out)["versions"]}
    assert shown["ofac-sdn"]["publisher"] == "US Treasury OFAC"
    assert shown["ofac-sdn"]["dated_by"] == "publisher"
    assert shown["kr-mofa"]["dated_by"] == "load"
    assert shown["kr-mofa"]["loaded_by"] == f"user:{admins[0]}"  # the person, by their session
    code, out = kinko(ctx, "lists", "show")
    assert "dated by load" in out and "US Treasury OFAC" in out
    code, out = kinko(ctx, "lists", "load", str(ADVANCED), "--unsafe-allow-shrink", as_="ada")
    assert code == 2 and "four-eyes" in out


def test_api_upload_proposes_and_a_second_admin_approves(
    ctx: Context, ofac: ScreeningService, tmp_path: Path
) -> None:
    _, ada_key = make_user(ctx, "ada", ["security_admin"])
    _, bob_key = make_user(ctx, "bob", ["security_admin"])
    assert ada_key is not None and bob_key is not None
    client = TestClient(create_app(ctx))
    ada = person_headers(ctx, "ada", ada_key)
    bob = person_headers(ctx, "bob", bob_key)
    path = fake_ofac_csv(tmp_path / "ofac.csv")
    with path.open("rb") as handle:
        response = client.post(
            "/v1/screening/lists", headers=ada, files={"file": ("ofac.csv", handle)}
        )
    assert response.status_code == 202, response.text
    body = response.json()
    assert body["loaded"] == []
    [proposal] = body["proposed"]
    assert proposal["list"] == "ofac-sdn" and sorted(proposal["changes"]) == [
        "format",
        "publisher",
    ]
    lists = client.get("/v1/screening/lists", headers=ada).json()
    assert [v["format"] for v in lists["versions"]] == ["ofac-advanced-xml"]
    assert [p["proposal"] for p in lists["proposed"]] == [proposal["proposal"]]
    own = client.post(f"/v1/roles/proposals/{proposal['proposal']}/approve", headers=ada)
    assert (own.status_code, own.json()["error"]) == (403, "self_approval")  # before any key
    assert status_of(ctx, ofac, LAZARUS) is VerdictStatus.HIT
    vote = vote_json(ctx, client, bob, "proposal", proposal["proposal"])
    approved = client.post(
        f"/v1/roles/proposals/{proposal['proposal']}/approve", json=vote, headers=bob
    )
    assert approved.status_code == 200, approved.text
    lists = client.get("/v1/screening/lists", headers=ada).json()
    assert [v["format"] for v in lists["versions"]] == ["kinko-csv"]
    assert lists["versions"][0]["approved_by"].startswith("user:")
    with ADVANCED.open("rb") as handle:
        refused = client.post(
            "/v1/screening/lists",
            headers=ada,
            files={"file": ("sdn.xml", handle)},
            data={"unsafe_allow_shrink": "true"},
        )
    assert refused.status_code == 422 and refused.json()["field"] == "unsafe_allow_shrink"
