"""governance register

The governance register of issue #16 point 3 (kinko.inspection.register): each version
of each record (append-only; the current one is the highest version of a kind and key),
and the files attached to records, stored once by SHA-256.

Revision ID: d8b4e2f91a6c
Revises: c3f1e8a27d54
Create Date: 2026-12-07 01:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import kinko.store.base

revision = "d8b4e2f91a6c"
down_revision = "c3f1e8a27d54"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "register_records",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("key", sa.String(length=1600), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("removed", sa.Boolean(), nullable=False),
        sa.Column("document", sa.JSON(), nullable=True),
        sa.Column("digest", sa.String(length=64), nullable=True),
        sa.Column("proposal_id", sa.String(length=40), nullable=False),
        sa.Column("proposed_by", sa.String(length=200), nullable=False),
        sa.Column("approved_by", sa.String(length=200), nullable=False),
        sa.Column("recorded_at", kinko.store.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("audit_seq", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_register_records")),
        sa.UniqueConstraint("kind", "key", "version", name=op.f("uq_register_records_kind")),
    )
    with op.batch_alter_table("register_records", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_register_records_kind"), ["kind"], unique=False)
    op.create_table(
        "register_attachments",
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("filename", sa.String(length=255), nullable=False),
        sa.Column("stored_at", kinko.store.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("stored_by", sa.String(length=200), nullable=False),
        sa.Column("audit_seq", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("sha256", name=op.f("pk_register_attachments")),
    )


def downgrade() -> None:
    op.drop_table("register_attachments")
    with op.batch_alter_table("register_records", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_register_records_kind"))
    op.drop_table("register_records")
