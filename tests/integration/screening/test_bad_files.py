"""Files that are not lists: a clear refusal (CLI exit 2, API 422), never a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from kinko.cli.main import app
from kinko.context import Context
from kinko.server import create_app
from tests.support.cli_api import as_person, route_cli_to_api
from tests.support.identity import bearer, make_token, make_user

HEADER = b"list,entity_name,chain,address,source_ref,listed_on\n"
runner = CliRunner()
KEEPER = "keeper"


@pytest.fixture(autouse=True)
def list_keeper(ctx: Context, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """The CLI's requests go to the API on `ctx`; lists are loaded by a security admin
    (screening:write) with their own session."""
    route_cli_to_api(ctx, monkeypatch, tmp_path / "config")
    make_user(ctx, KEEPER, ["security_admin"], with_authenticator=False)


BAD_FILES = {
    # an executable's first bytes: not text at all
    "binary.dat": (b"\x7fELF\x02\x01\x01\x00" + bytes(range(256)) * 4, "binary file"),
    # Latin-1 in Kinko's CSV, which is UTF-8
    "latin1.csv": (HEADER + b"kr-mofa,Caf\xe9 Ltd,,,ref-1,2024-01-01\n", "is not UTF-8 text"),
    # byte 0x81 is neither UTF-8 nor Windows-1252 (OFAC's sdn.csv encoding)
    "sdn.csv": (b'36,"AEROCARIBBEAN \x81 AIRLINES",-0- ,"CUBA"\n', "Windows-1252"),
    "utf16.csv": ("list,entity_name\n".encode("utf-16"), "UTF-16"),
    # a bare carriage return inside an unquoted field of sdn.csv
    "sdn-cr.csv": (b"36,AERO\rCARIBBEAN,-0- ,CUBA\n", "carriage return"),
    # a field beyond the csv module's limit (131,072 characters)
    "huge-field.csv": (HEADER + b"kr-mofa," + b"A" * 200_000 + b",,,r,2024-01-01\n", "longer"),
}


def kinko(ctx: Context, *args: str) -> tuple[int, str]:
    env = {
        "KINKO_DATA_DIR": str(ctx.settings.data_dir),
        "KINKO_DATABASE_URL": ctx.settings.resolved_database_url,
        "KINKO_CONFIG": "",
        **as_person(ctx, KEEPER),
        "COLUMNS": "400",
    }
    result = runner.invoke(app, list(args), env=env)
    assert "Traceback" not in result.output, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, " ".join(result.output.split())


def test_cli_refuses_unreadable_list_files_with_exit_2(ctx: Context, tmp_path: Path) -> None:
    for name, (content, reason) in BAD_FILES.items():
        path = tmp_path / name
        path.write_bytes(content)
        code, out = kinko(ctx, "lists", "load", str(path))
        assert code == 2, (name, out)
        assert name in out and reason in out, (name, out)
    code, out = kinko(ctx, "lists", "show", "--json")
    assert '"versions": []' in out


def test_cli_refuses_a_20_mb_field(ctx: Context, tmp_path: Path) -> None:
    path = tmp_path / "big.csv"
    path.write_bytes(HEADER + b"kr-mofa," + b"x" * (20 * 1024 * 1024) + b",,,ref,2024-01-01\n")
    code, out = kinko(ctx, "lists", "load", str(path))
    assert code == 2 and "big.csv line 2" in out and "131,072 characters" in out


def test_cli_screen_people_refuses_a_file_that_is_not_utf8(ctx: Context, tmp_path: Path) -> None:
    path = tmp_path / "people.csv"
    path.write_bytes(b"name,dob,nationality\nJos\xe9,1980,ES\n")
    code, out = kinko(ctx, "screen", "people", str(path))
    assert code == 2 and "people.csv is not UTF-8 text" in out


@pytest.mark.parametrize("name", sorted(BAD_FILES))
def test_api_upload_of_an_unreadable_file_is_422(ctx: Context, name: str) -> None:
    client = TestClient(create_app(ctx), raise_server_exceptions=False)
    writer = bearer(make_token(ctx, roles_or_permissions=["screening:write"]))
    content, reason = BAD_FILES[name]
    response = client.post("/v1/screening/lists", headers=writer, files={"file": (name, content)})
    assert response.status_code == 422, response.text
    body = response.json()
    assert body["error"] == "invalid_input" and body["field"] == "file"
    assert reason in body["message"] and "/tmp" not in body["message"]


@pytest.mark.parametrize("filename", ["..", "a/..", "/"])
def test_api_upload_named_like_a_directory_is_read_as_a_file(ctx: Context, filename: str) -> None:
    """The upload's file name is the client's: ``..`` named the temporary directory's
    parent, and writing to it was a 500."""
    client = TestClient(create_app(ctx), raise_server_exceptions=False)
    writer = bearer(make_token(ctx, roles_or_permissions=["screening:write"]))
    content, reason = next(iter(BAD_FILES.values()))
    response = client.post(
        "/v1/screening/lists", headers=writer, files={"file": (filename, content)}
    )
    assert response.status_code == 422, response.text
    assert response.json()["field"] == "file" and reason in response.json()["message"]
