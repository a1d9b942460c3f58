"""What `kinko serve` and `kinko demo` print, and `make run`'s PORT and HOST."""

from __future__ import annotations

import subprocess
from pathlib import Path

from kinko.config import Settings
from kinko.web.welcome import base_url, serving_lines, try_commands

REPO = Path(__file__).resolve().parents[3]


def test_loopback_binds_read_as_localhost_for_webauthn() -> None:
    assert base_url("127.0.0.1", 8000) == "http://localhost:8000"
    assert base_url("0.0.0.0", 8123) == "http://localhost:8123"
    assert base_url("::1", 9) == "http://localhost:9"
    assert base_url("192.0.2.7", 80) == "http://192.0.2.7:80"
    assert base_url("2001:db8::1", 80) == "http://[2001:db8::1]:80"


def test_serving_lines_name_the_console_the_docs_and_the_relying_party(tmp_path: Path) -> None:
    # `kinko serve --port 8123`: the settings are the served ones (cli.common.served_settings)
    settings = Settings(data_dir=tmp_path / "exchange", port=8123)
    lines = serving_lines(settings, "127.0.0.1", 8123, demo_login=False)
    text = "\n".join(lines)
    assert lines[0].startswith("Kinko is serving on http://localhost:8123/")
    for where in ("/console/", "/console/enrol", "/docs", "/redoc", "/openapi.json", "/healthz"):
        assert f"http://localhost:8123{where}" in text
    # security keys follow the served URL: nothing to set, nothing to warn about
    assert "security keys: relying party localhost, origin http://localhost:8123" in text
    assert "KINKO_PUBLIC_URL" not in text
    assert "demo-login" not in text  # no demo people here
    assert f"--data-dir {settings.data_dir} user list" in text


def test_serving_lines_behind_a_proxy_and_on_a_plain_http_address(tmp_path: Path) -> None:
    proxied = Settings(data_dir=tmp_path, public_url="https://kinko.example.com")
    text = "\n".join(serving_lines(proxied, "127.0.0.1", 8000, demo_login=False))
    assert "Kinko is serving on http://localhost:8000/, opened at https://kinko.example.com/" in (
        text
    )
    assert "https://kinko.example.com/console/enrol" in text
    assert "relying party kinko.example.com, origin https://kinko.example.com" in text
    # on a LAN address over http a browser offers no security key: say what to do
    lan = Settings(data_dir=tmp_path, host="192.0.2.7", port=8000)
    text = "\n".join(serving_lines(lan, "192.0.2.7", 8000, demo_login=False))
    assert "browsers offer security keys only on https pages" in text
    assert "KINKO_PUBLIC_URL" in text


def test_demo_commands_use_the_demo_data() -> None:
    commands = try_commands(Path("kinko-data"), demo=True)
    assert any(
        c.startswith("KINKO_TOKEN=$(cat kinko-data/demo-alice.token) ")
        and "withdraw request --asset ETH" in c
        for c in commands
    )
    assert not any("--as" in c.split() for c in commands)
    assert any("audit verify kinko-data/audit-export" in c for c in commands)


def test_make_run_passes_port_and_host() -> None:
    def recipe(*args: str) -> str:
        done = subprocess.run(
            ["make", "-n", "-s", "run", *args],
            cwd=REPO,
            capture_output=True,
            text=True,
            check=True,
        )
        return next(line for line in done.stdout.splitlines() if " demo" in line)

    assert recipe().split() == [".venv/bin/kinko", "--data-dir", "kinko-data", "demo"]
    assert recipe("PORT=8123", "HOST=127.0.0.2").split()[-4:] == [
        "--host",
        "127.0.0.2",
        "--port",
        "8123",
    ]
