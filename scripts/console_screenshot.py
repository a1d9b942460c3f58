"""The README's picture of the console, taken from the demo as a newcomer would see it.

    .venv/bin/python scripts/console_screenshot.py docs/images/console.png

Runs `make run`'s demo (`kinko demo`) in a throwaway directory on a free loopback port,
asks for 2 ETH with alice's token as the README does, signs in as bob on the demo's
sign-in page in Debian's Chromium (Playwright) and takes the withdrawal's page: the
decoded transaction in ETH with its base units, the digest and its short code, the
policy's rule, the approve button. The demo is stopped (its whole process group) whatever
happens.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parents[1]
KINKO = REPO / ".venv" / "bin" / "kinko"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"]
DESTINATION = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"  # the README's request


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def serve_demo(data: Path, port: int) -> tuple[subprocess.Popen[str], str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KINKO_")}
    demo = subprocess.Popen(  # noqa: S603 - our own kinko, fixed arguments
        [str(KINKO), "--data-dir", str(data), "demo", "--host", "127.0.0.1", "--port", str(port)],
        env={**env, "KINKO_LOG_JSON": "false"},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,  # its own process group: stopped whole below
    )
    assert demo.stdout is not None
    said: list[str] = []
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        line = demo.stdout.readline()
        if not line:
            break
        said.append(line)
        found = re.search(r"(http://localhost:\d+)/console/", line)
        if found:
            return demo, found.group(1)
    stop(demo)
    raise SystemExit("the demo did not start serving:\n" + "".join(said))


def stop(process: subprocess.Popen[str]) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGINT)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def shoot(url: str, data: Path, out: Path) -> None:
    from playwright.sync_api import sync_playwright

    with httpx.Client(base_url=url, timeout=30) as client:
        while client.get("/healthz").status_code != 200:
            time.sleep(0.2)
        token = (data / "demo-alice.token").read_text().strip()
        made = client.post(
            "/v1/withdrawals",
            json={"asset": "ETH", "amount": "2", "destination": DESTINATION},
            headers={"Authorization": f"Bearer {token}", "Idempotency-Key": "readme-shot"},
        )
        made.raise_for_status()
        withdrawal = made.json()["id"]
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        try:
            page = browser.new_page(viewport={"width": 1200, "height": 900})
            page.goto(f"{url}/console/demo-login?next=/console/withdrawals/{withdrawal}")
            page.click("form:has(input[name=username][value=bob]) button")
            page.wait_for_selector("#short-code", timeout=30_000)
            page.screenshot(path=str(out), full_page=True)
        finally:
            browser.close()


def main() -> None:
    out = Path(sys.argv[1] if len(sys.argv) > 1 else "docs/images/console.png").resolve()
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="kinko-shot-") as tmp:
        data = Path(tmp) / "kinko-data"
        demo, url = serve_demo(data, free_port())
        try:
            shoot(url, data, out)
        finally:
            stop(demo)
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
