"""an alert's assignee

Triage assigns an alert to the person who works on it (``kinko monitor alerts assign``,
``POST /v1/alerts/{id}/assign``): who, by whom and when. Alerts raised before this
revision have no assignee.

Revision ID: d4e5f6a7b8c9
Revises: c9e2f7a1d3b5
Create Date: 2026-12-07 02:55:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import kinko.store.base

revision = "d4e5f6a7b8c9"
down_revision = "c9e2f7a1d3b5"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("monitor_alerts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("assigned_to", sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column("assigned_by", sa.String(length=200), nullable=True))
        batch_op.add_column(
            sa.Column("assigned_at", kinko.store.base.UTCDateTime(timezone=True), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("monitor_alerts", schema=None) as batch_op:
        batch_op.drop_column("assigned_at")
        batch_op.drop_column("assigned_by")
        batch_op.drop_column("assigned_to")
