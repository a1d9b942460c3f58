"""screening review cases

A name hit becomes a review case (issue #17, kinko.screening.cases): who asked, when, the
subject as given, the hits with their list entries and scores, the list versions and the
threshold; then a reviewer's decision (true_match / false_positive) with its reason. One
case per subject and set of list versions (``case_key``).

Revision ID: f6a7b8c9d0e1
Revises: e5f6a7b8c9d0
Create Date: 2026-12-07 05:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "f6a7b8c9d0e1"
down_revision = "e5f6a7b8c9d0"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "screening_cases",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("case_key", sa.String(length=64), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=500), nullable=False),
        sa.Column("dob", sa.String(length=10), nullable=True),
        sa.Column("nationality", sa.String(length=100), nullable=True),
        sa.Column("requested_by", sa.String(length=200), nullable=False),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("askers", sa.JSON(), nullable=False),
        sa.Column("hits", sa.JSON(), nullable=False),
        sa.Column("list_versions", sa.JSON(), nullable=False),
        sa.Column("threshold", sa.Float(), nullable=False),
        sa.Column("decision", sa.String(length=16), nullable=True),
        sa.Column("reason", sa.String(length=4000), nullable=True),
        sa.Column("decided_by", sa.String(length=200), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_screening_cases")),
        sa.UniqueConstraint("case_key", name=op.f("uq_screening_cases_case_key")),
    )
    op.create_index(op.f("ix_screening_cases_state"), "screening_cases", ["state"], unique=False)
    op.create_index(
        op.f("ix_screening_cases_requested_at"), "screening_cases", ["requested_at"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_screening_cases_requested_at"), table_name="screening_cases")
    op.drop_index(op.f("ix_screening_cases_state"), table_name="screening_cases")
    op.drop_table("screening_cases")
