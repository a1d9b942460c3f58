"""A newcomer's first hour, as README.md tells it, in a fresh directory.

`make run`'s demo (without serving), then every CLI command of the README's code blocks,
verbatim, through bash, as real processes of ``.venv/bin/kinko``: on the demo's data, and
on an exchange of one's own (`kinko init`). Then the placeholder-free commands of the
docs/*.md code blocks on the demo's data. Then `kinko serve`, for real on a free port: it
prints its URL, and a browser gets the console's sign-in page, the demo's sign-in page and
the API documentation, all served by Kinko itself.

Every command must exit with the code its documentation gives (``# ... exit N`` in the
line's comment; else 0) and print no traceback.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

REPO = Path(__file__).resolve().parents[2]
VENV = REPO / ".venv"
BROWSER = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}
# Docs commands that need something the docs do not provide; each still appears in docs/.
NEEDS_INPUT = {
    "kinko withdraw utxo-import --wallet wal_btc_cold --tx funding.hex": "a funding "
    "transaction of the reader's own (the demo's act 3 imports synthetic ones)",
    "kinko cosign bundle.json --key holder": "an exported bundle and a key holder's "
    "key (the demo's act 3 runs the same code)",
}
PLACEHOLDER = re.compile(r"\b[A-Z][A-Z0-9_.]+\b|\[|\]|\||…|\.\.\.|<|\\$")
KNOWN_CAPS = {"ETH", "BTC", "USDC", "JPY", "KRW"}

pytestmark = [pytest.mark.slow, pytest.mark.timeout(240)]


@dataclass(frozen=True)
class Step:
    line: str
    expect: int  # the documented exit status


def code_blocks(text: str) -> list[str]:
    return re.findall(r"^```[a-z]*\n(.*?)^```", text, re.S | re.M)


def kinko_steps(block: str) -> list[Step]:
    """The block's `kinko` command lines, continuation lines joined."""
    steps = []
    for line in re.sub(r"\\\n\s*", " ", block).splitlines():
        line = line.strip()
        if re.match(r"([A-Z_]+=(\$\([^)]*\)|\S+)\s+)*(\.venv/bin/)?kinko\s", line):  # VAR=... kinko
            documented = re.search(r"#.*\bexit (\d)\b", line)
            steps.append(Step(line, int(documented.group(1)) if documented else 0))
    return steps


def has_placeholder(line: str) -> bool:
    command = line.split("#", 1)[0]
    return any(m.group(0) not in KNOWN_CAPS for m in PLACEHOLDER.finditer(command))


