"""liability statements

Customer liabilities per account as custody's own record (issue #19,
kinko.custody.statements): dated statements imported from the exchange's ledger, their
per-asset totals and per-account balances; a reserves snapshot records the statement (or
the ledger file's digest) it was built from.

Revision ID: 0f834917f454
Revises: f6a7b8c9d0e1
Create Date: 2026-12-07 05:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0f834917f454"
down_revision = "f6a7b8c9d0e1"
branch_labels = None
depends_on = None


def upgrade() -> None:
    units = sa.String(length=78).with_variant(sa.Numeric(78, 0), "postgresql")
    op.create_table(
        "liability_statements",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("as_of", sa.DateTime(timezone=True), nullable=False),
        sa.Column("imported_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("imported_by", sa.String(length=200), nullable=False),
        sa.Column("source", sa.String(length=200), nullable=False),
        sa.Column("format", sa.String(length=8), nullable=False),
        sa.Column("digest", sa.LargeBinary(length=32), nullable=False),
        sa.Column("rows", sa.Integer(), nullable=False),
        sa.Column("holdings", sa.Integer(), nullable=False),
        sa.Column("audit_seq", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_liability_statements")),
    )
    op.create_index(
        op.f("ix_liability_statements_as_of"), "liability_statements", ["as_of"], unique=False
    )
    op.create_index(
        op.f("ix_liability_statements_digest"), "liability_statements", ["digest"], unique=False
    )
    op.create_table(
        "liability_totals",
        sa.Column("statement_id", sa.String(length=32), nullable=False),
        sa.Column("asset", sa.String(length=80), nullable=False),
        sa.Column("base_units", units, nullable=False),
        sa.Column("holders", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["statement_id"],
            ["liability_statements.id"],
            name=op.f("fk_liability_totals_statement_id_liability_statements"),
        ),
        sa.PrimaryKeyConstraint("statement_id", "asset", name=op.f("pk_liability_totals")),
    )
    op.create_table(
        "liability_balances",
        sa.Column("statement_id", sa.String(length=32), nullable=False),
        sa.Column("asset", sa.String(length=80), nullable=False),
        sa.Column("account", sa.String(length=200), nullable=False),
        sa.Column("base_units", units, nullable=False),
        sa.ForeignKeyConstraint(
            ["statement_id"],
            ["liability_statements.id"],
            name=op.f("fk_liability_balances_statement_id_liability_statements"),
        ),
        sa.PrimaryKeyConstraint(
            "statement_id", "asset", "account", name=op.f("pk_liability_balances")
        ),
    )
    with op.batch_alter_table("reserves_snapshots") as batch:
        batch.add_column(sa.Column("statement_id", sa.String(length=32), nullable=True))
        batch.add_column(sa.Column("source_digest", sa.LargeBinary(length=32), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("reserves_snapshots") as batch:
        batch.drop_column("source_digest")
        batch.drop_column("statement_id")
    op.drop_table("liability_balances")
    op.drop_table("liability_totals")
    op.drop_index(op.f("ix_liability_statements_digest"), table_name="liability_statements")
    op.drop_index(op.f("ix_liability_statements_as_of"), table_name="liability_statements")
    op.drop_table("liability_statements")
