"""Is the configured database Kinko's? Asked before a command uses it.

A command run before `kinko init` (or with a mistyped ``--data-dir``) gets one sentence
saying so and what to run, never a traceback from deep inside the store, and never a
fresh empty SQLite file left behind.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import inspect
from sqlalchemy.exc import OperationalError

from kinko.core.errors import ConfigError, Unavailable
from kinko.store.db import Database

MARKER_TABLE = "audit_entries"
"""Created by the first migration (and by the tests' schema): present once initialised."""


def require_initialised(db: Database, data_dir: Path) -> None:
    """Raise `ConfigError` on ``data_dir`` unless `db` holds Kinko's schema."""
    url = db.engine.url
    hint = f"run 'kinko init --data-dir {data_dir}' first (or give the right --data-dir)"
    database = url.database or ""
    on_disk = database not in ("", ":memory:") and not database.startswith("file:")
    if url.get_backend_name() == "sqlite" and on_disk and not Path(database).is_file():
        where = "does not exist" if not data_dir.exists() else "is not initialised"
        raise ConfigError("data_dir", f"{data_dir} {where}: {hint}")
    try:
        with db.engine.connect() as connection:
            present = inspect(connection).has_table(MARKER_TABLE)
    except OperationalError as exc:
        raise Unavailable(
            f"cannot reach the database at {url.render_as_string()}: {exc.orig}"
        ) from None
    if not present:
        raise ConfigError(
            "data_dir",
            f"{data_dir} is not initialised (the database at {url.render_as_string()} has no "
            f"Kinko tables): {hint}",
        )
