"""Run Alembic migrations programmatically (used by `kinko init` and the tests)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, inspect
from sqlalchemy.exc import OperationalError

from kinko.core.errors import Unavailable

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config(url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def upgrade(engine: Engine) -> None:
    cfg = alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.begin() as connection:
        cfg.attributes["connection"] = connection
        command.upgrade(cfg, "head")


def is_initialised(engine: Engine) -> bool:
    """True when migrations have run. Never creates a SQLite file as a side effect."""
    url = engine.url
    on_disk = url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:")
    if on_disk and not Path(url.database or "").exists():
        return False
    try:
        return "alembic_version" in inspect(engine).get_table_names()
    except OperationalError as exc:
        where = url.render_as_string()
        raise Unavailable(f"cannot reach the database at {where}: {exc.orig}") from exc
