"""Alembic migrations produce exactly the schema the code declares, on both databases."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, text

from kinko.context import Context
from kinko.store.base import Base
from kinko.store.migrate import is_initialised, upgrade


def test_upgrade_to_head_matches_the_declared_tables(ctx: Context, backend: str) -> None:
    engine = ctx.db.engine
    if backend == "postgresql":
        # The fixture's schema came from create_all; migrate a fresh schema instead.
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA IF EXISTS migtest CASCADE"))
            conn.execute(text("CREATE SCHEMA migtest"))
        engine = create_engine(ctx.db.url, connect_args={"options": "-csearch_path=migtest"})
    else:
        engine = create_engine(f"sqlite:///{ctx.settings.data_dir / 'migrated.db'}")
    try:
        assert not is_initialised(engine)
        upgrade(engine)
        assert is_initialised(engine)
        with engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
        assert diff == [], f"migrations and tables disagree: {diff}"
    finally:
        if backend == "postgresql":
            with engine.begin() as conn:
                conn.execute(text("DROP SCHEMA migtest CASCADE"))
        engine.dispose()
