"""The CLI's HTTP client and stored session (kinko.cli.api, kinko.cli.session), no server."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from kinko.cli import api, session
from kinko.core.errors import AuthenticationError, InputError, Unavailable


@pytest.fixture(autouse=True)
def _clean_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.delenv("KINKO_ADDR", raising=False)
    monkeypatch.delenv("KINKO_TOKEN", raising=False)


def stored(addr: str = "http://127.0.0.1:8123") -> session.StoredSession:
    return session.StoredSession(
        addr=addr, session_token="kks_secret", username="ann", user_id="usr_1"
    )


@pytest.mark.parametrize(
    ("status", "code", "expected"),
    [
        (422, "invalid_input", 2),
        (404, "not_found", 2),
        (409, "conflict", 2),
        (409, "integrity_failure", 1),
        (401, "unauthenticated", 1),
        (403, "self_approval", 1),
        (429, "rate_limited", 1),
        (500, "kinko_error", 1),
        (503, "unavailable", 1),
    ],
)
def test_api_errors_map_to_the_cli_exit_codes(status: int, code: str, expected: int) -> None:
    error = api.ApiError(status, code, "said the server", field="x" if status == 422 else None)
    assert error.exit_code == expected
    assert error.to_dict()["error"] == code


def test_session_file_is_private_and_refused_when_others_may_read_it(tmp_path: Path) -> None:
    assert session.load() is None
    path = session.save(stored())
    assert path == tmp_path / "config" / "kinko" / "session.json"
    assert path.stat().st_mode & 0o777 == 0o600 and path.parent.stat().st_mode & 0o777 == 0o700
    assert session.load() == stored()
    path.chmod(0o640)
    with pytest.raises(InputError) as refused:
        session.load()
    assert f"chmod 600 {path}" in refused.value.message and refused.value.exit_code == 2
    path.chmod(0o600)
    path.write_text("not json")
    with pytest.raises(InputError, match="not a Kinko session file"):
        session.load()
    assert session.remove() and not session.remove()


def test_config_dir_defaults_to_dot_config(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("XDG_CONFIG_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert session.session_path() == tmp_path / "home" / ".config" / "kinko" / "session.json"


def test_credential_resolution(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(AuthenticationError, match="kinko login"):
        api.credential()
    monkeypatch.setenv("KINKO_TOKEN", "kko_a_b")
    assert api.credential() == api.Credential(api.DEFAULT_ADDR, "kko_a_b", "KINKO_TOKEN")
    session.save(stored())
    # the token overrides the stored session, and goes to the stored session's server
    assert api.credential().addr == "http://127.0.0.1:8123"
    monkeypatch.delenv("KINKO_TOKEN")
    found = api.credential()
    assert (found.token, found.username) == ("kks_secret", "ann")
    # a stored session is never sent to another server
    monkeypatch.setenv("KINKO_ADDR", "http://10.0.0.9:8000/")
    with pytest.raises(AuthenticationError, match=r"kinko login --addr http://10\.0\.0\.9:8000"):
        api.credential()
    monkeypatch.setenv("KINKO_ADDR", "ftp://somewhere")
    with pytest.raises(InputError) as bad:
        api.credential()
    assert bad.value.field == "addr"


def test_an_unreachable_server_is_unavailable() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # closed once the block ends
    with api.Api(f"http://127.0.0.1:{port}", "x") as client, pytest.raises(Unavailable) as down:
        client.get("/v1/auth/me")
    assert f"cannot reach Kinko at http://127.0.0.1:{port}" in down.value.message
    assert down.value.exit_code == 1
