"""What `kinko serve` and `kinko demo` print: where the server is, where the console and
the API documentation are, how the demo's people sign in, and CLI commands to try on the
same data directory. Light on imports: the CLI loads it before anything heavy."""

from __future__ import annotations

import os
import shlex
import shutil
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rich.console import Console

    from kinko.config import Settings

# The demo's customer (allow-listed) and the address on its stolen-funds list.
DEMO_CUSTOMER = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"
DEMO_LISTED = "0x098B716B8Aaf21512996dC57EB0615e2383E2f96"


def base_url(host: str, port: int) -> str:
    """The URL to open. Loopback (and every-address) binds read as ``localhost``: the
    WebAuthn relying party id follows the served URL, and a browser signs in with a
    security key on http only at ``localhost`` (`kinko.core.urls`)."""
    from kinko.core.urls import local_url

    return local_url(host, port)


def secure_context(origin: str) -> bool:
    """A browser offers security keys on pages of `origin` (https, or http on localhost)."""
    from kinko.core.urls import host_of

    host = host_of(origin)
    return origin.startswith("https://") or host == "localhost" or host.endswith(".localhost")


def kinko_program() -> str:
    """The CLI spelt as this process was started: ``kinko`` when that is the one on the
    PATH, else its path (``.venv/bin/kinko`` from the repository)."""
    argv0 = sys.argv[0] if sys.argv and sys.argv[0] else "kinko"
    if Path(argv0).name != "kinko":
        return "kinko"
    on_path = shutil.which("kinko")
    if on_path is not None and Path(on_path).resolve() == Path(argv0).resolve():
        return "kinko"
    return _short(Path(argv0))


def kinko_command(data_dir: Path) -> str:
    """How to run the CLI again on `data_dir`."""
    return f"{kinko_program()} --data-dir {shlex.quote(str(data_dir))}"


def _short(path: Path) -> str:
    try:
        relative = os.path.relpath(path.resolve(), Path.cwd())
    except ValueError:
        return str(path)
    return relative if not relative.startswith("..") else str(path)


def try_commands(data_dir: Path, *, demo: bool) -> list[str]:
    """CLI commands that work on `data_dir` as it is (the demo's, or a fresh `kinko init`)."""
    k = kinko_command(data_dir)
    export = shlex.quote(str(data_dir / "audit-export"))
    vkey = shlex.quote(str(data_dir / "audit-log.vkey"))
    token = shlex.quote(str(data_dir / "demo-alice.token"))
    common = [
        f"{k} user list",
        f"{k} withdraw list",
        f"{k} audit export {export}",
        f'{kinko_program()} audit verify {export} --vkey "$(cat {vkey})"',
    ]
    if not demo:
        return common
    return [
        *common[:2],
        # through the server, as alice with her own token (the demo wrote it)
        f"KINKO_TOKEN=$(cat {token}) {kinko_program()} withdraw request --asset ETH "
        f"--amount 2 --to {DEMO_CUSTOMER}    # while it serves",
        f"{k} screen address {DEMO_LISTED}    # on the demo's list: exit 1",
        f"{k} wallet list",
        f"{k} addressbook list",
        f"{k} custody status --regime kr",
        *common[2:],
    ]


def serving_lines(
    settings: Settings, host: str, port: int, *, demo_login: bool, workers: int = 1
) -> list[str]:
    """What to print when the server starts."""
    from kinko.web.demo_login import demo_people

    bound = base_url(host, port)
    url = settings.public_url or bound
    lines = [
        f"Kinko is serving on {bound}/"
        + (f", opened at {url}/" if url != bound else "")
        + (f" ({workers} worker processes)" if workers > 1 else "")
        + " — stop it with Ctrl+C",
        f"  console   {url}/console/ (new people enrol at {url}/console/enrol)",
        f"  API docs  {url}/docs (Swagger UI), {url}/redoc (ReDoc), {url}/openapi.json",
        f"  health    {url}/healthz",
        f"  security keys: relying party {settings.webauthn_rp_id}, "
        f"origin {settings.webauthn_origin}",
    ]
    if not secure_context(settings.webauthn_origin):
        lines.append(
            f"  browsers offer security keys only on https pages or at http://localhost: "
            f"to sign in from {url}, serve Kinko behind a TLS proxy and set public_url "
            f"(KINKO_PUBLIC_URL) to its https address"
        )
    people = demo_people(settings.data_dir)
    if people and demo_login:
        who = ", ".join(f"{name} ({roles})" for name, roles in people)
        lines += [
            f"Demo people sign in at {url}/console/demo-login: {who}.",
            "  Their software authenticators are in "
            f"{settings.data_dir / 'demo-authenticators'}; the CLI acts for alice with her "
            f"token in {settings.data_dir / 'demo-alice.token'} (KINKO_TOKEN), for anyone "
            "with 'kinko login'.",
        ]
    elif people:
        lines.append(
            "The demo's people can sign in through /console/demo-login only when the server "
            "runs in one process on a loopback address (e.g. --host 127.0.0.1); the CLI acts "
            "for alice with her token in demo-alice.token (KINKO_TOKEN)."
        )
    lines.append("Try the CLI on the same data directory (in another terminal):")
    lines += [f"  {c}" for c in try_commands(settings.data_dir, demo=bool(people))]
    return lines


def after_demo_lines(settings: Settings) -> list[str]:
    """What `kinko demo --no-serve` prints when it is done."""
    url = base_url(settings.host, settings.port)
    k = kinko_command(settings.data_dir)
    return [
        f"Done. The demo's exchange is in {settings.data_dir}. Serve it with '{k} serve', "
        f"then open {url}/console/ — the demo's people sign in at "
        f"{url}/console/demo-login — and the API documentation at {url}/docs.",
        "Try the CLI on it:",
        *(f"  {c}" for c in try_commands(settings.data_dir, demo=True)),
    ]


def show(out: Console, lines: list[str]) -> None:
    """Print whole lines (a URL or a command cut in two cannot be copied), no markup."""
    for line in lines:
        out.print(line, markup=False, highlight=False, soft_wrap=True)
