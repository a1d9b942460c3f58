"""reserves snapshots

Proof of reserves (issue #19, kinko.reserves.service): each snapshot's nonce, secret and
roots digest, its per-asset roots with the reserves held, and the holdings proofs are
made from.

Revision ID: c9e2f7a1d3b5
Revises: b3d4e5f6a7c8
Create Date: 2026-12-07 02:05:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import kinko.store.base

revision = "c9e2f7a1d3b5"
down_revision = "b3d4e5f6a7c8"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "reserves_snapshots",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("day", sa.String(length=10), nullable=False),
        sa.Column("taken_at", kinko.store.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("nonce", sa.LargeBinary(length=16), nullable=False),
        sa.Column("secret", sa.LargeBinary(length=32), nullable=False),
        sa.Column("floor", sa.Integer(), nullable=False),
        sa.Column("roots_digest", sa.LargeBinary(length=32), nullable=False),
        sa.Column("passed", sa.Boolean(), nullable=False),
        sa.Column("audit_seq", sa.Integer(), nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reserves_snapshots")),
    )
    op.create_index(op.f("ix_reserves_snapshots_day"), "reserves_snapshots", ["day"], unique=False)
    op.create_table(
        "reserves_roots",
        sa.Column("snapshot_id", sa.String(length=32), nullable=False),
        sa.Column("asset", sa.String(length=80), nullable=False),
        sa.Column("height", sa.Integer(), nullable=False),
        sa.Column("root", sa.LargeBinary(length=32), nullable=False),
        sa.Column("total", kinko.store.base.BaseUnits(length=78), nullable=False),
        sa.Column("reserves", kinko.store.base.BaseUnits(length=78), nullable=False),
        sa.ForeignKeyConstraint(
            ["snapshot_id"],
            ["reserves_snapshots.id"],
            name=op.f("fk_reserves_roots_snapshot_id_reserves_snapshots"),
        ),
        sa.PrimaryKeyConstraint("snapshot_id", "asset", name=op.f("pk_reserves_roots")),
    )
    op.create_table(
        "reserves_holdings",
        sa.Column("snapshot_id", sa.String(length=32), nullable=False),
        sa.Column("asset", sa.String(length=80), nullable=False),
        sa.Column("account", sa.String(length=200), nullable=False),
        sa.Column("base_units", kinko.store.base.BaseUnits(length=78), nullable=False),
        sa.ForeignKeyConstraint(
            ["snapshot_id"],
            ["reserves_snapshots.id"],
            name=op.f("fk_reserves_holdings_snapshot_id_reserves_snapshots"),
        ),
        sa.PrimaryKeyConstraint(
            "snapshot_id", "asset", "account", name=op.f("pk_reserves_holdings")
        ),
    )
    op.create_index(
        "ix_reserves_holdings_account",
        "reserves_holdings",
        ["snapshot_id", "account"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_reserves_holdings_account", table_name="reserves_holdings")
    op.drop_table("reserves_holdings")
    op.drop_table("reserves_roots")
    op.drop_index(op.f("ix_reserves_snapshots_day"), table_name="reserves_snapshots")
    op.drop_table("reserves_snapshots")
