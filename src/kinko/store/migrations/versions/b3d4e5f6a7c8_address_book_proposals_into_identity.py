"""address-book proposals into identity's proposals

An address-book entry is proposed and approved on identity's one four-eyes mechanism
(kind ``address_book_entry``, kinko.policy.addressbook): the rows of
``address_book_proposals`` move into ``identity_proposals`` (ids, times and decisions
kept, so entries still name the proposal they came from; the proposer and approver
without their ``user:`` prefix, as identity stores people; a rejected proposal becomes a
refused one; the reason, which the old table did not keep, names the entry) and the table
goes.

Revision ID: b3d4e5f6a7c8
Revises: a7b8c9d0e1f2
Create Date: 2026-12-07 02:20:00
"""

from __future__ import annotations

import json

import sqlalchemy as sa
from alembic import op

import kinko.store.base

revision = "b3d4e5f6a7c8"
down_revision = "a7b8c9d0e1f2"
branch_labels = None
depends_on = None

KIND = "address_book_entry"


def _person(ref: str | None) -> str | None:
    return None if ref is None else ref.removeprefix("user:")


def _old_table() -> sa.TableClause:
    return sa.table(
        "address_book_proposals",
        sa.column("id", sa.String),
        sa.column("action", sa.String),
        sa.column("chain", sa.String),
        sa.column("address", sa.String),
        sa.column("label", sa.String),
        sa.column("owner_kind", sa.String),
        sa.column("tiers_allowed", sa.JSON),
        sa.column("proposer", sa.String),
        sa.column("status", sa.String),
        sa.column("approver", sa.String),
        sa.column("created_at", kinko.store.base.UTCDateTime(timezone=True)),
        sa.column("decided_at", kinko.store.base.UTCDateTime(timezone=True)),
        sa.column("expires_at", kinko.store.base.UTCDateTime(timezone=True)),
    )


def _new_table() -> sa.TableClause:
    return sa.table(
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


def upgrade() -> None:
    bind = op.get_bind()
    states = {"pending": "pending", "approved": "approved"}  # anything else was refused
    rows = [
        {
            "id": r.id,
            "kind": KIND,
            "payload": {
                "action": r.action,
                "chain": r.chain,
                "address": r.address,
                "label": r.label,
                "owner_kind": r.owner_kind,
                "tiers": sorted(r.tiers_allowed),
            },
            "proposer_id": _person(r.proposer),
            "state": states.get(r.status, "refused"),
            "reason": f"address-book entry {r.label!r} on {r.chain}",
            "created_at": r.created_at,
            "decided_by": _person(r.approver),
            "decided_at": r.decided_at,
            "expires_at": r.expires_at,
        }
        for r in bind.execute(sa.select(_old_table()))
    ]
    if rows:
        op.bulk_insert(_new_table(), rows)
    with op.batch_alter_table("address_book_proposals") as batch:
        batch.drop_index(batch.f("ix_address_book_proposals_status"))
    op.drop_table("address_book_proposals")


def downgrade() -> None:
    op.create_table(
        "address_book_proposals",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("chain", sa.String(length=32), nullable=False),
        sa.Column("address", sa.String(length=200), nullable=False),
        sa.Column("label", sa.String(length=200), nullable=False),
        sa.Column("owner_kind", sa.String(length=32), nullable=False),
        sa.Column("tiers_allowed", sa.JSON(), nullable=False),
        sa.Column("proposer", sa.String(length=200), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("approver", sa.String(length=200), nullable=True),
        sa.Column("created_at", kinko.store.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("decided_at", kinko.store.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("expires_at", kinko.store.base.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_address_book_proposals")),
    )
    with op.batch_alter_table("address_book_proposals") as batch:
        batch.create_index(batch.f("ix_address_book_proposals_status"), ["status"])
    bind = op.get_bind()
    new = _new_table()
    moved = bind.execute(sa.select(new).where(new.c.kind == KIND)).mappings()
    rows = []
    for r in list(moved):
        payload = r["payload"] if isinstance(r["payload"], dict) else json.loads(r["payload"])
        rows.append(
            {
                "id": r["id"],
                "action": payload["action"],
                "chain": payload["chain"],
                "address": payload["address"],
                "label": payload["label"],
                "owner_kind": payload["owner_kind"],
                "tiers_allowed": list(payload["tiers"]),
                "proposer": f"user:{r['proposer_id']}",
                "status": "rejected" if r["state"] == "refused" else r["state"],
                "approver": f"user:{r['decided_by']}" if r["decided_by"] else None,
                "created_at": r["created_at"],
                "decided_at": r["decided_at"],
                "expires_at": r["expires_at"],
            }
        )
    if rows:
        op.bulk_insert(_old_table(), rows)
    bind.execute(sa.text("DELETE FROM identity_proposals WHERE kind = :kind"), {"kind": KIND})
