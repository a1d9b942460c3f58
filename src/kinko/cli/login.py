"""`kinko login`, `kinko logout`, `kinko whoami`: the CLI acts for a person with their session.

`kinko login` signs in through the browser, device-flow style (the browser page asks for
the person's security key), or with a TOTP code where the policy allows it; the session is
stored 0600 (`kinko.cli.session`) and sent with every command that acts for the person
(`kinko.cli.api`). Nothing here opens the database.
"""

from __future__ import annotations

import getpass
import socket
from datetime import UTC, datetime, timedelta
from http.cookies import SimpleCookie
from typing import TYPE_CHECKING, Annotated, Any

import typer

from kinko import __version__
from kinko.cli import api as kapi
from kinko.cli import session as stored_session
from kinko.cli.browser_confirm import read_asked, wait_for_answer
from kinko.cli.common import console, echo_json, err_console, fail
from kinko.cli.output import JsonOption, guarded_json, print_fields
from kinko.core.errors import InputError, KinkoError

if TYPE_CHECKING:
    import httpx

# kinko.identity.sessions.COOKIE_NAME (not imported here: the CLI starts light)
SESSION_COOKIE = "__Host-kinko_session"


def _store(addr: str, signed: dict[str, Any], token: str, expires_at: str | None) -> None:
    stored = stored_session.StoredSession(
        addr=addr,
        session_token=token,
        username=str(signed["username"]),
        user_id=str(signed["user_id"]),
        expires_at=expires_at,
    )
    path = stored_session.save(stored)
    console.print(
        f"Signed in to {addr} as [bold]{stored.username}[/] (session in {path}, mode 0600)",
        highlight=False,
        soft_wrap=True,
    )


def _device_flow(api: kapi.Api) -> tuple[dict[str, Any], str, str | None]:
    """Begin a device sign-in, show its URL and code, poll until the person confirms it in
    the browser: (the signed-in document, the session token, its expiry)."""
    begun = api.post(
        "/v1/auth/device/begin",
        {"client": f"kinko-cli {__version__} on {socket.gethostname()}"},
    )
    asked = read_asked(api, begun, "device_code")
    err_console.print(
        f"To sign in, open this page in your browser and confirm with your security key:\n"
        f"  {asked.page}\n"
        f"(or open {asked.uri} and enter the code {asked.user_code}). The code is "
        f"{asked.user_code}; it expires in {asked.expires_in // 60} min. Waiting…",
        markup=False,
        highlight=False,
    )
    expired = "the sign-in code expired before it was confirmed; run 'kinko login' again"
    data = wait_for_answer(
        api,
        "/v1/auth/device/token",
        {"device_code": asked.code},
        asked,
        refused=lambda: fail("sign-in refused: the request was denied in the browser"),
        expired=lambda: fail(expired),
    )
    return data, str(data["session_token"]), data.get("expires_at")


def _totp(api: kapi.Api, username: str | None) -> tuple[dict[str, Any], str, str | None]:
    """Sign in with a username and a TOTP code (where the policy allows it)."""
    name = username or typer.prompt("Username")
    code = getpass.getpass("TOTP code: ") if _interactive() else typer.prompt("TOTP code")
    response = api.send("POST", "/v1/auth/login/totp", body={"username": name, "code": code})
    token, expires_at = _session_cookie(response)
    if token is None:
        raise InputError("addr", f"{api.addr} signed you in but sent no session")
    return response.json(), token, expires_at


def _interactive() -> bool:
    import sys

    return sys.stdin.isatty()


def _session_cookie(response: httpx.Response) -> tuple[str | None, str | None]:
    """The session the server set (its Set-Cookie), and when it expires."""
    for header in response.headers.get_list("set-cookie"):
        jar: SimpleCookie = SimpleCookie()
        jar.load(header)
        morsel = jar.get(SESSION_COOKIE)
        if morsel is not None and morsel.value:
            max_age = morsel.get("max-age")
            expires = None
            if max_age and str(max_age).isdigit():
                when = datetime.now(UTC) + timedelta(seconds=int(max_age))
                expires = when.strftime("%Y-%m-%dT%H:%M:%SZ")
            return morsel.value, expires
    return None, None


def register(app: typer.Typer) -> None:
    """Add `login`, `logout` and `whoami` to `app`."""

    @app.command("login")
    def login(
        addr: Annotated[
            str | None,
            typer.Option(help="The Kinko server (default: KINKO_ADDR, else your last one)."),
        ] = None,
        totp: Annotated[
            bool, typer.Option("--totp", help="Sign in with a TOTP code (where policy allows).")
        ] = False,
        username: Annotated[
            str | None, typer.Option(help="With --totp: your username (else prompted).")
        ] = None,
    ) -> None:
        """Sign in (in the browser with your security key, or --totp); the CLI acts as you."""
        with guarded_json(False):
            where = kapi.normalise_addr(addr) if addr else kapi.default_addr()
            with kapi.anonymous(where) as api:
                signed, token, expires_at = _totp(api, username) if totp else _device_flow(api)
            _store(where, signed, token, expires_at)

    @app.command("logout")
    def logout() -> None:
        """End your session on the server and forget it here."""
        with guarded_json(False):
            stored = stored_session.load()
            if stored is None:
                console.print("Not signed in (no stored session).")
                return
            revoked, problem = True, ""
            try:
                with kapi.Api(stored.addr, stored.session_token) as api:
                    api.post("/v1/auth/logout")
            except kapi.ApiError as exc:
                if exc.status != 401:  # 401: the session had ended already
                    revoked, problem = False, exc.message
            except KinkoError as exc:  # unreachable: the file goes all the same
                revoked, problem = False, exc.message
            stored_session.remove()
        if not revoked:
            raise fail(
                f"forgot the session here, but {stored.addr} could not revoke it ({problem}); "
                "it ends by itself when idle"
            )
        console.print(f"Signed out of {stored.addr} ({stored.username}).", highlight=False)

    @app.command("whoami")
    def whoami(as_json: JsonOption = False) -> None:
        """Who the CLI acts as, and on which server."""
        with guarded_json(as_json), kapi.connect() as api:
            me = api.get("/v1/auth/me")
            addr, source = api.addr, api.source
        if as_json:
            echo_json({**me, "addr": addr, "credential": source})
            return
        roles = ", ".join(str(g.get("role")) for g in me.get("roles", [])) or "-"
        print_fields(
            None,
            [
                ("username", me.get("username")),
                ("user id", me.get("user_id")),
                ("server", addr),
                ("credential", f"API token {me['token_id']}" if me.get("token_id") else "session"),
                ("from", source),
                ("roles", roles),
            ],
        )
