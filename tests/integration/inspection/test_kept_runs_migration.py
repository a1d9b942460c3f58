"""Revision f6c1d2e3a4b5 (the inspection runs the server keeps, issue #17) up and down on
both databases: upgrading adds the three tables, and a kept run's rows go in; downgrading
to the revision before removes them; upgrading again restores them."""

from __future__ import annotations

from alembic import command
from sqlalchemy import Connection, text

from kinko.context import Context
from kinko.store.migrate import alembic_config
from tests.integration.store.test_migrations import scratch_engine

REVISION, BEFORE = "f6c1d2e3a4b5", "0f834917f454"
TABLES = {"inspection_runs", "inspection_artefacts", "inspection_run_files"}


def tables(conn: Connection) -> set[str]:
    return set(conn.dialect.get_table_names(conn)) & TABLES


def test_kept_runs_migrate_up_and_down(ctx: Context, backend: str) -> None:
    with scratch_engine(ctx, backend, "keptruns") as engine:
        cfg = alembic_config(engine.url.render_as_string(hide_password=False))
        with engine.begin() as conn:
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, REVISION)
            assert tables(conn) == TABLES
            at = {"at": ctx.clock.now()}
            conn.execute(
                text(
                    "INSERT INTO inspection_runs (id, framework, period_from, period_to, "
                    "formats, state, running_key, requested_by, requested_at) VALUES ('irun_1', "
                    "'jp', '2026-01-01', '2026-01-31', 'json', 'running', 'jp:x', 'user:u', :at)"
                ),
                at,
            )
            conn.execute(
                text(
                    "INSERT INTO inspection_artefacts (digest, size, content, stored_at) "
                    "VALUES (:d, 2, :c, :at)"
                ),
                {"d": "ab" * 32, "c": b"{}", **at},
            )
            conn.execute(
                text(
                    "INSERT INTO inspection_run_files (run_id, kind, name, media_type, digest, "
                    "size) VALUES ('irun_1', 'json', 'r.json', 'application/json', :d, 2)"
                ),
                {"d": "ab" * 32},
            )
        with engine.begin() as conn:
            cfg.attributes["connection"] = conn
            command.downgrade(cfg, BEFORE)
            assert tables(conn) == set()
            command.upgrade(cfg, "head")
            assert tables(conn) == TABLES
