"""Where the CLI keeps a person's session: ``$XDG_CONFIG_HOME/kinko/session.json``.

`kinko login` writes it (mode 0600, its directory 0700, whatever the umask); every command
that acts for a person reads it, and refuses a file its group or others may read, as ssh
refuses such an identity file, saying the ``chmod`` to run. ``KINKO_TOKEN`` (a session or
an API token) and ``KINKO_ADDR`` override it. Standard library only: `kinko --help` and
`kinko whoami` start without the database layer.
"""

from __future__ import annotations

import json
import os
import stat
from dataclasses import asdict, dataclass
from pathlib import Path

from kinko.core.errors import InputError
from kinko.core.secretfile import make_private_dir, write_private

FIELD = "session"


@dataclass(frozen=True, slots=True)
class StoredSession:
    """A signed-in person's session on one Kinko server."""

    addr: str
    session_token: str
    username: str
    user_id: str
    expires_at: str | None = None
    token_type: str = "Bearer"  # noqa: S105 - a scheme name, not a secret

    def to_json(self) -> dict[str, str | None]:
        return asdict(self)


class UnsafeSessionFile(InputError):
    """A session file its group or others may read or write."""

    code = "session_file_mode"


def config_dir() -> Path:
    """``$XDG_CONFIG_HOME/kinko``, else ``~/.config/kinko``."""
    base = os.environ.get("XDG_CONFIG_HOME", "").strip()
    root = Path(base) if base and Path(base).is_absolute() else Path.home() / ".config"
    return root / "kinko"


def session_path() -> Path:
    return config_dir() / "session.json"


def save(stored: StoredSession) -> Path:
    """Write the session (replacing any), 0600 in a 0700 directory."""
    path = session_path()
    make_private_dir(path.parent)
    write_private(path, (json.dumps(stored.to_json(), indent=2) + "\n").encode())
    return path


def load() -> StoredSession | None:
    """The stored session, None when there is none; refuses a file others may read."""
    path = session_path()
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise InputError(FIELD, f"cannot read {path}: {exc.strerror or exc}") from None
    with os.fdopen(fd, "rb") as handle:
        status = os.fstat(fd)
        if not stat.S_ISREG(status.st_mode):
            raise InputError(FIELD, f"{path} is not a regular file; remove it and sign in again")
        if stat.S_IMODE(status.st_mode) & 0o077:
            raise UnsafeSessionFile(
                FIELD,
                f"{path} holds your Kinko session but its mode is "
                f"{stat.S_IMODE(status.st_mode):04o} (others may read it); run "
                f"'chmod 600 {path}' and try again (or 'kinko logout' and sign in again)",
            )
        if hasattr(os, "getuid") and status.st_uid != os.getuid():
            raise UnsafeSessionFile(
                FIELD, f"{path} belongs to another user (uid {status.st_uid}); not using it"
            )
        raw = handle.read()
    try:
        data = json.loads(raw)
        return StoredSession(
            addr=str(data["addr"]),
            session_token=str(data["session_token"]),
            username=str(data["username"]),
            user_id=str(data["user_id"]),
            expires_at=None if data.get("expires_at") is None else str(data["expires_at"]),
            token_type=str(data.get("token_type") or "Bearer"),
        )
    except (ValueError, KeyError, TypeError):
        raise InputError(
            FIELD, f"{path} is not a Kinko session file; remove it and run 'kinko login'"
        ) from None


def remove() -> bool:
    """Delete the stored session; whether there was one."""
    try:
        session_path().unlink()
    except FileNotFoundError:
        return False
    return True
