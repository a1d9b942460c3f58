"""Identity benchmark: sign-ins and WebAuthn verifications per second, authorised GET latency.

1. WebAuthn assertion verification alone (py_webauthn + our counter check), one core.
2. Full sign-in (begin + finish: challenge row, verification, session, throttle reset,
   audit entry) on SQLite, one core.
3. p50/p99 latency of an authorised trivial GET (``/v1/roles``, bearer token, permission
   check) at 200 concurrent requests over real HTTP: uvicorn in its own process on
   127.0.0.1, SQLite. Target from the issue: p99 ≤ 20 ms.

``KINKO_BENCH_FULL=1`` runs larger sizes.
"""

from __future__ import annotations

import asyncio
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

FULL = os.environ.get("KINKO_BENCH_FULL") == "1"
VERIFY_N = 5000 if FULL else 1000
LOGIN_N = 1000 if FULL else 200
HTTP_CONCURRENCY = 200
HTTP_ROUNDS = 20 if FULL else 5


def _ctx(data_dir: Path):  # type: ignore[no-untyped-def]
    from kinko.config import Settings
    from kinko.context import build_context
    from kinko.store.base import Base

    settings = Settings(data_dir=data_dir, log_json=False, log_level="warning")
    ctx = build_context(settings)
    Base.metadata.create_all(ctx.db.engine)
    return ctx


def bench_verify() -> tuple[float, float]:
    from kinko.identity.model import UserId, WebAuthnCredential
    from kinko.identity.softauthn import SoftAuthenticator
    from kinko.identity.webauthn import RelyingParty, verify_assertion, verify_registration

    rp = RelyingParty("localhost", "Kinko", "http://localhost:8000")
    auth = SoftAuthenticator.generate(rp.rp_id)
    reg = verify_registration(
        rp,
        auth.register(challenge=b"r" * 32, origin=rp.origin),
        challenge=b"r" * 32,
        require_uv=True,
    )
    responses = [auth.assert_(challenge=b"c" * 32, origin=rp.origin) for _ in range(VERIFY_N)]
    timings = []
    count = 0
    for response in responses:
        cred = WebAuthnCredential(reg.credential_id, UserId("u"), reg.public_key_cose, count)
        start = time.perf_counter()
        result = verify_assertion(
            rp, response, challenge=b"c" * 32, credential=cred, require_uv=True
        )
        timings.append(time.perf_counter() - start)
        count = result.new_sign_count
    median = statistics.median(timings)
    return 1 / median, median * 1000


def bench_logins(data_dir: Path) -> tuple[float, float, float]:
    from webauthn.helpers import base64url_to_bytes

    from kinko.identity.model import RoleGrant
    from kinko.identity.permissions import Role
    from kinko.identity.service import IdentityService
    from kinko.identity.softauthn import SoftAuthenticator

    ctx = _ctx(data_dir)
    ids = IdentityService(ctx)
    with ctx.db.transaction() as session:
        user_id, secret = ids.users.add_user(session, "bench", actor="system:bench")
        ids.roles.unsafe_direct_grant(session, user_id, RoleGrant(Role.APPROVER), reason="bench")
    auth = SoftAuthenticator.generate(ctx.settings.webauthn_rp_id)
    origin = ctx.settings.webauthn_origin
    with ctx.db.transaction() as session:
        cid, options = ids.enrol_webauthn_begin(session, "bench", secret)
    reg = auth.register(challenge=base64url_to_bytes(options["challenge"]), origin=origin)
    with ctx.db.transaction() as session:
        ids.enrol_webauthn_finish(session, "bench", secret, cid, reg, source_ip="127.0.0.1")
    timings = []
    wall = time.perf_counter()
    for _ in range(LOGIN_N):
        start = time.perf_counter()
        cid, options = ids.login.begin_webauthn("bench", source_ip="127.0.0.1")
        response = auth.assert_(challenge=base64url_to_bytes(options["challenge"]), origin=origin)
        ids.login.finish_webauthn(cid, response, source_ip="127.0.0.1")
        timings.append(time.perf_counter() - start)
    wall = time.perf_counter() - wall
    ctx.db.dispose()
    median = statistics.median(timings)
    return LOGIN_N / wall, median * 1000, _p(timings, 0.99) * 1000


