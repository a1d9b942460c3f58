"""A real `kinko serve` on a free loopback port, and people who use it as they would.

`Served` runs `kinko init` and `kinko serve` as processes on a data directory (SQLite or a
PostgreSQL database), and drives the CLI as processes too, each person with their own
credential (``KINKO_TOKEN``, or the session `kinko login` stored under their own
``XDG_CONFIG_HOME``). People enrol and sign in over HTTP with a software WebAuthn
authenticator, as a browser would (kinko.identity.softauthn).
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
from webauthn.helpers import base64url_to_bytes

from kinko.identity.softauthn import SoftAuthenticator

KINKO = str(Path(sys.executable).parent / "kinko")
SESSION_COOKIE = "__Host-kinko_session"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _session_from(response: httpx.Response) -> str:
    """The session a sign-in set (its cookie is Secure: read it from Set-Cookie)."""
    assert response.status_code == 200, response.text
    found = re.search(rf"{SESSION_COOKIE}=([^;]+)", response.headers.get("set-cookie", ""))
    assert found is not None, response.headers
    return found.group(1)


class Served:
    """A data directory, the `kinko serve` processes on it, and the CLI as processes."""

    def __init__(self, root: Path, database_url: str) -> None:
        self.root = root
        self.data = root / "data"
        self.env: dict[str, str] = {
            key: value for key, value in os.environ.items() if not key.startswith("KINKO_")
        }
        self.env.update(
            KINKO_DATA_DIR=str(self.data),
            KINKO_DATABASE_URL=database_url,
            KINKO_LOG_JSON="false",
            COLUMNS="300",
            XDG_CONFIG_HOME=str(root / "nobody-config"),
        )
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.origin = f"http://localhost:{self.port}"  # the served URL's (kinko.core.urls)
        self.keys: dict[str, SoftAuthenticator] = {}
        self.sessions: dict[str, str] = {}
        self._servers: list[subprocess.Popen[bytes]] = []
        self._logs: dict[int, Path] = {}

    # --- processes ---------------------------------------------------------------------
    def kinko(
        self, *args: str, env: Mapping[str, str] | None = None, stdin: str | None = None
    ) -> subprocess.CompletedProcess[str]:
        done = subprocess.run(
            [KINKO, *args],
            env={**self.env, **(env or {})},
            input=stdin,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert "Traceback" not in done.stdout + done.stderr, done.stdout + done.stderr
        return done

    def init(self, admin: str) -> str:
        """`kinko init --admin ADMIN`: the first administrator's enrolment secret."""
        done = self.kinko("init", "--admin", admin)
        assert done.returncode == 0, done.stdout + done.stderr
        found = re.search(r"enrolment secret .*?: (\S+)", " ".join(done.stdout.split()))
        assert found is not None, done.stdout
        return found.group(1)

    def start(
        self, *, port: int | None = None, env: Mapping[str, str] | None = None
    ) -> subprocess.Popen[bytes]:
        """`kinko serve` on this data directory; waits until it answers (or exits). What it
        prints goes to a file (`output`): a pipe nobody reads would stop it when full."""
        port = port or self.port
        log = self.root / f"serve-{port}.log"
        with log.open("wb") as handle:
            server = subprocess.Popen(
                [KINKO, "serve", "--host", "127.0.0.1", "--port", str(port)],
                env={**self.env, **(env or {})},
                stdout=handle,
                stderr=subprocess.STDOUT,
            )
        self._servers.append(server)
        self._logs[server.pid] = log
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and server.poll() is None:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200:
                    return server
            except httpx.TransportError:
                time.sleep(0.2)
        return server  # exited (`output` says why) or never answered

    def output(self, server: subprocess.Popen[bytes]) -> str:
        """What `server` printed so far, whitespace collapsed."""
        return " ".join(self._logs[server.pid].read_text(encoding="utf-8").split())

    def stop(self) -> None:
        for server in self._servers:
            if server.poll() is None:
                server.send_signal(signal.SIGINT)
                try:
                    server.wait(30)
                except subprocess.TimeoutExpired:
                    server.kill()
                    server.wait(10)

    # --- people, as a browser signs them in -------------------------------------------------
    def api(self, token: str | None = None) -> httpx.Client:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return httpx.Client(base_url=self.url, headers=headers, timeout=30)

    def enrol(self, username: str, secret: str) -> str:
        """Enrol a new software authenticator for `username`; their session."""
        key = SoftAuthenticator.generate("localhost")
        with self.api() as client:
            begun = client.post(
                "/v1/auth/enrol/webauthn/begin",
                json={"username": username, "enrolment_secret": secret},
            )
            assert begun.status_code == 200, begun.text
            options = begun.json()["options"]
            credential = key.register(
                challenge=base64url_to_bytes(options["challenge"]), origin=self.origin
            )
            done = client.post(
                "/v1/auth/enrol/webauthn/finish",
                json={
                    "username": username,
                    "enrolment_secret": secret,
                    "challenge_id": begun.json()["challenge_id"],
                    "credential": credential,
                },
            )
        self.keys[username] = key
        self.sessions[username] = _session_from(done)
        return self.sessions[username]

    def sign_in(self, username: str) -> str:
        """A fresh session of `username`'s, signed in with their security key."""
        with self.api() as client:
            begun = client.post("/v1/auth/login/webauthn/begin", json={"username": username})
            assert begun.status_code == 200, begun.text
            credential = self.assertion(username, begun.json()["options"])
            done = client.post(
                "/v1/auth/login/webauthn/finish",
                json={"challenge_id": begun.json()["challenge_id"], "credential": credential},
            )
        self.sessions[username] = _session_from(done)
        return self.sessions[username]

    def assertion(self, username: str, options: dict[str, Any]) -> dict[str, Any]:
        return self.keys[username].assert_(
            challenge=base64url_to_bytes(options["challenge"]), origin=self.origin
        )

    def as_(self, username: str) -> dict[str, str]:
        """The environment of a CLI command run by `username` with their own session."""
        return {"KINKO_ADDR": self.url, "KINKO_TOKEN": self.sessions[username]}


@contextmanager
def served(root: Path, database_url: str) -> Iterator[Served]:
    kinko = Served(root, database_url)
    try:
        yield kinko
    finally:
        kinko.stop()
