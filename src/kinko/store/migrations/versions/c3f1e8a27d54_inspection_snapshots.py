"""inspection snapshots

The daily evidence snapshot of issue #16 (kinko.inspection.snapshot): one row per UTC
day, its canonical JSON compressed, its SHA-256 and the audit entry that holds it.

Revision ID: c3f1e8a27d54
Revises: a41c7e5d9b20
Create Date: 2026-12-07 00:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import kinko.store.base

revision = "c3f1e8a27d54"
down_revision = "a41c7e5d9b20"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "inspection_snapshots",
        sa.Column("day", sa.String(length=10), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("origin", sa.String(length=16), nullable=False),
        sa.Column("as_of", kinko.store.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("document", sa.LargeBinary(), nullable=False),
        sa.Column("recorded_at", kinko.store.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("recorded_by", sa.String(length=200), nullable=False),
        sa.Column("imported_from", sa.String(length=500), nullable=True),
        sa.Column("audit_seq", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("day", name=op.f("pk_inspection_snapshots")),
    )


def downgrade() -> None:
    op.drop_table("inspection_snapshots")
