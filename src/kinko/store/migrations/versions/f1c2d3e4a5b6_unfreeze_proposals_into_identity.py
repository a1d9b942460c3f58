"""unfreeze proposals into identity's proposals

Lifting a freeze is identity's one four-eyes mechanism (kind ``release_freeze``,
kinko.policy.freeze_release): the rows of ``unfreeze_proposals`` move into
``identity_proposals`` (ids, times, reasons and decisions kept; the proposer and approver
without their ``user:`` prefix, as identity stores people) and the table goes.

Revision ID: f1c2d3e4a5b6
Revises: e5a9c0d17b38
Create Date: 2026-12-07 00:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import kinko.store.base

revision = "f1c2d3e4a5b6"
down_revision = "e5a9c0d17b38"
branch_labels = None
depends_on = None

_STATES = {"pending": "pending", "approved": "approved"}  # anything else was refused


def _person(ref: str | None) -> str | None:
    return None if ref is None else ref.removeprefix("user:")


def upgrade() -> None:
    bind = op.get_bind()
    old = sa.table(
        "unfreeze_proposals",
        sa.column("id", sa.String),
        sa.column("freeze_id", sa.String),
        sa.column("proposer", sa.String),
        sa.column("reason", sa.String),
        sa.column("status", sa.String),
        sa.column("approver", sa.String),
        sa.column("created_at", kinko.store.base.UTCDateTime(timezone=True)),
        sa.column("decided_at", kinko.store.base.UTCDateTime(timezone=True)),
        sa.column("expires_at", kinko.store.base.UTCDateTime(timezone=True)),
    )
    freezes = sa.table(
        "freezes",
        sa.column("id", sa.String),
        sa.column("scope", sa.String),
        sa.column("target", sa.String),
    )
    new = sa.table(
        "identity_proposals",
        sa.column("id", sa.String),
        sa.column("kind", sa.String),
        sa.column("payload", sa.JSON),
        sa.column("proposer_id", sa.String),
        sa.column("state", sa.String),
        sa.column("reason", sa.String),
        sa.column("created_at", kinko.store.base.UTCDateTime(timezone=True)),
        sa.column("decided_by", sa.String),
        sa.column("decided_at", kinko.store.base.UTCDateTime(timezone=True)),
        sa.column("expires_at", kinko.store.base.UTCDateTime(timezone=True)),
    )
    scope_of = {r.id: (r.scope, r.target) for r in bind.execute(sa.select(freezes))}
    rows = []
    for r in bind.execute(sa.select(old)):
        scope, target = scope_of.get(r.freeze_id, (None, None))
        rows.append(
            {
                "id": r.id,
                "kind": "release_freeze",
                "payload": {"freeze_id": r.freeze_id, "scope": scope, "target": target},
                "proposer_id": _person(r.proposer),
                "state": _STATES.get(r.status, "refused"),
                "reason": r.reason,
                "created_at": r.created_at,
                "decided_by": _person(r.approver),
                "decided_at": r.decided_at,
                "expires_at": r.expires_at,
            }
        )
    if rows:
        op.bulk_insert(new, rows)
    with op.batch_alter_table("unfreeze_proposals") as batch:
        batch.drop_index(batch.f("ix_unfreeze_proposals_freeze_id"))
    op.drop_table("unfreeze_proposals")


def downgrade() -> None:
    op.create_table(
        "unfreeze_proposals",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("freeze_id", sa.String(length=64), nullable=False),
        sa.Column("proposer", sa.String(length=200), nullable=False),
        sa.Column("reason", sa.String(length=1000), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("approver", sa.String(length=200), nullable=True),
        sa.Column("created_at", kinko.store.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("decided_at", kinko.store.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("expires_at", kinko.store.base.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_unfreeze_proposals")),
    )
    with op.batch_alter_table("unfreeze_proposals") as batch:
        batch.create_index(batch.f("ix_unfreeze_proposals_freeze_id"), ["freeze_id"])
    bind = op.get_bind()
    moved = bind.execute(
        sa.text(
            "SELECT id, payload, proposer_id, state, reason, created_at, decided_by, "
            "decided_at, expires_at FROM identity_proposals WHERE kind = 'release_freeze'"
        )
    ).mappings()
    import json

    for r in list(moved):
        payload = r["payload"] if isinstance(r["payload"], dict) else json.loads(r["payload"])
        bind.execute(
            sa.text(
                "INSERT INTO unfreeze_proposals (id, freeze_id, proposer, reason, status, "
                "approver, created_at, decided_at, expires_at) VALUES (:id, :freeze, "
                ":proposer, :reason, :status, :approver, :created, :decided, :expires)"
            ),
            {
                "id": r["id"],
                "freeze": payload["freeze_id"],
                "proposer": f"user:{r['proposer_id']}",
                "reason": r["reason"],
                "status": r["state"],
                "approver": f"user:{r['decided_by']}" if r["decided_by"] else None,
                "created": r["created_at"],
                "decided": r["decided_at"],
                "expires": r["expires_at"],
            },
        )
    bind.execute(sa.text("DELETE FROM identity_proposals WHERE kind = 'release_freeze'"))
