"""The CLI's HTTP client: a person acts through the API of `kinko serve`, with their session.

As Vault's and Teleport's CLIs do, every command that acts for a person sends that person's
own credential: the session `kinko login` stored (`kinko.cli.session`), or ``KINKO_TOKEN``
(a session or an API token). ``KINKO_ADDR`` names the server (else the stored session's,
else ``http://127.0.0.1:8000``). The server decides who may do what; the CLI never names
someone else.

Errors: the API answers ``{"error": code, "message": ..., "field"?}``; a refusal becomes
`ApiError`, whose exit status follows the CLI's (input 4xx → 2; 401, 403, 429 → 1; 5xx →
1) and whose ``--json`` document is the API's own. httpx is imported only when a request is
made (`kinko --help` starts without it).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from kinko import __version__
from kinko.cli import session as stored_session
from kinko.core.errors import AuthenticationError, KinkoError, Unavailable

if TYPE_CHECKING:
    import httpx

DEFAULT_ADDR = "http://127.0.0.1:8000"
ADDR_ENV = "KINKO_ADDR"
TOKEN_ENV = "KINKO_TOKEN"  # noqa: S105 - the variable's name
TIMEOUT_S = 60.0
NOT_SIGNED_IN = (
    "not signed in: run 'kinko login' (your browser confirms it with your security key), "
    "or set KINKO_TOKEN to a session or API token"
)


@dataclass(frozen=True, slots=True)
class Credential:
    """Where to send requests and the bearer to send with them."""

    addr: str
    token: str
    source: str  # "KINKO_TOKEN" or the session file's path
    username: str | None = None  # known for a stored session


class ApiError(KinkoError):
    """The API refused: its error code, message and (bad input) field, as it sent them."""

    def __init__(self, status: int, code: str, message: str, *, field: str | None = None) -> None:
        super().__init__(message, code=code)
        self.status = status
        self.field = field
        self.exit_code = exit_status(status, code)  # type: ignore[misc]

    def to_dict(self) -> dict[str, str]:
        out = {"error": self.code, "message": self.message}
        if self.field is not None:
            out["field"] = self.field
        return out


def exit_status(status: int, code: str) -> int:
    """The CLI's exit status for an API answer: 2 for bad input (4xx, but 401, 403 and
    429: who you are, what you may do, wait), 1 otherwise; a failed integrity check is 1
    (as `IntegrityError` is on the CLI)."""
    if status in (401, 403, 429) or status >= 500 or code == "integrity_failure":
        return 1
    return 2 if 400 <= status < 500 else 1


def normalise_addr(addr: str) -> str:
    from kinko.core.errors import InputError

    text = addr.strip().rstrip("/")
    if not text.startswith(("http://", "https://")) or len(text) <= len("https://"):
        raise InputError("addr", f"{addr!r} is not a URL like http://127.0.0.1:8000")
    return text


def default_addr() -> str:
    """``KINKO_ADDR``, else the stored session's server, else the local default."""
    env = os.environ.get(ADDR_ENV, "").strip()
    if env:
        return normalise_addr(env)
    stored = stored_session.load()
    return stored.addr if stored is not None else DEFAULT_ADDR


def credential() -> Credential:
    """Whose requests these are: ``KINKO_TOKEN``, else the stored session.

    A stored session is sent only to the server it was issued by: with ``KINKO_ADDR``
    naming another one, the command is refused rather than leak the session there."""
    env_addr = os.environ.get(ADDR_ENV, "").strip()
    token = os.environ.get(TOKEN_ENV, "").strip()
    if token:
        addr = normalise_addr(env_addr) if env_addr else default_addr()
        return Credential(addr, token, TOKEN_ENV)
    stored = stored_session.load()
    if stored is None:
        raise AuthenticationError(NOT_SIGNED_IN, code="not_signed_in")
    if env_addr and normalise_addr(env_addr) != stored.addr:
        raise AuthenticationError(
            f"your session is for {stored.addr}, not {normalise_addr(env_addr)}: run "
            f"'kinko login --addr {normalise_addr(env_addr)}'",
            code="not_signed_in",
        )
    return Credential(
        stored.addr,
        stored.session_token,
        str(stored_session.session_path()),
        username=stored.username,
    )


