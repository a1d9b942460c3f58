"""key delegations

A legal entity's signing for a wallet delegated to another entity, from a start until an
end (``kinko custody delegations ...``): the key inventory counts a live delegation in an
entity's reach of the wallet's quorum, and nothing past its end.

Revision ID: e7f8a9b0c1d2
Revises: d4e5f6a7b8c9
Create Date: 2026-12-07 03:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import kinko.store.base

revision = "e7f8a9b0c1d2"
down_revision = "d4e5f6a7b8c9"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "key_delegations",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("wallet_id", sa.String(length=64), nullable=False),
        sa.Column("from_entity", sa.String(length=200), nullable=False),
        sa.Column("to_entity", sa.String(length=200), nullable=False),
        sa.Column("starts_at", kinko.store.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("ends_at", kinko.store.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("proposal", sa.String(length=64), nullable=True),
        sa.Column("created_at", kinko.store.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", kinko.store.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("revoked_by", sa.String(length=200), nullable=True),
        sa.Column("revoke_reason", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["wallet_id"], ["wallets.id"], name=op.f("fk_key_delegations_wallet_id_wallets")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_key_delegations")),
    )
    with op.batch_alter_table("key_delegations", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_key_delegations_wallet_id"), ["wallet_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("key_delegations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_key_delegations_wallet_id"))
    op.drop_table("key_delegations")
