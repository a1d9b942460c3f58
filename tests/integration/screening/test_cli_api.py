"""`kinko lists/screen ...` and `/v1/screening/...` end to end on both databases."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from kinko.cli.main import app
from kinko.context import Context
from kinko.core.clock import FixedClock
from kinko.server import create_app
from tests.support.cli_api import as_person, route_cli_to_api
from tests.support.identity import bearer, make_token, make_user

FIXTURES = Path(__file__).parents[2] / "fixtures" / "screening"
runner = CliRunner()
KEEPER = "keeper"


@pytest.fixture(autouse=True)
def list_keeper(ctx: Context, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """The CLI's requests go to the API on `ctx`; lists are loaded by a security admin
    (screening:write) with their own session."""
    route_cli_to_api(ctx, monkeypatch, tmp_path / "config")
    make_user(ctx, KEEPER, ["security_admin"], with_authenticator=False)


def kinko(ctx: Context, *args: str) -> tuple[int, str]:
    env = {
        "KINKO_DATA_DIR": str(ctx.settings.data_dir),
        "KINKO_DATABASE_URL": ctx.settings.resolved_database_url,
        "KINKO_CONFIG": "",
        **as_person(ctx, KEEPER),
    }
    result = runner.invoke(app, list(args), env=env)
    assert "Traceback" not in result.output
    return result.exit_code, result.output


@pytest.fixture
def fresh(clock: FixedClock) -> FixedClock:
    """Move the clock to a day after the fixtures' publication dates."""
    clock.set(clock.now().replace(year=2024, month=5, day=29))
    return clock


def test_cli_load_show_and_screen(ctx: Context, fresh: FixedClock) -> None:
    # The CLI builds its own context with the system clock, so lists are judged by today's
    # date: only the exit codes that do not depend on age are asserted here.
    code, out = kinko(ctx, "lists", "load", str(FIXTURES / "sdn_advanced_excerpt.xml"))
    assert code == 0, out
    assert "unknown tickers kept: XMR" in out
    code, out = kinko(ctx, "lists", "show", "--json")
    assert code == 0
    shown = json.loads(out)
    assert [v["list"] for v in shown["versions"]] == ["ofac-sdn"]
    assert shown["stale"]  # UN not loaded, OFAC excerpt from 2024: fail closed
    code, out = kinko(
        ctx, "screen", "address", "0x098b716b8aaf21512996dc57eb0615e2383e2f96", "--json"
    )
    assert code == 1
    verdict = json.loads(out)
    assert verdict["status"] == "hit" and verdict["chain"] == "ethereum"
    assert verdict["hits"][0]["entity"] == "LAZARUS GROUP"
    code, out = kinko(ctx, "screen", "address", "TBHTJqAy4DhHhmT3dNceJYNRz4SdLofLre")
    assert code == 1 and "WANG Yunhe" in out
    code, out = kinko(ctx, "screen", "address", "0x098B716B8Aaf21512996dC57EB0615e2383E2F96")
    assert code == 2 and "EIP-55" in out
    code, out = kinko(ctx, "screen", "address", "1abc", "--chain", "bitcoin")
    assert code == 2 and "address" in out
    code, out = kinko(ctx, "screen", "address", "x", "--chain", "dogecoin")
    assert code == 2 and "chain" in out


def test_cli_clear_address_exit_zero_when_fresh(ctx: Context, tmp_path: Path) -> None:
    """With fresh lists (dates rewritten to today), a clean address exits 0."""
    from datetime import UTC, datetime

    today = datetime.now(UTC)
    advanced = (FIXTURES / "sdn_advanced_excerpt.xml").read_text(encoding="utf-8")
    old_date = "<Year>2024</Year>\n    <Month>5</Month>\n    <Day>28</Day>"
    new_date = f"<Year>{today.year}</Year><Month>{today.month}</Month><Day>{today.day}</Day>"
    advanced = advanced.replace(old_date, new_date)
    (tmp_path / "sdn_advanced.xml").write_text(advanced, encoding="utf-8")
    assert kinko(ctx, "lists", "load", str(tmp_path / "sdn_advanced.xml"))[0] == 0
    code, out = kinko(
        ctx, "screen", "address", "0x0000000000000000000000000000000000000001", "--chain", "base"
    )
    assert code == 0 and "CLEAR" in out


