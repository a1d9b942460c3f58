"""A new person's first day, in a real browser against a real `kinko serve`.

`kinko init` prints the first administrator's one-time enrolment secret; `kinko serve`
runs on a free loopback port (its WebAuthn rp id and origin follow that port: nothing is
configured). In Debian's Chromium, driven by Playwright, with Chrome's CDP virtual
authenticator standing in for a security key, the administrator enrols a key on
/console/enrol (`navigator.credentials.create`), signs out, and — when a CLI asks for a
device login (RFC 8628, as `kinko login` does) — follows its link, is sent to sign in
(`navigator.credentials.get`), comes back to the device page and approves with the key.
The CLI's poll then gets a session that works as a Bearer. With that session the CLI asks
for a privileged API token (as `kinko token create` does); the administrator's browser
shows exactly that token and confirms it with the key over the challenge bound to it, and
the CLI's poll gets the token text once. A second administrator, in a browser of their own
with their own key, then approves root's proposal on /console/approvals. Nothing is
simulated on Kinko's side: every check is the server's own.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

REPO = Path(__file__).resolve().parents[2]
KINKO = REPO / ".venv" / "bin" / "kinko"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

pytestmark = [
    pytest.mark.slow,
    pytest.mark.timeout(240),
    pytest.mark.filterwarnings("ignore::DeprecationWarning"),
]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KINKO_")}
    env.update(HOME=str(home), KINKO_LOG_JSON="false", COLUMNS="200")
    return env


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[str, str]]:
    """(the URL `kinko serve` announces, the admin's enrolment secret)."""
    env = _env(tmp_path)
    data = str(tmp_path / "data")
    init = subprocess.run(
        [str(KINKO), "--data-dir", data, "init", "--admin", "root"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert init.returncode == 0, init.stdout + init.stderr
    secret = re.search(r"\b(enr_[A-Za-z0-9_-]+)", init.stdout)
    assert secret is not None, init.stdout
    port = _free_port()
    server = subprocess.Popen(
        [str(KINKO), "--data-dir", data, "serve", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert server.stdout is not None
        lines: list[str] = []
        while not any(line.startswith("Try the CLI") for line in lines):
            line = server.stdout.readline()
            assert line, "".join(lines)
            lines.append(line)
        text = "".join(lines)
        assert f"relying party localhost, origin http://localhost:{port}" in text, text
        url = f"http://localhost:{port}"
        with httpx.Client(base_url=url) as client:
            deadline = time.monotonic() + 30
            while True:
                try:
                    if client.get("/healthz").status_code == 200:
                        break
                except httpx.TransportError:
                    assert time.monotonic() < deadline, "kinko serve did not answer"
                time.sleep(0.2)
        yield url, secret.group(1)
    finally:
        server.send_signal(signal.SIGINT)
        try:
            rest, _ = server.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            rest, _ = server.communicate()
        assert "Traceback" not in (rest or ""), rest


def _virtual_authenticator(context: Any, page: Any) -> tuple[Any, str]:
    """Chrome's CDP virtual authenticator: a user-verifying key, presence simulated."""
    cdp = context.new_cdp_session(page)
    cdp.send("WebAuthn.enable", {"enableUI": False})
    added = cdp.send(
        "WebAuthn.addVirtualAuthenticator",
        {
            "options": {
                "protocol": "ctap2",
                "transport": "usb",
                "hasResidentKey": True,
                "hasUserVerification": True,
                "isUserVerified": True,
                "automaticPresenceSimulation": True,
            }
        },
    )
    return cdp, str(added["authenticatorId"])


def test_enrol_sign_in_and_approve_a_device_login_in_chromium(served: tuple[str, str]) -> None:
    from playwright.sync_api import sync_playwright

    url, secret = served
    cli = httpx.Client(base_url=url, timeout=30)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        try:
            context = browser.new_context()
            page = context.new_page()
            cdp, authenticator = _virtual_authenticator(context, page)

            # 1. enrol: a wrong secret is refused on the page, the right one enrols the key
            page.goto(f"{url}/console/enrol")
            page.fill("input[name=username]", "root")
            page.fill("input[name=enrolment_secret]", "enr_not-the-secret")
            page.click("#enrol button[type=submit]")
            page.wait_for_selector("#enrol-error:not([hidden])", timeout=30_000)
            assert "wrong enrolment secret" in page.inner_text("#enrol-error")
            page.fill("input[name=enrolment_secret]", secret)
            page.click("#enrol button[type=submit]")
            page.wait_for_url(f"{url}/console/", timeout=30_000)
            assert "Signed in as root" in page.inner_text("main")
            keys = cdp.send("WebAuthn.getCredentials", {"authenticatorId": authenticator})
            assert len(keys["credentials"]) == 1
            assert keys["credentials"][0]["rpId"] == "localhost"
            page.click("header button[type=submit]")  # sign out
            page.wait_for_url(re.compile(r".*/console/login$"), timeout=30_000)

            # 2. the CLI asks for a device login and shows where to approve it
            begun = cli.post("/v1/auth/device/begin", json={"client": "kinko-cli test on ci"})
            assert begun.status_code == 200, begun.text
            device = begun.json()
            assert device["verification_uri"] == f"{url}/console/device"
            pending = cli.post("/v1/auth/device/token", json={"device_code": device["device_code"]})
            assert pending.json()["error"] == "authorization_pending"
            polled_at = time.monotonic()

            # 3. its link sends the signed-out person to sign in with the key, then back
            page.goto(device["verification_uri_complete"])
            page.wait_for_url(re.compile(r".*/console/login\?next=.*"), timeout=30_000)
            page.fill("#webauthn-login input[name=username]", "root")
            page.click("#webauthn-login button[type=submit]")
            page.wait_for_url(re.compile(r".*/console/device\?code=.*"), timeout=30_000)
            shown = page.inner_text("main")
            for expected in (device["user_code"], "kinko-cli test on ci", "127.0.0.1"):
                assert expected in shown, shown

            # 4. approve with a fresh assertion over the challenge bound to this request
            page.click("#device-approve")
            page.wait_for_selector("#device-result:not([hidden])", timeout=30_000)
            result = page.inner_text("#device-result")
            assert result.startswith("Approved"), result

            time.sleep(max(0.0, 2.0 - (time.monotonic() - polled_at)))  # the interval
            issued = cli.post("/v1/auth/device/token", json={"device_code": device["device_code"]})
            assert issued.status_code == 200, issued.text
            session = {"Authorization": f"Bearer {issued.json()['session_token']}"}
            me = cli.get("/v1/auth/me", headers=session)
            assert me.status_code == 200 and me.json()["username"] == "root", me.text
            assert "roles:approve" in me.json()["permissions"]  # root's own permissions
            again = cli.post("/v1/auth/device/token", json={"device_code": device["device_code"]})
            assert again.json()["error"] == "expired_token"

            # 5. the CLI, as root, asks for a privileged token: confirmed in the browser
            _confirm_a_privileged_token(cli, session, page)

            # 6. a second admin approves root's proposal on the console with their own key
            _approve_a_proposal_with_a_security_key(cli, session, browser, page, url)
        finally:
            browser.close()
    cli.close()


def _approve_a_proposal_with_a_security_key(
    cli: httpx.Client, session: dict[str, str], browser: Any, root_page: Any, url: str
) -> None:
    """sec2 (made an admin at once: the first setup's second admin) enrols a key in a
    browser of their own and approves, on /console/approvals, root's proposal to make carl
    an approver: the key signs a challenge bound to that proposal's content. Root, who
    proposed it, is shown why they cannot approve it, with no button."""
    secrets_of = {}
    for name in ("sec2", "carl"):
        made = cli.post("/v1/users", json={"username": name}, headers=session)
        assert made.status_code == 201, made.text
        secrets_of[name] = (made.json()["id"], made.json()["enrolment_secret"])
    grant = {"kind": "grant_role", "user_id": secrets_of["sec2"][0], "role": "security_admin"}
    first = cli.post(
        "/v1/roles/proposals", json={**grant, "reason": "second admin"}, headers=session
    )
    assert first.status_code == 201 and first.json()["state"] == "approved", first.text
    carl = {"kind": "grant_role", "user_id": secrets_of["carl"][0], "role": "approver"}
    proposed = cli.post("/v1/roles/proposals", json={**carl, "reason": "new"}, headers=session)
    assert proposed.status_code == 201 and proposed.json()["state"] == "pending", proposed.text
    proposal = proposed.json()["id"]

    root_page.goto(f"{url}/console/approvals/proposal/{proposal}")
    assert "cannot approve their own" in root_page.inner_text("#approval-refused")
    assert root_page.query_selector("#approve-button") is None

    context = browser.new_context()
    page = context.new_page()
    _virtual_authenticator(context, page)  # sec2's own key
    page.goto(f"{url}/console/enrol")
    page.fill("input[name=username]", "sec2")
    page.fill("input[name=enrolment_secret]", secrets_of["sec2"][1])
    page.click("#enrol button[type=submit]")
    page.wait_for_url(f"{url}/console/", timeout=30_000)
    page.goto(f"{url}/console/approvals/proposal/{proposal}")
    assert '"role": "approver"' in page.inner_text("#approval-content")
    page.click("#approve-button")
    page.wait_for_selector("#approve-result:not([hidden])", timeout=30_000)
    result = page.inner_text("#approve-result")
    assert result.startswith("Approved"), result
    listed = cli.get("/v1/roles/proposals", params={"state": "approved"}, headers=session)
    assert proposal in [p["id"] for p in listed.json()], listed.text
    context.close()


def _confirm_a_privileged_token(cli: httpx.Client, session: dict[str, str], page: Any) -> None:
    terms = {"name": "siem", "permissions": ["freeze:set"], "ttl_days": 7, "client": "kinko-cli"}
    asked = cli.post("/v1/tokens/requests", json=terms, headers=session)
    assert asked.status_code == 200, asked.text
    request = asked.json()
    polled_at = time.monotonic()
    page.goto(request["verification_uri_complete"])
    assert page.inner_text("#token-name") == "siem"
    assert "freeze:set (privileged)" in page.inner_text("#token-permissions")
    assert page.inner_text("#token-ttl").startswith("7 days")
    assert page.inner_text("#token-allowlist") == "any address"
    page.click("#token-confirm")
    page.wait_for_selector("#token-result:not([hidden])", timeout=30_000)
    result = page.inner_text("#token-result")
    assert result.startswith("Confirmed: token siem"), result
    time.sleep(max(0.0, 2.0 - (time.monotonic() - polled_at)))  # the interval
    poll = {"request_code": request["request_code"]}
    got = cli.post("/v1/tokens/requests/token", json=poll, headers=session)
    assert got.status_code == 200, got.text
    bearer = {"Authorization": f"Bearer {got.json()['token']}"}
    me = cli.get("/v1/auth/me", headers=bearer)
    assert me.status_code == 200 and me.json()["permissions"] == ["freeze:set"], me.text
    once = cli.post("/v1/tokens/requests/token", json=poll, headers=session)
    assert once.json()["error"] == "expired_token"
