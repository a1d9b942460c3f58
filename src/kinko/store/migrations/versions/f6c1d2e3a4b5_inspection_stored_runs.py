"""inspection stored runs

The runs Kinko keeps with their report files (issue #17, kinko.inspection.stored_runs):
``inspection_runs`` (who asked for which framework and period, the state, the report's
digest and audit entry; ``running_key`` unique while a run is in progress),
``inspection_artefacts`` (each file's bytes once, by SHA-256) and ``inspection_run_files``
(a run's files by kind: json, html, pdf, oscal, sig, proof).

Revision ID: f6c1d2e3a4b5
Revises: 0f834917f454
Create Date: 2026-12-07 05:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "f6c1d2e3a4b5"
down_revision = "0f834917f454"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "inspection_runs",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("framework", sa.String(length=8), nullable=False),
        sa.Column("period_from", sa.String(length=10), nullable=False),
        sa.Column("period_to", sa.String(length=10), nullable=False),
        sa.Column("formats", sa.String(length=64), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("running_key", sa.String(length=40), nullable=True),
        sa.Column("requested_by", sa.String(length=200), nullable=False),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("report", sa.String(length=200), nullable=True),
        sa.Column("digest", sa.String(length=64), nullable=True),
        sa.Column("audit_seq", sa.Integer(), nullable=True),
        sa.Column("summary", sa.JSON(), nullable=True),
        sa.Column("error", sa.String(length=2000), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inspection_runs")),
        sa.UniqueConstraint("running_key", name=op.f("uq_inspection_runs_running_key")),
    )
    op.create_table(
        "inspection_artefacts",
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.Column("stored_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("digest", name=op.f("pk_inspection_artefacts")),
    )
    op.create_table(
        "inspection_run_files",
        sa.Column("run_id", sa.String(length=40), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("media_type", sa.String(length=64), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["inspection_runs.id"],
            name=op.f("fk_inspection_run_files_run_id_inspection_runs"),
        ),
        sa.ForeignKeyConstraint(
            ["digest"],
            ["inspection_artefacts.digest"],
            name=op.f("fk_inspection_run_files_digest_inspection_artefacts"),
        ),
        sa.PrimaryKeyConstraint("run_id", "kind", name=op.f("pk_inspection_run_files")),
    )


def downgrade() -> None:
    op.drop_table("inspection_run_files")
    op.drop_table("inspection_artefacts")
    op.drop_table("inspection_runs")
