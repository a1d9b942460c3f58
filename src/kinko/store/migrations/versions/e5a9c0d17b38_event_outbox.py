"""event outbox

The transactional outbox (kinko.store.outbox): security events written with the
transaction that caused them, deleted once every subscriber took them, relayed by
``kinko serve`` when a process died in between.

Revision ID: e5a9c0d17b38
Revises: d8b4e2f91a6c
Create Date: 2026-12-07 00:05:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import kinko.store.base

revision = "e5a9c0d17b38"
down_revision = "d8b4e2f91a6c"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "event_outbox",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("events", sa.Text(), nullable=False),
        sa.Column("created_at", kinko.store.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_event_outbox")),
    )
    op.create_index(
        op.f("ix_event_outbox_created_at"), "event_outbox", ["created_at"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_event_outbox_created_at"), table_name="event_outbox")
    op.drop_table("event_outbox")
