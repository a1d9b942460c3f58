"""four-eyes proposals expire

A proposal waiting for its second person (an identity proposal, an unfreeze proposal, an
address-book proposal) gets ``expires_at``: after it nobody can approve it
(kinko.identity.four_eyes, rule ``in_time``). Rows proposed before this revision have
none and never expire.

Revision ID: a41c7e5d9b20
Revises: 5ed2a2258c22
Create Date: 2026-12-06 21:45:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import kinko.store.base

revision = "a41c7e5d9b20"
down_revision = "5ed2a2258c22"
branch_labels = None
depends_on = None

TABLES = ("identity_proposals", "unfreeze_proposals", "address_book_proposals")


def upgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(
                sa.Column("expires_at", kinko.store.base.UTCDateTime(timezone=True), nullable=True)
            )


def downgrade() -> None:
    for table in reversed(TABLES):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column("expires_at")