def make_http_client(base_url: str, headers: Mapping[str, str], timeout: float) -> httpx.Client:
    """The HTTP client requests go through (tests give the API in the same process)."""
    import httpx

    return httpx.Client(base_url=base_url, headers=dict(headers), timeout=timeout)


def user_agent() -> str:
    return f"kinko-cli/{__version__}"


class Api:
    """Requests to one Kinko server, as one credential (or none, for sign-in)."""

    def __init__(self, addr: str, token: str | None = None, *, source: str = "") -> None:
        self.addr = addr
        self.source = source
        headers = {"Accept": "application/json", "User-Agent": user_agent()}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        self._client = make_http_client(addr, headers, TIMEOUT_S)

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> Api:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def get(self, path: str, *, params: Mapping[str, Any] | None = None) -> Any:
        return self.request("GET", path, params=params)[1]

    def post(
        self,
        path: str,
        body: Any = None,
        *,
        headers: Mapping[str, str] | None = None,
        params: Mapping[str, Any] | None = None,
    ) -> Any:
        return self.request("POST", path, body=body, headers=headers, params=params)[1]

    def put(self, path: str, body: Any = None) -> Any:
        return self.request("PUT", path, body=body)[1]

    def request(
        self,
        method: str,
        path: str,
        *,
        body: Any = None,
        params: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        accept: tuple[int, ...] = (),
    ) -> tuple[int, Any]:
        """(status, JSON body); `ApiError` for an error answer (one whose status is not in
        `accept`), `Unavailable` when the server cannot be reached."""
        response = self.send(method, path, body=body, params=params, headers=headers, accept=accept)
        return response.status_code, _json(response)

    def send(
        self,
        method: str,
        path: str,
        *,
        body: Any = None,
        params: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        files: Mapping[str, Any] | None = None,
        accept: tuple[int, ...] = (),
    ) -> httpx.Response:
        """The response itself (its headers too), errors mapped as `request` maps them.
        With `files` (a multipart upload), `body` holds the form's other fields."""
        import httpx

        try:
            response = self._client.request(
                method,
                path,
                json=body if files is None else None,
                data=body if files is not None else None,
                files=files,
                params={k: v for k, v in (params or {}).items() if v is not None},
                headers=dict(headers or {}),
            )
        except httpx.TransportError as exc:
            raise Unavailable(
                f"cannot reach Kinko at {self.addr} ({type(exc).__name__}: {exc}); is "
                "'kinko serve' running there? Set KINKO_ADDR or run 'kinko login --addr URL'"
            ) from None
        if response.status_code < 400 or response.status_code in accept:
            return response
        raise self._error(response.status_code, _json(response), response.text)

    def _error(self, status: int, data: Any, text: str) -> ApiError:
        if isinstance(data, dict) and isinstance(data.get("message"), str):
            code = str(data.get("error") or "http_error")
            message = data["message"]
            field = data.get("field")
            if status == 429 and data.get("retry_after"):
                message = f"{message} (retry after {data['retry_after']} s)"
            if status == 401 and self.source and self.source != TOKEN_ENV:
                message = f"{message} (run 'kinko login' to sign in again)"
            return ApiError(status, code, message, field=field if isinstance(field, str) else None)
        detail = text.strip().splitlines()[0][:200] if text.strip() else "no details"
        return ApiError(status, "http_error", f"HTTP {status} from {self.addr}: {detail}")


def _json(response: httpx.Response) -> Any:
    try:
        return response.json() if response.content else None
    except ValueError:
        return None


def connect() -> Api:
    """An `Api` acting as the signed-in person (or ``KINKO_TOKEN``); use it in `with`."""
    found = credential()
    return Api(found.addr, found.token, source=found.source)


def anonymous(addr: str) -> Api:
    """An `Api` with no credential (signing in); use it in `with`."""
    return Api(addr)
