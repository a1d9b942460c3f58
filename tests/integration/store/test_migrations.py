"""Alembic migrations produce exactly the schema the code declares, on both databases."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, create_engine, text

from kinko.context import Context
from kinko.store.base import Base
from kinko.store.migrate import alembic_config, is_initialised, upgrade


@contextmanager
def scratch_engine(ctx: Context, backend: str, name: str) -> Iterator[Engine]:
    """An empty database to migrate: a SQLite file, or a PostgreSQL schema `name` (the
    fixture's own schema came from create_all), dropped afterwards."""
    if backend == "postgresql":
        with ctx.db.engine.begin() as conn:
            conn.execute(text(f"DROP SCHEMA IF EXISTS {name} CASCADE"))
            conn.execute(text(f"CREATE SCHEMA {name}"))
        engine = create_engine(ctx.db.url, connect_args={"options": f"-csearch_path={name}"})
    else:
        engine = create_engine(f"sqlite:///{ctx.settings.data_dir / f'{name}.db'}")
    try:
        yield engine
    finally:
        if backend == "postgresql":
            with engine.begin() as conn:
                conn.execute(text(f"DROP SCHEMA {name} CASCADE"))
        engine.dispose()


def test_upgrade_to_head_matches_the_declared_tables(ctx: Context, backend: str) -> None:
    with scratch_engine(ctx, backend, "migtest") as engine:
        assert not is_initialised(engine)
        upgrade(engine)
        assert is_initialised(engine)
        with engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
        assert diff == [], f"migrations and tables disagree: {diff}"


def test_unfreeze_proposals_move_into_identity_proposals(ctx: Context, backend: str) -> None:
    """Revision f1c2d3e4a5b6: an unfreeze proposal made before lifting a freeze became an
    identity proposal is one afterwards, id, people, reason and decision kept."""
    with scratch_engine(ctx, backend, "movetest") as engine:
        _check_unfreezes_moved(ctx, engine)


def _check_unfreezes_moved(ctx: Context, engine: Engine) -> None:
    cfg = alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "e5a9c0d17b38")
        conn.execute(
            text(
                "INSERT INTO freezes (id, scope, target, reason, actor, created_at) "
                "VALUES ('frz_1', 'wallet', 'eth-hot', 'drill', 'user:u_ops', :at)"
            ),
            {"at": ctx.clock.now()},
        )
        conn.execute(
            text(
                "INSERT INTO unfreeze_proposals (id, freeze_id, proposer, reason, status, "
                "approver, created_at, decided_at, expires_at) VALUES ('unf_1', 'frz_1', "
                "'user:u_sec1', 'over', 'pending', NULL, :at, NULL, :at)"
            ),
            {"at": ctx.clock.now()},
        )
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")
        [row] = conn.execute(
            text("SELECT id, kind, payload, proposer_id, state, reason FROM identity_proposals")
        ).all()
        assert "unfreeze_proposals" not in conn.dialect.get_table_names(conn)
    payload = row.payload if isinstance(row.payload, dict) else json.loads(row.payload)
    assert (row.id, row.kind, row.proposer_id, row.state, row.reason) == (
        "unf_1",
        "release_freeze",
        "u_sec1",
        "pending",
        "over",
    )
    assert payload == {"freeze_id": "frz_1", "scope": "wallet", "target": "eth-hot"}


def test_address_book_proposals_move_into_identity_proposals(ctx: Context, backend: str) -> None:
    """Revision b3d4e5f6a7c8: address-book proposals become identity proposals (kind
    ``address_book_entry``), ids, people and decisions kept, a rejection a refusal; going
    back down restores them."""
    with scratch_engine(ctx, backend, "booktest") as engine:
        _check_address_book_moved(ctx, engine)


def _check_address_book_moved(ctx: Context, engine: Engine) -> None:
    cfg = alembic_config(engine.url.render_as_string(hide_password=False))
    insert = text(
        "INSERT INTO address_book_proposals (id, action, chain, address, label, owner_kind, "
        "tiers_allowed, proposer, status, approver, created_at, decided_at, expires_at) "
        "VALUES (:id, 'add', 'ethereum', '0xAb', 'desk', 'partner', :tiers, 'user:u_ann', "
        ":status, :approver, :at, NULL, :at)"
    )
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "a7b8c9d0e1f2")
        for pid, status, approver in (
            ("abp_1", "pending", None),
            ("abp_2", "rejected", "user:u_ben"),
        ):
            conn.execute(
                insert,
                {
                    "id": pid,
                    "tiers": json.dumps(["hot", "cold"]),
                    "status": status,
                    "approver": approver,
                    "at": ctx.clock.now(),
                },
            )
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "b3d4e5f6a7c8")
        rows = conn.execute(
            text(
                "SELECT id, kind, payload, proposer_id, state, decided_by, reason "
                "FROM identity_proposals ORDER BY id"
            )
        ).all()
        assert "address_book_proposals" not in conn.dialect.get_table_names(conn)
    moved = [(r.id, r.kind, r.proposer_id, r.state, r.decided_by, r.reason) for r in rows]
    assert moved == [
        (
            "abp_1",
            "address_book_entry",
            "u_ann",
            "pending",
            None,
            "address-book entry 'desk' on ethereum",
        ),
        (
            "abp_2",
            "address_book_entry",
            "u_ann",
            "refused",
            "u_ben",
            "address-book entry 'desk' on ethereum",
        ),
    ]
    payload = rows[0].payload if isinstance(rows[0].payload, dict) else json.loads(rows[0].payload)
    assert payload == {
        "action": "add",
        "chain": "ethereum",
        "address": "0xAb",
        "label": "desk",
        "owner_kind": "partner",
        "tiers": ["cold", "hot"],
    }
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "a7b8c9d0e1f2")
        back = conn.execute(
            text("SELECT id, status, approver, proposer FROM address_book_proposals ORDER BY id")
        ).all()
        left = conn.execute(text("SELECT count(*) FROM identity_proposals")).scalar_one()
    assert [tuple(r) for r in back] == [
        ("abp_1", "pending", None, "user:u_ann"),
        ("abp_2", "rejected", "user:u_ben", "user:u_ann"),
    ]
    assert left == 0