def _p(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


SERVER = """
import sys, uvicorn
from kinko.config import Settings
from kinko.context import build_context
from kinko.server import create_app
ctx = build_context(Settings(data_dir=sys.argv[1], log_json=False, log_level="warning"))
uvicorn.run(create_app(ctx), host="127.0.0.1", port=int(sys.argv[2]), log_level="warning",
            access_log=False)
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _make_token(data_dir: Path) -> str:
    from kinko.identity.model import RoleGrant
    from kinko.identity.permissions import Role
    from kinko.identity.service import IdentityService

    ctx = _ctx(data_dir)
    ids = IdentityService(ctx)
    with ctx.db.transaction() as session:
        user_id, _ = ids.users.add_user(session, "svc", actor="system:bench")
        ids.roles.unsafe_direct_grant(session, user_id, RoleGrant(Role.AUDITOR), reason="bench")
        ids.users.consume_enrolment(session, ids.users.user_row(session, user_id))
        terms = ids.tokens.terms(
            session, owner_id=user_id, name="bench", permissions=["users:read"]
        )
        _, token = ids.tokens.create(session, terms, actor="system:bench")
    ctx.db.dispose()
    return token


async def _load(
    port: int, token: str, concurrency: int, rounds: int
) -> tuple[list[float], float, int]:
    import httpx

    headers = {"Authorization": f"Bearer {token}"}
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    latencies: list[float] = []
    errors = 0
    async with httpx.AsyncClient(
        base_url=f"http://127.0.0.1:{port}", limits=limits, timeout=60
    ) as client:

        async def one() -> None:
            nonlocal errors
            start = time.perf_counter()
            try:
                response = await client.get("/v1/roles", headers=headers)
            except httpx.HTTPError:
                errors += 1  # counted and reported, not timed
                return
            latencies.append(time.perf_counter() - start)
            if response.status_code != 200:
                errors += 1

        for _ in range(0, concurrency, 25):  # warm-up: open connections 25 at a time
            await asyncio.gather(*(one() for _ in range(min(25, concurrency))))
        errors = 0
        latencies.clear()
        wall = time.perf_counter()
        for _ in range(rounds):
            await asyncio.gather(*(one() for _ in range(concurrency)))
        wall = time.perf_counter() - wall
    return latencies, wall, errors


def _wait_ready(port: int) -> None:
    import httpx

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError("the benchmark server did not start")


def _cpu_seconds(pid: int) -> float:
    """User + system CPU time of process `pid` (all its threads), from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def bench_http(data_dir: Path) -> list[tuple[int, float, float, float, int, float]]:
    token = _make_token(data_dir)
    port = _free_port()
    env = {**os.environ, "KINKO_LOG_JSON": "false"}
    proc = subprocess.Popen([sys.executable, "-c", SERVER, str(data_dir), str(port)], env=env)
    try:
        _wait_ready(port)
        results = []
        for concurrency, rounds in ((1, 200), (10, 40), (HTTP_CONCURRENCY, HTTP_ROUNDS)):
            cpu = _cpu_seconds(proc.pid)
            lat, wall, errors = asyncio.run(_load(port, token, concurrency, rounds))
            cpu = _cpu_seconds(proc.pid) - cpu  # includes the warm-up requests
            warmups = -(-concurrency // 25) * min(25, concurrency)
            results.append(
                (
                    concurrency,
                    statistics.median(lat) * 1000,
                    _p(lat, 0.99) * 1000,
                    len(lat) / wall,
                    errors,
                    cpu / (len(lat) + warmups) * 1000,
                )
            )
        return results
    finally:
        proc.terminate()
        proc.wait(10)


def main() -> None:
    console = Console()
    with tempfile.TemporaryDirectory(prefix="kinko-bench-") as tmp:
        root = Path(tmp)
        verify_rate, verify_ms = bench_verify()
        (root / "login").mkdir()
        login_rate, login_median, login_p99 = bench_logins(root / "login")
        (root / "http").mkdir()
        http = bench_http(root / "http")
    table = Table(title=f"identity benchmark ({'full' if FULL else 'default'} sizes)")
    table.add_column("measure")
    table.add_column("value", justify="right")
    table.add_row(f"WebAuthn assertion verify, median ({VERIFY_N} runs)", f"{verify_ms:.3f} ms")
    table.add_row("WebAuthn assertion verifications / s (1 core)", f"{verify_rate:,.0f}")
    table.add_row(f"sign-in (begin+finish, SQLite), {LOGIN_N} runs: / s", f"{login_rate:,.1f}")
    table.add_row("sign-in median / p99", f"{login_median:.2f} / {login_p99:.2f} ms")
    load = os.getloadavg()[0]
    for concurrency, p50, p99, rps, errors, cpu_ms in http:
        table.add_row(
            f"GET /v1/roles (token) at {concurrency} concurrent: p50 / p99",
            f"{p50:.1f} / {p99:.1f} ms",
        )
        table.add_row(f"  ... throughput, errors at {concurrency}", f"{rps:,.0f} req/s, {errors}")
        table.add_row(f"  ... server CPU per request at {concurrency}", f"{cpu_ms:.2f} ms")
    table.add_row("1-minute load average at the end", f"{load:.1f}")
    table.caption = "target: p99 ≤ 20 ms at 200 concurrent (see docs/bench/identity.md)"
    console.print(table)


if __name__ == "__main__":
    main()
