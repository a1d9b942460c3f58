"""Revision f6a7b8c9d0e1 (screening review cases) up and down on both databases."""

from __future__ import annotations

import json

import pytest
from alembic import command
from sqlalchemy import inspect, text
from sqlalchemy.exc import IntegrityError

from kinko.context import Context
from kinko.store.migrate import alembic_config
from tests.integration.store.test_migrations import scratch_engine

REVISION = "f6a7b8c9d0e1"
BELOW = "e5f6a7b8c9d0"


def test_the_cases_table_comes_and_goes(ctx: Context, backend: str) -> None:
    with scratch_engine(ctx, backend, "casetest") as engine:
        cfg = alembic_config(engine.url.render_as_string(hide_password=False))
        with engine.begin() as conn:
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, BELOW)
            assert "screening_cases" not in inspect(conn).get_table_names()
            command.upgrade(cfg, REVISION)
            insert = text(
                "INSERT INTO screening_cases (id, case_key, state, name, requested_by, "
                "requested_at, askers, hits, list_versions, threshold) VALUES (:id, :key, "
                "'open', 'Pak Jin Hyok', 'user:u1', :at, :askers, '[]', '[]', 0.88)"
            )
            values = {"key": "k" * 64, "at": ctx.clock.now(), "askers": json.dumps(["u1"])}
            conn.execute(insert, {"id": "sc_1", **values})
            duplicate = conn.begin_nested()
            with pytest.raises(IntegrityError):  # the same subject and list versions: one case
                conn.execute(insert, {"id": "sc_2", **values})
            duplicate.rollback()
            assert conn.execute(text("SELECT count(*) FROM screening_cases")).scalar() == 1
            command.downgrade(cfg, BELOW)
            assert "screening_cases" not in inspect(conn).get_table_names()
