"""Revision 0f834917f454 (liabilities statements) up and down, on both databases."""

from __future__ import annotations

from alembic import command
from sqlalchemy import inspect

from kinko.context import Context
from kinko.store.migrate import alembic_config
from tests.integration.store.test_migrations import scratch_engine

REVISION, DOWN = "0f834917f454", "f6a7b8c9d0e1"
TABLES = {"liability_statements", "liability_totals", "liability_balances"}


def test_the_statements_migration_goes_up_and_down(ctx: Context, backend: str) -> None:
    with scratch_engine(ctx, backend, "stmttest") as engine:
        cfg = alembic_config(engine.url.render_as_string(hide_password=False))
        for target, present in ((REVISION, True), (DOWN, False), (REVISION, True)):
            with engine.begin() as conn:
                cfg.attributes["connection"] = conn
                if present:
                    command.upgrade(cfg, target)
                else:
                    command.downgrade(cfg, target)
                seen = inspect(conn)
                tables = set(seen.get_table_names())
                columns = {c["name"] for c in seen.get_columns("reserves_snapshots")}
            added = {"statement_id", "source_digest"}
            if present:
                assert tables >= TABLES and columns >= added
            else:
                assert not TABLES & tables and not added & columns