def test_cli_refuses_unsafe_xml_with_exit_2(ctx: Context) -> None:
    code, out = kinko(ctx, "lists", "load", str(FIXTURES / "billion_laughs.xml"))
    assert code == 2 and "billion laughs" in out
    code, out = kinko(ctx, "lists", "load", str(FIXTURES / "nope.xml"))
    assert code == 2 and "does not exist" in out


def test_cli_screen_name_and_people(ctx: Context, tmp_path: Path) -> None:
    assert kinko(ctx, "lists", "load", str(FIXTURES / "sdn_advanced_excerpt.xml"))[0] == 0
    assert kinko(ctx, "lists", "load", str(FIXTURES / "un_consolidated_synthetic.xml"))[0] == 0
    code, out = kinko(ctx, "screen", "name", "Jon Chang-hyok", "--json")
    assert code == 1
    verdict = json.loads(out)
    assert verdict["hits"][0]["source_ref"] == "KPi.901"
    code, out = kinko(ctx, "screen", "name", "Kim", "--dob", "15/08/1984")
    assert code == 2 and "dob" in out
    people = tmp_path / "people.csv"
    people.write_text(
        "name,dob,nationality\nPak Jin Hyok,1984-08-15,North Korea\nAda Lovelace,1815,UK\n",
        encoding="utf-8",
    )
    code, out = kinko(ctx, "screen", "people", str(people), "--json")
    assert code == 1
    report = json.loads(out)
    assert report["screened"] == 2
    # the 2024 excerpts are stale by the CLI's real clock: Ada is held as stale, not cleared
    assert [(v["name"], v["status"]) for v in report["flagged"]] == [
        ("Pak Jin Hyok", "hit"),
        ("Ada Lovelace", "stale"),
    ]
    bad = tmp_path / "bad.csv"
    bad.write_text("fullname\nX\n", encoding="utf-8")
    code, out = kinko(ctx, "screen", "people", str(bad))
    assert code == 2 and "name" in out


def test_api_screening_routes(ctx: Context, fresh: FixedClock) -> None:
    client = TestClient(create_app(ctx))
    writer = bearer(make_token(ctx, roles_or_permissions=["screening:write", "screening:read"]))
    reader = bearer(make_token(ctx, roles_or_permissions=["screening:read"]))
    with (FIXTURES / "sdn_advanced_excerpt.xml").open("rb") as handle:
        response = client.post(
            "/v1/screening/lists", headers=writer, files={"file": ("sdn_advanced.xml", handle)}
        )
    assert response.status_code == 200, response.text
    assert response.json()["loaded"][0]["list"] == "ofac-sdn"
    with (FIXTURES / "truncated_advanced.xml").open("rb") as handle:
        refused = client.post(
            "/v1/screening/lists", headers=writer, files={"file": ("sdn_advanced.xml", handle)}
        )
    assert refused.status_code == 422 and refused.json()["error"] == "list_unparseable"
    with (FIXTURES / "sdn_advanced_excerpt.xml").open("rb") as handle:
        forbidden = client.post(
            "/v1/screening/lists", headers=reader, files={"file": ("x.xml", handle)}
        )
    assert forbidden.status_code == 403
    lists = client.get("/v1/screening/lists", headers=reader).json()
    assert lists["versions"][0]["counts_by_chain"]["ethereum"] == 7
    hit = client.post(
        "/v1/screening/address",
        headers=reader,
        json={"chain": "bitcoin", "address": "12HQDsicffSBaYdJ6BhnE22sfjTESmmzKx"},
    ).json()
    assert hit["status"] == "hit" and hit["hits"][0]["entity"] == "SUEX OTC, S.R.O."
    invalid = client.post(
        "/v1/screening/address", headers=reader, json={"chain": "tron", "address": "T123"}
    )
    assert invalid.status_code == 422 and invalid.json()["field"] == "address"
    name = client.post(
        "/v1/screening/name", headers=reader, json={"name": "Park Jin Hyok", "dob": "1984"}
    ).json()
    assert name["status"] == "hit" and name["hits"][0]["source_ref"] == "24389"
    assert client.post("/v1/screening/name", json={"name": "x"}).status_code == 401
