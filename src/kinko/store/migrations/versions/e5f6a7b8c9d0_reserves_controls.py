"""reserves controls

Proof of control of reserve addresses (issue #19, kinko.reserves.service): per snapshot
and customer wallet, its address and the address's signed statement for the snapshot.

Revision ID: e5f6a7b8c9d0
Revises: e7f8a9b0c1d2
Create Date: 2026-12-07 03:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import kinko.store.base

revision = "e5f6a7b8c9d0"
down_revision = "e7f8a9b0c1d2"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "reserves_controls",
        sa.Column("snapshot_id", sa.String(length=32), nullable=False),
        sa.Column("wallet_id", sa.String(length=64), nullable=False),
        sa.Column("chain", sa.String(length=32), nullable=False),
        sa.Column("address", sa.String(length=200), nullable=True),
        sa.Column("public_key", sa.LargeBinary(length=64), nullable=True),
        sa.Column("signature", sa.LargeBinary(length=65), nullable=True),
        sa.Column("attested_at", kinko.store.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("attested_by", sa.String(length=200), nullable=True),
        sa.Column("audit_seq", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["snapshot_id"],
            ["reserves_snapshots.id"],
            name=op.f("fk_reserves_controls_snapshot_id_reserves_snapshots"),
        ),
        sa.PrimaryKeyConstraint("snapshot_id", "wallet_id", name=op.f("pk_reserves_controls")),
    )


def downgrade() -> None:
    op.drop_table("reserves_controls")