def newcomer_env(workdir: Path) -> dict[str, str]:
    """A shell as a newcomer has it: no KINKO_* settings, the repository's venv on PATH."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("KINKO_")}
    env.update(PATH=f"{VENV / 'bin'}:{env.get('PATH', '')}", COLUMNS="200", HOME=str(workdir))
    return env


def run(step: Step, cwd: Path, env: dict[str, str]) -> str:
    done = subprocess.run(
        ["bash", "-c", step.line],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    output = done.stdout + done.stderr
    assert "Traceback" not in output, f"{step.line}\n{output}"
    assert done.returncode == step.expect, (
        f"{step.line}\nexit {done.returncode}, documented {step.expect}\n{output}"
    )
    assert "no policy_path configured" not in output, f"{step.line}\n{output}"
    return output


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def serving(workdir: Path, env: dict[str, str], port: int) -> Iterator[tuple[str, list[str]]]:
    """`kinko serve` on the demo's data: its announced URL, and its output so far."""
    server = subprocess.Popen(
        [str(VENV / "bin" / "kinko"), "--data-dir", "./kinko-data", "serve", "--port", str(port)],
        cwd=workdir,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines: list[str] = []
    try:
        assert server.stdout is not None
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:  # up to the end of what it prints at start
            line = server.stdout.readline()
            lines.append(line)
            if not line or line.startswith("Try the CLI"):
                break
        found = re.search(r"Kinko is serving on (http://\S+?)/? ", "".join(lines))
        assert found is not None, "".join(lines)
        yield found.group(1), lines
    finally:
        server.send_signal(signal.SIGINT)
        try:
            rest, _ = server.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            rest, _ = server.communicate()
        lines.append(rest)
        assert "Traceback" not in "".join(lines), "".join(lines)


def wait_healthy(client: httpx.Client) -> None:
    deadline = time.monotonic() + 30
    while True:
        try:
            if client.get("/healthz").status_code == 200:
                return
        except httpx.TransportError:
            if time.monotonic() > deadline:
                raise
        time.sleep(0.2)


def docs_steps(workdir: Path) -> list[Step]:
    """The docs' own commands that can be pasted as they are (on the demo's data)."""
    steps = []
    seen_needs_input = set()
    for doc in sorted((REPO / "docs").glob("*.md")):
        for block in code_blocks(doc.read_text(encoding="utf-8")):
            for step in kinko_steps(block):
                skipped = [k for k in NEEDS_INPUT if step.line.startswith(k)]
                if skipped:
                    seen_needs_input.update(skipped)
                elif not has_placeholder(step.line):  # not a synopsis (DIR, [--option])
                    steps.append(Step(step.line.replace("/srv/", f"{workdir}/srv/"), step.expect))
    assert len(steps) >= 4, "the docs' runnable commands were not found"
    assert seen_needs_input == set(NEEDS_INPUT), "NEEDS_INPUT names a command docs/ dropped"
    return steps


def follow_the_demo(
    workdir: Path, env: dict[str, str], on_demo: list[Step], docs: list[Step]
) -> None:
    demo = run(Step(".venv/bin/kinko --data-dir kinko-data demo --no-serve", 0), workdir, env)
    assert "/console/demo-login" in demo and "/docs" in demo
    assert "kinko --data-dir kinko-data withdraw list" in demo  # commands for this data
    for step in on_demo:
        run(step, workdir, env)
    data = workdir / "kinko-data"  # the docs' relative paths are the data directory's
    for step in docs:
        run(step, data, {**env, "KINKO_DATA_DIR": str(data)})


def follow_own_exchange(workdir: Path, env: dict[str, str], own: list[Step]) -> None:
    for step in own:
        if " serve" in step.line:
            continue  # long-running: `kinko serve` is started for real afterwards
        out = run(step, workdir, env)
        if " init " in step.line:
            assert "enrolment secret" in out.lower()


def approve_as_demo_people(client: httpx.Client, login_page: str) -> None:
    """As the README says: sign in as bob, approve the 2 ETH withdrawal from the console's
    home, and as carol. (The session cookie is Secure: a browser sends it to localhost
    over http, httpx does not, so it is passed along by hand.)"""
    token = re.search(r'name="token" value="([^"]+)"', login_page)
    assert token is not None
    for name in ("bob", "carol"):
        signed = client.post(
            "/console/demo-login", data={"token": token.group(1), "username": name}
        )
        assert signed.status_code == 303, signed.text
        session = {
            "Cookie": f"__Host-kinko_session={signed.cookies['__Host-kinko_session']}",
            **BROWSER,
        }
        home = client.get("/console/", headers=session)
        link = re.search(r'href="(/console/withdrawals/wd_[^"]+)"', home.text)
        assert link is not None, home.text
        page = client.get(link.group(1), headers=session)
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
        assert csrf is not None and f"Approve with {name}'s demo authenticator" in page.text
        done = client.post(
            link.group(1).replace("/withdrawals/", "/demo-approve/"),
            data={"csrf_token": csrf.group(1)},
            headers=session,
        )
        assert done.status_code == 303, done.text
    after = client.get(link.group(1), headers=session)
    assert 'State: <strong id="wd-state">approved</strong>' in after.text  # no chain: it waits


def test_a_newcomer_follows_the_readme(tmp_path: Path) -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    blocks = code_blocks(readme)
    # The README begins with the two commands; `make run` runs the demo in ./kinko-data.
    first = blocks[0].splitlines()
    assert first[0].startswith("make run ") and first[1].startswith("make test ")
    makefile = (REPO / "Makefile").read_text(encoding="utf-8")
    assert "DATA_DIR ?= kinko-data" in makefile
    assert "kinko --data-dir $(DATA_DIR) demo" in makefile.split("\nrun:", 1)[1]

    workdir = tmp_path / "newcomer"
    workdir.mkdir()
    (workdir / ".venv").symlink_to(VENV)  # the README's `.venv/bin/kinko`, as in a clone
    env = newcomer_env(workdir)
    on_demo = [s for b in blocks for s in kinko_steps(b) if "./kinko-data" in s.line]
    own = [s for b in blocks for s in kinko_steps(b) if "./exchange" in s.line]
    assert len(on_demo) >= 10 and len(own) >= 5
    # A person's action (alice's request, with the token the demo wrote) goes to the server.
    as_alice = [s for s in on_demo if s.line.startswith("KINKO_TOKEN=")]
    on_demo = [s for s in on_demo if s not in as_alice]
    assert len(as_alice) == 1 and "withdraw request" in as_alice[0].line
    docs = docs_steps(workdir)
    started = time.monotonic()
    # Two shells side by side (each process is mostly start-up): the demo's data, and an
    # exchange of one's own.
    with ThreadPoolExecutor(2) as pool:
        demo_side = pool.submit(follow_the_demo, workdir, env, on_demo, docs)
        own_side = pool.submit(follow_own_exchange, workdir, env, own)
        demo_side.result()
        own_side.result()

    with serving(workdir, env, free_port()) as (url, printed):
        text = "".join(printed)
        assert url.startswith("http://localhost:")
        for where in ("/console/", "/docs", "/redoc", "/console/demo-login"):
            assert f"{url}{where}" in text, text
        port = int(url.rsplit(":", 1)[1])
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10) as client:
            wait_healthy(client)
            home = client.get("/", headers=BROWSER, follow_redirects=True)
            assert home.status_code == 200 and "text/html" in home.headers["content-type"]
            assert str(home.url).endswith("/console/login?next=%2Fconsole%2F")
            assert "Sign in" in home.text and "/console/demo-login" in home.text
            assert client.get("/console/").status_code == 401  # an API client: JSON
            people = client.get("/console/demo-login", headers=BROWSER)
            assert people.status_code == 200
            for name in ("alice", "bob", "carol", "sec1", "sec2"):
                assert f"Sign in as {name}" in people.text
            for step in as_alice:  # as the README says: while it serves
                run(step, workdir, {**env, "KINKO_ADDR": f"http://127.0.0.1:{port}"})
            approve_as_demo_people(client, people.text)
            for page in ("/docs", "/redoc"):
                html = client.get(page, headers=BROWSER)
                assert html.status_code == 200
                assert re.findall(r"https?://", html.text) == []  # nothing from a CDN
                for ref in re.findall(r'(?:src|href)="(/[^"]+)"', html.text):
                    assert client.get(ref).status_code == 200, ref
    assert time.monotonic() - started < 200
