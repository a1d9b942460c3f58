"""`kinko serve` and `kinko demo` refuse an explicit WebAuthn rp id or origin that does not
fit the URL they serve (exit 2, naming the setting and the fix) instead of starting a
console where every security key fails with "This is an invalid domain"."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from kinko.cli.main import app

runner = CliRunner()


@pytest.mark.parametrize("command", ["serve", "demo"])
def test_a_mismatched_origin_is_refused_at_start(tmp_path: Path, command: str) -> None:
    result = runner.invoke(
        app,
        ["--data-dir", str(tmp_path / "data"), command, "--port", "8124"],
        env={"KINKO_WEBAUTHN_ORIGIN": "http://localhost:8000", "KINKO_LOG_JSON": "false"},
    )
    assert result.exit_code == 2, result.output
    message = " ".join(result.output.split())
    assert "webauthn_origin: is http://localhost:8000 but Kinko serves http://localhost:8124" in (
        message
    )
    assert "Remove webauthn_origin" in message and "set it to http://localhost:8124" in message
    assert not (tmp_path / "data" / "kinko.db").exists()  # refused before anything


def test_a_mismatched_rp_id_and_a_bad_public_url_are_refused(tmp_path: Path) -> None:
    data = ["--data-dir", str(tmp_path / "data")]
    rp = runner.invoke(
        app,
        [*data, "serve", "--host", "127.0.0.1"],
        env={"KINKO_WEBAUTHN_RP_ID": "kinko.example.com", "KINKO_LOG_JSON": "false"},
    )
    assert rp.exit_code == 2, rp.output
    assert "webauthn_rp_id: is 'kinko.example.com' but Kinko serves http://localhost:8000" in (
        " ".join(rp.output.split())
    )
    url = runner.invoke(app, [*data, "serve"], env={"KINKO_PUBLIC_URL": "http://kinko.example.com"})
    assert url.exit_code == 2, url.output
    message = " ".join(url.output.split())
    assert "public_url:" in message and "must be https://" in message
